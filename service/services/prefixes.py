"""The identifier prefixes each organisation owns: registered, listed and removed by admins.

An organisation owns its own identifiers as prefixes from the moment the ministry vouches
for it: it registers the organisation, or gives it its first API key (`vouch`). Partners
registered from the participating-orgs of others' activities own none: anyone may name
anyone in an activity. An admin registers further prefixes (an office publishing under an
identifier of its own, a legacy prefix) and removes them; a transfer registers the one
identifier it gives (`service.services.transfers`). Each prefix belongs to one
organisation; who pushes what is decided by `service.services.push.ownership`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, Field
from sqlalchemy import Table
from sqlmodel import Session, col, select

from service.errors import DomainError
from service.identifiers import identifier_key, invisible, shown, within_limit
from service.models import IdentifierPrefix, Organisation, OrganisationRef, PrefixSource

if TYPE_CHECKING:
    from service.services.keys import Principal

PREFIX: Table = IdentifierPrefix.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Decider:
    """Who records a decision: an admin key's organisation, or the command line."""

    by: str
    key_id: int | None = None

    @classmethod
    def of(cls, principal: Principal) -> Decider:
        shown_as = ", ".join(sorted(principal.refs)) or f"organisation {principal.organisation_id}"
        return cls(shown_as, principal.api_key_id)


COMMAND_LINE = Decider("the command line")


class PrefixIn(BaseModel):
    """A prefix to register for an organisation, and why."""

    prefix: str = Field(min_length=1, examples=["XM-DAC-41114-EC"])
    reason: str = Field(min_length=3, description="Why: the evidence checked, a source")


class PrefixPublic(BaseModel):
    """A registered prefix: its organisation, how it came to own it, who registered it."""

    prefix: str
    organisation_id: int
    organisation: str
    source: PrefixSource
    reason: str | None
    registered_by: str
    registered_at: datetime


class InvalidPrefixError(DomainError):
    status: ClassVar[int] = 422
    code: ClassVar[str] = "identifier.invalid-prefix"
    title: ClassVar[str] = "Not an identifier prefix"


class PrefixTakenError(DomainError):
    status: ClassVar[int] = 409
    code: ClassVar[str] = "identifier.prefix-taken"
    title: ClassVar[str] = "Prefix registered already"

    def __init__(self, registered: PrefixPublic) -> None:
        super().__init__(
            f"{registered.prefix} is registered already, to {registered.organisation} "
            f"({registered.source.value}, {registered.registered_at:%Y-%m-%d}): remove it "
            "there first.", prefix=registered.prefix, organisation_id=registered.organisation_id,
        )


class PrefixNotFoundError(DomainError):
    status: ClassVar[int] = 404
    code: ClassVar[str] = "identifier.prefix-not-found"
    title: ClassVar[str] = "Unknown prefix"


def checked_prefix(prefix: str) -> str:
    """`prefix` without surrounding spaces, if it can be one; `InvalidPrefixError` if not."""
    given = prefix.strip()
    if not given or given.endswith("-") or not within_limit(given) or invisible(given):
        raise InvalidPrefixError(
            f"{shown(given)!r} is not an identifier prefix: give the organisation identifier "
            "the activity identifiers begin with, without the hyphen that follows it, in at "
            "most 500 bytes of UTF-8 and without control or invisible characters.",
            prefix=shown(given),
        )
    return given


def register_prefix(
    session: Session, *, organisation: Organisation, prefix: str, reason: str | None,
    decider: Decider, source: PrefixSource = PrefixSource.ministry,
) -> PrefixPublic:
    """Register `prefix` for `organisation`; `PrefixTakenError` if anyone has it already."""
    assert organisation.id is not None
    given = checked_prefix(prefix)
    taken = registered(session, given)
    if taken is not None:
        raise PrefixTakenError(taken)
    row = IdentifierPrefix(
        organisation_id=organisation.id, prefix=given, prefix_key=identifier_key(given),
        source=source, reason=reason, registered_by=decider.by,
        registered_by_key_id=decider.key_id,
    )
    session.add(row)
    session.flush()
    return _public(row, organisation.name)


def remove_prefix(session: Session, *, organisation: Organisation, prefix: str) -> PrefixPublic:
    """Remove `organisation`'s registered `prefix`: what it was."""
    found = registered(session, prefix) if within_limit(prefix.strip()) else None
    if found is None or found.organisation_id != organisation.id:
        raise PrefixNotFoundError(
            f"{organisation.name} has no registered prefix {shown(prefix.strip())}.",
            prefix=shown(prefix.strip()),
        )
    session.connection().execute(
        PREFIX.delete().where(PREFIX.c.prefix_key == identifier_key(prefix.strip()))
    )
    return found


def registered(session: Session, prefix: str) -> PrefixPublic | None:
    """The registration of `prefix` (compared in NFC), whoever's it is."""
    row = session.exec(
        select(IdentifierPrefix, Organisation.name)
        .join(Organisation, col(Organisation.id) == col(IdentifierPrefix.organisation_id))
        .where(IdentifierPrefix.prefix_key == identifier_key(prefix.strip()))
    ).first()
    return None if row is None else _public(*row)


def prefixes(session: Session, *, organisation_id: int | None = None) -> list[PrefixPublic]:
    """The registered prefixes (of one organisation, if given), in prefix order."""
    statement = select(IdentifierPrefix, Organisation.name).join(
        Organisation, col(Organisation.id) == col(IdentifierPrefix.organisation_id)
    )
    if organisation_id is not None:
        statement = statement.where(IdentifierPrefix.organisation_id == organisation_id)
    rows = session.exec(statement.order_by(col(IdentifierPrefix.prefix_key)))
    return [_public(row, name) for row, name in rows]


def vouch(session: Session, organisation: Organisation, *, decider: Decider,
          strict: bool) -> list[PrefixPublic]:
    """Register `organisation`'s own identifiers as its prefixes, unless they were already
    (once: an admin's removal of one stands). An identifier that is another organisation's
    prefix raises `PrefixTakenError` if `strict`, else stays that one's."""
    assert organisation.id is not None
    own = session.exec(select(IdentifierPrefix.id).where(
        IdentifierPrefix.organisation_id == organisation.id,
        IdentifierPrefix.source == PrefixSource.ref,
    )).first()
    if own is not None:
        return []
    refs = session.exec(
        select(OrganisationRef.ref).where(OrganisationRef.organisation_id == organisation.id)
        .order_by(col(OrganisationRef.id))
    ).all()
    made = []
    for ref in refs:
        try:
            given = checked_prefix(ref)
        except InvalidPrefixError:
            if strict:
                raise
            continue
        taken = registered(session, given)
        if taken is None:
            made.append(register_prefix(session, organisation=organisation, prefix=given,
                                        reason=None, decider=decider, source=PrefixSource.ref))
        elif strict and taken.organisation_id != organisation.id:
            raise PrefixTakenError(taken)
    return made


def _public(row: IdentifierPrefix, organisation: str) -> PrefixPublic:
    return PrefixPublic(
        prefix=row.prefix, organisation_id=row.organisation_id, organisation=organisation,
        source=PrefixSource(row.source), reason=row.reason, registered_by=row.registered_by,
        registered_at=row.registered_at,
    )
