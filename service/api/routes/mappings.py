"""The mappings over HTTP: versions, crosswalks, and the ministry's overrides of their rows."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from mappings.tables import Classification
from service.api.deps import AdminPrincipal, EngineDep, ReaderOrPublisher, SessionDep
from service.api.routes.pushes import problem_responses
from service.api.routing import KeyFirstRoute
from service.services import mappings
from service.services.budget.review import CoverageRow, ReviewGroup, coverage, review_list
from service.services.mappings import (
    CrosswalkPublic,
    KeyPublic,
    MappingsPublic,
    OverrideIn,
)

# The key is checked before anything is said about a JSON body.
router = APIRouter(prefix="/api/v1/mappings", tags=["mappings"],
                   route_class=KeyFirstRoute)


def _key(key: str) -> tuple[str, ...]:
    return tuple(key.split("/"))


@router.get("", operation_id="get_mappings", responses=problem_responses(401, 403))
def get_mappings(session: SessionDep, _: ReaderOrPublisher) -> MappingsPublic:
    """The mapping version, and the version of every table and crosswalk it is made of."""
    return mappings.summary(session)


@router.get("/review", operation_id="get_mapping_review", responses=problem_responses(401, 403))
def get_mapping_review(
    engine: EngineDep, _: ReaderOrPublisher,
    classification: Annotated[Classification | None, Query()] = None,
    reporting_org: Annotated[str | None, Query(description="reporting-org/@ref")] = None,
) -> list[ReviewGroup]:
    """What the budget views could not classify, by classification, publisher and cause
    (the reason without its dates), with the US dollars of each measure apart and what
    would fix it (a table to load, crosswalk keys to decide, what to ask the publisher
    for): the ministry's review list, the largest amount first."""
    return review_list(
        engine, classification=classification and classification.value,
        reporting_org=reporting_org,
    )


@router.get(
    "/coverage", operation_id="get_mapping_coverage", responses=problem_responses(401, 403)
)
def get_mapping_coverage(
    engine: EngineDep, _: ReaderOrPublisher,
    classification: Annotated[Classification | None, Query()] = None,
    reporting_org: Annotated[str | None, Query(description="reporting-org/@ref")] = None,
) -> list[CoverageRow]:
    """Per classification, publisher and measure: the US dollars mapped `verified`,
    mapped `proposed`, not applicable and unmapped, and their shares."""
    with engine.connect() as connection:
        return coverage(
            connection, classification=classification and classification.value,
            reporting_orgs=None if reporting_org is None else [reporting_org],
        )


@router.get(
    "/crosswalks/{name}", operation_id="get_crosswalk",
    responses=problem_responses(401, 403, 404),
)
def get_crosswalk(name: str, session: SessionDep, _: ReaderOrPublisher) -> CrosswalkPublic:
    """A crosswalk's rows in effect: each `verified`, `proposed` or `unmapped`, with its
    rationale and source, from the file or from an override."""
    return mappings.crosswalk_public(session, name)


@router.get(
    "/crosswalks/{name}/keys/{key:path}", operation_id="get_crosswalk_key",
    responses=problem_responses(401, 403, 404, 422),
)
def get_crosswalk_key(
    name: str, key: str, session: SessionDep, _: ReaderOrPublisher
) -> KeyPublic:
    """One key's rows in effect (key parts joined by `/`, e.g. `1/12220`) and every
    decision taken on it."""
    return mappings.key_public(session, name, _key(key))


@router.put(
    "/crosswalks/{name}/keys/{key:path}", operation_id="put_crosswalk_key",
    responses=problem_responses(401, 403, 404, 422),
)
def put_crosswalk_key(
    name: str, key: str, body: OverrideIn, session: SessionDep, principal: AdminPrincipal
) -> KeyPublic:
    """Override a key's rows (admin): recorded with the organisation, key and time; views
    computed from now on use it (`iati-ec remap` recomputes the others)."""
    return mappings.put_override(session, principal, name, _key(key), body)


@router.delete(
    "/crosswalks/{name}/keys/{key:path}", operation_id="revert_crosswalk_key",
    responses=problem_responses(401, 403, 404, 422),
)
def revert_crosswalk_key(
    name: str, key: str, session: SessionDep, principal: AdminPrincipal,
    note: Annotated[str | None, Query(description="Why (kept with the decision)")] = None,
) -> KeyPublic:
    """Revert a key to the file's rows (admin), recorded like an override."""
    return mappings.revert_override(session, principal, name, _key(key), note)
