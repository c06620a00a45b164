"""The registry of organisations over HTTP: search and profiles for readers; registering
and the ministry's merge decisions for admin keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from service.api.deps import AdminPrincipal, ReaderOrPublisher, ReadPrincipal, SessionDep
from service.api.routes.pushes import problem_responses
from service.api.routing import KeyFirstRoute
from service.models.base import LARGEST_ID
from service.services import organisations
from service.services.merges import MergeCandidate, MergePublic, merge, merge_candidates, merges
from service.services.organisations import OrganisationCreate, OrganisationPublic
from service.services.partners import OrganisationProfile, RegistryEntry, profile, search_registry
from service.services.prefixes import Decider

# The key is checked before anything is said about a JSON body.
router = APIRouter(prefix="/api/v1/organisations", tags=["organisations"],
                   route_class=KeyFirstRoute)


EcuadorQuery = Annotated[bool, Query(
    description="Count only the activities for Ecuador (EC a recipient country of the "
    "activity or of a transaction), and Ecuador's part of their money, as the public "
    "pages do")]


class RegistryPage(BaseModel):
    organisations: list[RegistryEntry]
    total: int
    limit: int
    offset: int


class MergeIn(BaseModel):
    merged: str = Field(description="Identifier (or registry id) of the entry merged away")
    into: str = Field(description="Identifier (or registry id) of the entry it becomes")
    reason: str = Field(min_length=3, description="Why: the evidence checked, a source")


@router.get("", operation_id="list_organisations", responses=problem_responses(401, 403))
def list_organisations(
    session: SessionDep, _: ReaderOrPublisher,
    q: Annotated[str | None, Query(
        description="Part of a name or identifier, accents and case aside")] = None,
    role: Annotated[str | None, Query(
        description="Registry role: donor, implementing_partner, government")] = None,
    type: Annotated[str | None, Query(description="OrganisationType code")] = None,
    participating_role: Annotated[str | None, Query(
        description="Takes part in live activities in this OrganisationRole (1–4)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=LARGEST_ID)] = 0,
    ecuador: EcuadorQuery = False,
) -> RegistryPage:
    """The registry's live entries (merged ones left out), by name, with their activities
    counted: those they report, and those they take part in by role (with `ecuador`, the
    entries involved in activities for Ecuador, which alone are counted)."""
    found, total = search_registry(
        session.connection(), q=q, role=role, type=type,
        participating_role=participating_role, limit=limit, offset=offset, ecuador=ecuador,
    )
    return RegistryPage(organisations=found, total=total, limit=limit, offset=offset)


@router.post(
    "", operation_id="create_organisation", status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 409),
)
def create_organisation(
    session: SessionDep, principal: AdminPrincipal, organisation: OrganisationCreate
) -> OrganisationPublic:
    """Register an organisation with its IATI identifiers, name, type and roles; each
    identifier is a prefix of the activity identifiers it owns."""
    created = organisations.register_organisation(
        session, refs=organisation.refs, name=organisation.name, type=organisation.type,
        roles=organisation.roles, decider=Decider.of(principal),
    )
    session.commit()
    assert created.id is not None
    refs = organisations.refs_of(session, [created.id])
    return organisations.public(created, refs[created.id])


@router.get(
    "/merge-candidates", operation_id="list_merge_candidates",
    responses=problem_responses(401, 403),
)
def list_merge_candidates(session: SessionDep, _: ReaderOrPublisher) -> list[MergeCandidate]:
    """Pairs of entries that look like one organisation, with the evidence (a folded name,
    a RUC in common), for the ministry to decide: nothing is merged without a decision."""
    return merge_candidates(session)


@router.get("/merges", operation_id="list_merges", responses=problem_responses(401, 403))
def list_merges(session: SessionDep, _: ReadPrincipal) -> list[MergePublic]:
    """Every recorded merge, the latest first: who, when, why, and what moved."""
    return merges(session)


@router.post(
    "/merges", operation_id="merge_organisations", status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 404, 409),
)
def merge_organisations(
    session: SessionDep, principal: AdminPrincipal, decision: MergeIn
) -> MergePublic:
    """Record that `merged` is the same organisation as `into`, and move its identifiers,
    names and mentions in activities there."""
    named = organisations.named_organisation
    recorded = merge(
        session, principal, merged=named(session, decision.merged),
        into=named(session, decision.into), reason=decision.reason.strip(),
    )
    session.commit()
    return recorded


@router.get(
    "/{organisation}", operation_id="get_organisation", responses=problem_responses(401, 403, 404)
)
def get_organisation(
    organisation: str, session: SessionDep, _: ReaderOrPublisher,
    ecuador: EcuadorQuery = False,
) -> OrganisationProfile:
    """One organisation (any of its identifiers, or its registry id): its activities,
    funders, money received and disbursed by who reported it, and provinces."""
    entry = organisations.named_organisation(session, organisation)
    assert entry.id is not None
    found = profile(session.connection(), entry.id, ecuador=ecuador)
    assert found is not None
    return found
