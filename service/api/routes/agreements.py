"""The ministry's cooperation agreements over HTTP: recorded with an admin key, read with
any key that reads the store, as every other answer of the API (the public pages show them
to anyone)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Response, status

from service.api.deps import AdminPrincipal, EngineDep, ReaderOrPublisher, RowIdPath, SessionDep
from service.api.routes.pushes import problem_responses
from service.api.routing import KeyFirstRoute
from service.services.agreements import records
from service.services.agreements.reading import (
    AgreementPublic,
    AgreementSummary,
    agreement_public,
    list_agreements,
)
from service.services.agreements.records import AgreementIn

# The key is checked before anything is said about a JSON body.
router = APIRouter(prefix="/api/v1/agreements", tags=["agreements"],
                   route_class=KeyFirstRoute)


def _today() -> datetime:
    return datetime.now(UTC)


@router.get("", operation_id="list_agreements")
def get_agreements(engine: EngineDep, _: ReaderOrPublisher) -> list[AgreementSummary]:
    """Every agreement the ministry has recorded, the latest signed first, with how many of
    its activities are stored and how many metrics it has."""
    with engine.connect() as connection:
        return list_agreements(connection)


@router.post(
    "", operation_id="create_agreement", status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 409, 422),
)
def create_agreement(
    given: AgreementIn, session: SessionDep, engine: EngineDep, _: AdminPrincipal,
) -> AgreementPublic:
    """Record an agreement (admin): its parties (registered organisations), the activities
    that implement it (any publisher's identifiers, linked whenever they are stored), the
    plan objectives it serves (of the plan in force when it was signed) and its metrics.
    Logged in the change feed as `agreement.created`. Anything refused (422
    `agreement.invalid`, each misfit with its location; 409 `agreement.duplicate-code`)
    records nothing."""
    created = records.create_agreement(session, given)
    session.commit()
    assert created.id is not None
    return _read(engine, created.id)


@router.get(
    "/{agreement_id}", operation_id="get_agreement", responses=problem_responses(404),
)
def get_agreement(
    agreement_id: RowIdPath, engine: EngineDep, _: ReaderOrPublisher
) -> AgreementPublic:
    """An agreement with its activities (present or awaited) and their money (Ecuador's
    part, in US dollars), its objectives with their names, and each metric's periods with
    progress computed as the results pages compute it."""
    return _read(engine, agreement_id)


@router.put(
    "/{agreement_id}", operation_id="update_agreement",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def update_agreement(
    agreement_id: RowIdPath, given: AgreementIn, session: SessionDep, engine: EngineDep,
    _: AdminPrincipal,
) -> AgreementPublic:
    """Replace an agreement with the one given (admin), its version one more; logged as
    `agreement.updated`. Refused as a creation is, changing nothing."""
    records.update_agreement(session, agreement_id, given)
    session.commit()
    return _read(engine, agreement_id)


@router.delete(
    "/{agreement_id}", operation_id="delete_agreement", status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404),
)
def delete_agreement(agreement_id: RowIdPath, session: SessionDep, _: AdminPrincipal) -> Response:
    """Remove an agreement (admin); logged as `agreement.deleted`."""
    records.delete_agreement(session, agreement_id)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _read(engine: EngineDep, agreement_id: int) -> AgreementPublic:
    with engine.connect() as connection:
        return agreement_public(connection, agreement_id, today=_today().date())
