"""The registry of organisations over HTTP, for admin keys: list and register."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from service.api.deps import AdminPrincipal, SessionDep
from service.errors import PROBLEM
from service.models import OrganisationRole
from service.services import organisations
from service.services.organisations import OrganisationCreate, OrganisationPublic


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM: {}}}


AUTH_PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: _problem("No valid API key (`auth.invalid-key`)"),
    403: _problem("The key lacks the admin scope (`auth.insufficient-scope`)"),
}

router = APIRouter(prefix="/api/v1/organisations", tags=["organisations"])


@router.get("", operation_id="list_organisations", responses=AUTH_PROBLEMS)
def list_organisations(
    session: SessionDep,
    _: AdminPrincipal,
    role: Annotated[OrganisationRole | None, Query(description="Only this role")] = None,
) -> list[OrganisationPublic]:
    """The registered organisations, by name, with their identifiers and roles."""
    return organisations.list_organisations(session, role=role)


@router.post(
    "",
    operation_id="create_organisation",
    status_code=status.HTTP_201_CREATED,
    responses={
        **AUTH_PROBLEMS,
        409: _problem("An identifier is registered already (`organisation.duplicate-ref`)"),
    },
)
def create_organisation(
    session: SessionDep, _: AdminPrincipal, organisation: OrganisationCreate
) -> OrganisationPublic:
    """Register an organisation with its IATI identifiers, name, type and roles."""
    created = organisations.register_organisation(
        session,
        refs=organisation.refs,
        name=organisation.name,
        type=organisation.type,
        roles=organisation.roles,
    )
    session.commit()
    assert created.id is not None
    refs = organisations.refs_of(session, [created.id])
    return organisations.public(created, refs[created.id])
