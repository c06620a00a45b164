"""Who owns which activity identifiers, over HTTP: the identifier prefixes of an
organisation, and the transfers of an activity (named in the query, as every activity's
part: see `service.api.routes.activity`); admins register, remove and transfer."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from service.api.deps import AdminPrincipal, ReaderOrPublisher, SessionDep
from service.api.routes.activity import IdentifierQuery
from service.api.routes.pushes import problem_responses
from service.api.routing import KeyFirstRoute
from service.services import organisations
from service.services.prefixes import (
    Decider,
    PrefixIn,
    PrefixPublic,
    prefixes,
    register_prefix,
    remove_prefix,
)
from service.services.transfers import TransferIn, TransferPublic, transfer_activity, transfers

router = APIRouter(route_class=KeyFirstRoute)
PREFIXES = "/api/v1/organisations/{organisation}/identifier-prefixes"
TRANSFERS = "/api/v1/activity/transfers"


@router.get(PREFIXES, operation_id="list_identifier_prefixes", tags=["organisations"],
            responses=problem_responses(401, 403, 404))
def list_identifier_prefixes(
    organisation: str, session: SessionDep, _: ReaderOrPublisher
) -> list[PrefixPublic]:
    """The identifier prefixes the organisation owns (any of its identifiers, or its registry
    id): its own identifiers, those an admin registered, single identifiers transferred to
    it. It alone may push an activity whose identifier is a prefix or continues one after a
    hyphen, the longest registered prefix deciding."""
    entry = organisations.named_organisation(session, organisation)
    return prefixes(session, organisation_id=entry.id)


@router.post(PREFIXES, operation_id="register_identifier_prefix", tags=["organisations"],
             status_code=status.HTTP_201_CREATED,
             responses=problem_responses(401, 403, 404, 409, 422))
def register_identifier_prefix(
    organisation: str, session: SessionDep, principal: AdminPrincipal, registration: PrefixIn
) -> PrefixPublic:
    """Register a prefix of activity identifiers for the organisation (admin key); 409
    `identifier.prefix-taken` if another organisation, or this one, has it already."""
    entry = organisations.named_organisation(session, organisation)
    made = register_prefix(session, organisation=entry, prefix=registration.prefix,
                           reason=registration.reason.strip(), decider=Decider.of(principal))
    session.commit()
    return made


@router.delete(PREFIXES + "/{prefix:path}", operation_id="remove_identifier_prefix",
               tags=["organisations"], status_code=status.HTTP_204_NO_CONTENT,
               responses=problem_responses(401, 403, 404))
def remove_identifier_prefix(
    organisation: str, prefix: str, session: SessionDep, _: AdminPrincipal
) -> Response:
    """Remove one of the organisation's registered prefixes (admin key): the identifiers it
    covered fall under a shorter prefix, else to whoever stores them first."""
    entry = organisations.named_organisation(session, organisation)
    remove_prefix(session, organisation=entry, prefix=prefix)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(TRANSFERS, operation_id="transfer_activity", tags=["activities"],
             status_code=status.HTTP_201_CREATED,
             responses=problem_responses(401, 403, 404, 409, 422))
def transfer(
    iati_identifier: IdentifierQuery, session: SessionDep, principal: AdminPrincipal,
    decision: TransferIn,
) -> TransferPublic:
    """Transfer a stored activity, live or deleted, with its versions, to another
    organisation (admin key), citing a push as evidence if there is one; the identifier is
    that organisation's from then on, whatever prefixes say."""
    recorded = transfer_activity(
        session, identifier=iati_identifier,
        to=organisations.named_organisation(session, decision.to),
        reason=decision.reason.strip(), evidence_push=decision.evidence_push,
        decider=Decider.of(principal),
    )
    session.commit()
    return recorded


@router.get(TRANSFERS, operation_id="list_activity_transfers", tags=["activities"],
            responses=problem_responses(401, 403, 404))
def list_activity_transfers(
    iati_identifier: IdentifierQuery, session: SessionDep, _: ReaderOrPublisher
) -> list[TransferPublic]:
    """Every transfer of the activity between organisations, oldest first: the ministry's,
    and the takeovers by the owner of its identifier's prefix."""
    return transfers(session, iati_identifier)
