"""iati-ec as a secondary IATI publisher, public like a publisher's files: each donor's
activities in Ecuador as an IATI 2.03 activity file republished by the ministry, the index
of them shaped like the IATI Registry's API, and the ministry's organisation file."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Annotated, Any, ClassVar

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import StreamingResponse

from iati.writer import write_organisations
from service.api.conditional import not_modified, weak
from service.api.deps import EngineDep
from service.api.routes.provided import providers
from service.api.routes.pushes import problem_responses
from service.config import get_settings
from service.errors import DomainError
from service.services.provided import primary_ids
from service.services.publishing import (
    Dataset,
    Secondary,
    dataset,
    dataset_chunks,
    datasets,
    organisation_file,
    own_chunks,
    own_dataset,
    own_package,
    package,
)

router = APIRouter(prefix="/iati", tags=["publishing"])
XML = "application/xml"


class NoDatasetError(DomainError):
    status: ClassVar[int] = 404
    code: ClassVar[str] = "publishing.no-dataset"
    title: ClassVar[str] = "No such dataset"


@router.get("/datasets.json", operation_id="list_datasets")
def list_datasets(request: Request, engine: EngineDep) -> dict[str, Any]:
    """Every donor's dataset of activities in Ecuador, as the IATI Registry's API answers a
    `package_search`: CKAN package fields (name, title, licence, organisation, resources
    with URL and hash) and the Registry's IATI extras (activity count, country, file type,
    IATI version, data updated, secondary publisher)."""
    by = secondary()
    with engine.connect() as connection:
        found = datasets(connection)
        own = own_dataset(connection, primary_ids(connection, providers()), by)
    packages = [
        package(item, name=name, url=_url(request, item.publisher), by=by)
        for item, name in found
    ]
    if own is not None:
        url = str(request.url_for("get_provided_dataset"))
        packages.append(own_package(own, url=url, by=by))
    return {
        "help": "IATI datasets republished by a secondary reporter, as package_search answers",
        "success": True,
        "result": {"count": len(packages), "results": packages},
    }


@router.get(
    "/organisation.xml", operation_id="get_organisation_file",
    response_class=Response,
    responses={200: {"content": {XML: {}}, "description": "An IATI 2.03 organisation file"}},
)
def get_organisation_file(engine: EngineDep) -> Response:
    """The republishing organisation's IATI organisation file."""
    with engine.connect() as connection:
        changes = [item.last_modified for item, _ in datasets(connection)]
    generated = max(changes, default=None) or datetime.now(UTC).replace(microsecond=0)
    out = io.BytesIO()
    document = organisation_file(secondary(), generated=generated)
    write_organisations(document.organisations, out, file=document)
    return Response(out.getvalue(), media_type=XML)


def secondary() -> Secondary:
    """The organisation that republishes, from the settings."""
    settings = get_settings()
    return Secondary(
        ref=settings.publisher_ref, name=settings.publisher_name,
        type=settings.publisher_type, licence=settings.publisher_licence,
    )


@router.get(
    "/datasets/{publisher}/activities.xml", operation_id="get_dataset",
    response_class=StreamingResponse,
    responses={200: {"content": {XML: {}}, "description": "An IATI 2.03 activity file"},
               304: {"description": "Not modified"}, **problem_responses(404)},
)
def get_dataset(
    request: Request, engine: EngineDep,
    publisher: Annotated[str, Path(description="The reporting-org/@ref")],
) -> Response:
    """The publisher's live activities in Ecuador as one IATI 2.03 activity file, streamed,
    republished by the ministry as a secondary reporter; a weak ETag (its content hash) and
    Last-Modified answer conditional requests with 304."""
    with engine.connect() as connection:
        found = dataset(connection, publisher)
    if found is None:
        raise NoDatasetError(
            f"No live activity in Ecuador is reported by {publisher!r}; /iati/datasets.json "
            "lists the publishers.", publisher=publisher,
        )
    return _conditional_file(request, found, lambda: dataset_chunks(engine, found, secondary()))


@router.get(
    "/provided/activities.xml", operation_id="get_provided_dataset",
    response_class=StreamingResponse,
    responses={200: {"content": {XML: {}}, "description": "An IATI 2.03 activity file"},
               304: {"description": "Not modified"}, **problem_responses(404)},
)
def get_provided_dataset(request: Request, engine: EngineDep) -> Response:
    """The ministry's own dataset: the south-south and triangular cooperation Ecuador
    provides, as one IATI 2.03 activity file, streamed as the ministry reported it (a
    primary reporter); a weak ETag (its content hash) and Last-Modified answer conditional
    requests with 304."""
    by = secondary()
    with engine.connect() as connection:
        ids = primary_ids(connection, providers())
        found = own_dataset(connection, ids, by)
    if found is None:
        raise NoDatasetError(
            f"{by.ref} has published no cooperation provided by Ecuador.", publisher=by.ref,
        )
    return _conditional_file(request, found, lambda: own_chunks(engine, found, ids))


def _conditional_file(
    request: Request, found: Dataset, chunks: Callable[[], Iterator[bytes]]
) -> Response:
    """A dataset's file streamed from `chunks`, or 304 when the request's validators still
    match: a weak ETag of its content hash and its Last-Modified."""
    tag = f'"{found.content_hash}"'
    headers = {
        "ETag": weak(tag),
        "Last-Modified": format_datetime(found.last_modified, usegmt=True),
        "Cache-Control": "no-cache",
    }
    if not_modified(request, etag=tag, modified=found.last_modified):
        return Response(status_code=304, headers=headers)
    return StreamingResponse(chunks(), media_type=XML, headers=headers)


def _url(request: Request, publisher: str) -> str:
    return str(request.url_for("get_dataset", publisher=publisher))
