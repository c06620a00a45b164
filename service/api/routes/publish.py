"""iati-ec as an IATI publisher, public like a publisher's files: each reporting
organisation's dataset as an IATI 2.03 activity file, and the index of them."""

from __future__ import annotations

from email.utils import format_datetime
from typing import Annotated, ClassVar

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import StreamingResponse

from service.api.conditional import not_modified, weak
from service.api.deps import EngineDep
from service.api.routes.pushes import problem_responses
from service.errors import DomainError
from service.services.publishing import DatasetPublic, dataset, dataset_chunks, datasets

router = APIRouter(prefix="/iati", tags=["publishing"])
XML = "application/xml"


class NoDatasetError(DomainError):
    status: ClassVar[int] = 404
    code: ClassVar[str] = "publishing.no-dataset"
    title: ClassVar[str] = "No such dataset"


@router.get("/datasets.json", operation_id="list_datasets")
def list_datasets(request: Request, engine: EngineDep) -> list[DatasetPublic]:
    """Every publisher's dataset: its URL, activity count, content hash and last change."""
    with engine.connect() as connection:
        found = datasets(connection)
    return [
        DatasetPublic(
            publisher=item.publisher, publisher_name=name, url=_url(request, item.publisher),
            activities=item.activities, content_hash=item.content_hash,
            last_modified=item.last_modified,
        )
        for item, name in found
    ]


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
    """The publisher's live activities as one IATI 2.03 activity file, streamed; a weak
    ETag (its content hash) and Last-Modified answer conditional requests with 304."""
    with engine.connect() as connection:
        found = dataset(connection, publisher)
    if found is None:
        raise NoDatasetError(
            f"No live activity is reported by {publisher!r}; /iati/datasets.json lists the "
            "publishers.", publisher=publisher,
        )
    tag = f'"{found.content_hash}"'
    headers = {
        "ETag": weak(tag),
        "Last-Modified": format_datetime(found.last_modified, usegmt=True),
        "Cache-Control": "no-cache",
    }
    if not_modified(request, etag=tag, modified=found.last_modified):
        return Response(status_code=304, headers=headers)
    return StreamingResponse(dataset_chunks(engine, found), media_type=XML, headers=headers)


def _url(request: Request, publisher: str) -> str:
    return str(request.url_for("get_dataset", publisher=publisher))
