"""Whose an activity identifier is, as a push decides it (point 4 of the push policy).

1. An identifier under a registered prefix (`IdentifierPrefix`: an organisation's own
   identifiers, prefixes an admin registered for it, single identifiers a transfer gave it)
   belongs to the organisation of the longest such prefix; no other may push it
   (``push.identifier-of-another-organisation``), whoever stored it first.
2. An identifier under no registered prefix belongs to the organisation that stored it
   first, as long as its row (a tombstone too) lasts (``push.not-your-activity``).
3. When the owner of an identifier's prefix pushes it while another organisation holds it
   (stored it before the prefix was registered, or deleted it since), the push takes it
   over: the activity, with its versions, becomes the owner's, and a transfer of kind
   ``prefix`` is recorded. A tombstone is always taken over.
4. Not a live activity whose stored version names the pushing owner as its previous
   reporting organisation (``other-identifier`` of type ``B1``): that says the owner
   handed it over, and the ministry decides (``push.held-by-another-organisation``) by a
   transfer, which registers the identifier itself for the organisation it gives it to
   (rule 1, the longest prefix there can be).

A ``B1`` other-identifier a publisher writes itself is evidence, never proof: it is quoted
in the refusals and the ministry can cite it in a transfer, but it moves nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Table, bindparam, insert, select

from service.addresses import activity_url
from service.identifiers import covering_prefixes, covers, identifier_key
from service.models import (
    Activity,
    ActivityTransfer,
    IdentifierPrefix,
    Organisation,
    PrefixSource,
    TransferKind,
    utcnow,
)
from service.services.push.findings import PushCode, push_finding

ACTIVITY: Table = Activity.__table__  # type: ignore[attr-defined]
PREFIX: Table = IdentifierPrefix.__table__  # type: ignore[attr-defined]
ORGANISATION: Table = Organisation.__table__  # type: ignore[attr-defined]
TRANSFER: Table = ActivityTransfer.__table__  # type: ignore[attr-defined]
PREVIOUS_REPORTING_ORG = "B1"  # OtherIdentifierType: Previous Reporting Organisation Identifier
def _transfers(identifier: str) -> str:
    """Where an admin transfers activity `identifier`."""
    return "POST " + activity_url(identifier, "transfers")


PREFIXES_PATH = "POST /api/v1/organisations/{organisation}/identifier-prefixes"
_CLAIMS = (
    select(PREFIX.c.prefix_key, PREFIX.c.prefix, PREFIX.c.source, PREFIX.c.organisation_id,
           ORGANISATION.c.name)
    .join(ORGANISATION, ORGANISATION.c.id == PREFIX.c.organisation_id)
    .where(PREFIX.c.prefix_key.in_(bindparam("keys", expanding=True)))
)
_HOLDER = (
    select(ACTIVITY.c.document, ORGANISATION.c.name)
    .join(ORGANISATION, ORGANISATION.c.id == ACTIVITY.c.organisation_id)
    .where(ACTIVITY.c.id == bindparam("activity"))
)


@dataclass(frozen=True, slots=True)
class Publisher:
    """Who pushes: the organisation, its IATI identifiers, and the key used (if any)."""

    organisation_id: int
    refs: frozenset[str]
    api_key_id: int | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    """The longest registered prefix covering an identifier, and the organisation owning it."""

    prefix: str
    prefix_key: str
    source: PrefixSource
    organisation_id: int
    organisation: str


@dataclass(frozen=True, slots=True)
class Holder:
    """The organisation holding a stored activity, and who its stored version says reported
    it before (the refs of its ``B1`` other-identifiers)."""

    organisation_id: int
    name: str
    previous_reporting_orgs: tuple[str, ...]


class Stored(Protocol):
    """What the rules read of a stored activity (`storage.StoredState` has it)."""

    @property
    def id(self) -> int: ...
    @property
    def organisation_id(self) -> int: ...
    @property
    def deleted_at(self) -> datetime | None: ...


def ownership_refusal(
    connection: Connection, identifier: str, previous: Iterable[str], *,
    stored: Stored | None, publisher: Publisher, claim: Claim | None,
) -> dict[str, Any] | None:
    """The refusal of `publisher`'s push of `identifier` as another organisation's, by the
    rules above; None if it may be stored (taking it over, if another holds it).

    `previous` are the refs of the pushed activity's ``B1`` other-identifiers, `stored` the
    activity stored under the identifier, `claim` the registered prefix covering it."""
    mine = publisher.organisation_id
    if claim is not None and claim.organisation_id != mine:  # rule 1
        return claimed_by_another(
            identifier, claim, publisher=publisher,
            previous=names_owner(previous, claim, [claim.prefix]), stored=stored is not None,
            holds=stored is not None and stored.organisation_id == mine,
        )
    if stored is None or stored.organisation_id == mine:
        return None
    if claim is None:  # rule 2
        return not_yours(identifier)
    if claim.source is PrefixSource.transfer or stored.deleted_at is not None:
        return None  # rule 3: the ministry gave it; a tombstone never locks the owner out
    held = holder(connection, stored.id, stored.organisation_id)
    named = names_owner(held.previous_reporting_orgs, claim, publisher.refs)
    return held_by_another(identifier, held, named) if named else None  # rule 4, else 3


def claims(connection: Connection, keys: Iterable[str]) -> dict[str, Claim]:
    """The claim on each identifier of `keys` (NFC keys) that a registered prefix covers."""
    wanted = {key: covering_prefixes(key) for key in set(keys)}
    candidates = sorted({prefix for prefixes in wanted.values() for prefix in prefixes})
    if not candidates:
        return {}
    registered = {
        row.prefix_key: Claim(row.prefix, row.prefix_key, PrefixSource(row.source),
                              row.organisation_id, row.name)
        for row in connection.execute(_CLAIMS, {"keys": candidates})
    }
    found: dict[str, Claim] = {}
    for key, prefixes in wanted.items():
        claim = next((registered[p] for p in prefixes if p in registered), None)
        if claim is not None:
            found[key] = claim
    return found


def claim_of(connection: Connection, key: str) -> Claim | None:
    """The claim on the identifier of `key`, if a registered prefix covers it."""
    return claims(connection, [key]).get(key)


def holder(connection: Connection, activity_id: int, organisation_id: int) -> Holder:
    """The organisation holding the stored activity `activity_id`, from its stored version."""
    document, name = connection.execute(_HOLDER, {"activity": activity_id}).one()
    return Holder(organisation_id, name, previous_reporting_orgs(document or {}))


def previous_reporting_orgs(document: dict[str, Any]) -> tuple[str, ...]:
    """The refs of a stored document's ``B1`` other-identifiers."""
    return tuple(
        str(other["ref"]).strip() for other in document.get("other_identifiers") or []
        if (other.get("type") or "").strip() == PREVIOUS_REPORTING_ORG and other.get("ref")
    )


def names_owner(previous: Iterable[str], claim: Claim, owner_refs: Iterable[str]) -> list[str]:
    """The refs among `previous` that name the organisation of `claim`: one of its
    identifiers (`owner_refs`), or an identifier under the claimed prefix."""
    own = {identifier_key(ref) for ref in owner_refs}
    return [ref for ref in previous
            if identifier_key(ref) in own or covers(claim.prefix_key, identifier_key(ref))]


def claimed_by_another(
    identifier: str, claim: Claim, *, publisher: Publisher, previous: Iterable[str],
    stored: bool, holds: bool,
) -> dict[str, Any]:
    """The refusal of `publisher`'s push of `identifier`, which `claim` gives to another
    organisation.

    `previous` are the refs of the pushed activity's ``B1`` other-identifiers that name
    that organisation; `stored` says the identifier is stored, `holds` that the pusher
    stored it before the prefix was registered.
    """
    named = list(previous)
    own = min(publisher.refs, default="{organisation}")
    remedy = (f"to transfer it to you ({_transfers(identifier)})"
              if stored else f"to register it for you ({PREFIXES_PATH.format(organisation=own)})")
    if named:
        evidence = (
            f"Your activity names {', '.join(named)} as its previous reporting organisation "
            f"(other-identifier type B1): if {claim.organisation} handed it over to you, ask "
            f"the ministry {remedy}, citing this push."
        )
    else:
        evidence = (f"If it is yours, ask the ministry {remedy}; else publish it under an "
                    f"identifier that begins with your organisation's ({own}-…).")
    kept = (" You stored it before the prefix was registered; it is kept as it is, but only "
            f"{claim.organisation} may change it now.") if holds else ""
    return push_finding(
        PushCode.identifier_of_another_organisation,
        f"{identifier} falls under the identifier prefix {claim.prefix}, registered to "
        f"{claim.organisation}: only {claim.organisation} may publish it.{kept} {evidence}",
        activity=identifier, actual=claim.prefix,
    )


def held_by_another(identifier: str, held: Holder, named: list[str]) -> dict[str, Any]:
    """The refusal of the prefix owner's push of `identifier`, which `held` holds and
    whose stored version names the owner as its previous reporting organisation."""
    return push_finding(
        PushCode.held_by_another_organisation,
        f"{identifier} is held by {held.name}, whose stored version names {', '.join(named)} "
        "as its previous reporting organisation (other-identifier type B1): it says you "
        "handed the activity over. The ministry decides: if that is wrong, ask it to "
        f"transfer the activity to you ({_transfers(identifier)}), "
        "citing this push.",
        activity=identifier, actual=", ".join(named),
    )


def not_yours(identifier: str) -> dict[str, Any]:
    """The refusal of a push of `identifier`, stored by another organisation first."""
    return push_finding(
        PushCode.not_your_activity,
        f"{identifier} is published by another organisation; only it may change it. If it "
        "is yours, ask the ministry to transfer it to you "
        f"({_transfers(identifier)}).",
        activity=identifier,
    )


def record_takeover(
    connection: Connection, *, activity_id: int, identifier: str, version: int,
    held: Holder, claim: Claim, publisher: Publisher, push_id: str,
) -> dict[str, Any]:
    """Record that the push `push_id` of the prefix's owner took the activity over from
    `held`; the notice for the push's outcome."""
    reason = (f"{identifier} falls under the identifier prefix {claim.prefix}, registered to "
              f"{claim.organisation}, whose push took it over from {held.name}.")
    connection.execute(insert(TRANSFER), {
        "activity_id": activity_id, "iati_identifier": identifier,
        "from_organisation_id": held.organisation_id,
        "to_organisation_id": publisher.organisation_id, "version": version,
        "kind": TransferKind.prefix.value, "reason": reason,
        "evidence": [{"kind": "prefix", "prefix": claim.prefix, "source": claim.source.value}],
        "push_id": push_id, "decided_by_key_id": publisher.api_key_id,
        "decided_by": ", ".join(sorted(publisher.refs)) or "a push",
        "decided_at": utcnow(),
    })
    return push_finding(
        PushCode.taken_over,
        f"{reason} It is yours now, with its versions; its transfers are listed at "
        f"GET {activity_url(identifier, 'transfers')}.",
        activity=identifier, actual=claim.prefix,
    )
