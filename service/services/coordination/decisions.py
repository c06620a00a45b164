"""The ministry's decisions on duplicate pairs, and the activities they exclude from aggregates.

A decision confirms a pair (the two are one activity) or dismisses it. It is recorded
with the organisation and API key that made it and when; a later decision on the same
pair supersedes it, and none is changed or deleted. A confirmed pair keeps one side —
the one the decision names in `keep`, else the one stored first — and excludes the other
from `GET /api/v1/aggregates` (`not_excluded`). A confirmed same-identifier pair excludes
nothing: only one of the two was ever stored.

A decision outlives its activities: when one side is deleted, the pair leaves the
duplicate report (which compares live activities) but its decisions stay, listed with
each side's state (`decided_pairs`). Once the kept side is deleted, the other is all that
remains of the activity, and the decision excludes it no longer (`excluding`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, func, or_, select, tuple_, update
from sqlalchemy.engine import Connection
from sqlmodel import Session

from service.errors import DomainError
from service.models import DuplicateDecision, DuplicateVerdict, utcnow
from service.readmodel.clock import record
from service.services.ecuador import IN_ECUADOR
from service.services.keys import Principal
from service.services.push.storage import ACTIVITY

DECISION = DuplicateDecision.__table__  # type: ignore[attr-defined]


class UnknownActivityError(DomainError):
    status: ClassVar[int] = 404
    code: ClassVar[str] = "coordination.unknown-activity"
    title: ClassVar[str] = "Unknown activity"


class BadDecisionError(DomainError):
    status: ClassVar[int] = 422
    code: ClassVar[str] = "coordination.bad-decision"
    title: ClassVar[str] = "Unusable decision"


@dataclass(frozen=True, slots=True)
class Pair:
    """Two activity identifiers in canonical (sorted) order."""

    a: str
    b: str

    @classmethod
    def of(cls, one: str, other: str) -> Pair:
        return cls(*sorted((one, other)))


class DecisionIn(BaseModel):
    a: str = Field(description="iati-identifier of one activity of the pair")
    b: str = Field(description="iati-identifier of the other (the same for a same-identifier "
                               "pair)")
    verdict: DuplicateVerdict
    keep: str | None = Field(default=None, description="Confirmed: the identifier to keep in "
                             "aggregates (default: the activity stored first)")
    note: str | None = None


class DecisionPublic(BaseModel):
    """One decision on a pair: who (organisation and key), when, and what it excludes."""

    id: int
    a: str
    b: str
    verdict: DuplicateVerdict
    keep: str | None
    excluded: str | None
    note: str | None
    organisation_id: int
    api_key_id: int | None
    decided_at: datetime
    superseded_at: datetime | None


class ActivityState(StrEnum):
    live = "live"
    deleted = "deleted"


class PairDecisions(BaseModel):
    """A pair's decision in effect and every decision taken on it, oldest first; whether
    each side is live or deleted now, and the side the aggregates leave out now."""

    a: str
    b: str
    a_state: ActivityState
    b_state: ActivityState
    excluding: str | None
    current: DecisionPublic
    history: list[DecisionPublic]


def decide(session: Session, principal: Principal, body: DecisionIn) -> PairDecisions:
    """Record `body` as the principal's decision on its pair, superseding the previous one."""
    pair = Pair.of(body.a.strip(), body.b.strip())
    connection = session.connection()
    stored = dict(connection.execute(
        select(ACTIVITY.c.iati_identifier, ACTIVITY.c.id)
        .where(ACTIVITY.c.iati_identifier.in_([pair.a, pair.b]))).all())
    unknown = [i for i in (pair.a, pair.b) if i not in stored]
    if unknown:
        raise UnknownActivityError(f"No activity {unknown[0]!r} is stored.", unknown=unknown)
    keep, excluded = _kept(pair, body, stored)
    now = utcnow()
    connection.execute(update(DECISION).where(*_same(pair), DECISION.c.superseded_at.is_(None))
                       .values(superseded_at=now))
    session.add(DuplicateDecision(
        identifier_a=pair.a, identifier_b=pair.b, verdict=body.verdict, keep=keep,
        excluded=excluded, note=body.note, organisation_id=principal.organisation_id,
        api_key_id=principal.api_key_id, decided_at=now,
    ))
    record(connection, "duplicate-decision", activities=stored.values(),
           details={"a": pair.a, "b": pair.b})
    session.commit()
    return pair_decisions(session.connection(), pair)


def _kept(pair: Pair, body: DecisionIn, stored: dict[str, int]) -> tuple[str | None, str | None]:
    """The identifiers kept and excluded by a decision."""
    if body.keep is not None and body.keep not in (pair.a, pair.b):
        raise BadDecisionError(f"keep must be {pair.a!r} or {pair.b!r}.", keep=body.keep)
    if body.verdict is DuplicateVerdict.dismissed:
        if body.keep is not None:
            raise BadDecisionError("A dismissed pair keeps both; give keep only to confirm.")
        return None, None
    if pair.a == pair.b:
        return pair.a, None
    keep = body.keep or min((pair.a, pair.b), key=lambda identifier: stored[identifier])
    return keep, pair.b if keep == pair.a else pair.a


def _same(pair: Pair) -> list[ColumnElement[bool]]:
    return [DECISION.c.identifier_a == pair.a, DECISION.c.identifier_b == pair.b]


def pair_decisions(connection: Connection, pair: Pair) -> PairDecisions:
    [found] = decided_pairs(connection, pairs=[pair])
    return found


def decided_pairs(
    connection: Connection, *, identifier: str | None = None,
    pairs: Sequence[Pair] | None = None, limit: int = 100, ecuador: bool = False,
) -> list[PairDecisions]:
    """The decided pairs (one side `identifier`, or those of `pairs`), the latest decided
    first: their decisions, each side's state and what they exclude now. With `ecuador`
    (the public pages), those of the first `limit` whose live sides are all for Ecuador."""
    chosen = select(DECISION.c.identifier_a, DECISION.c.identifier_b).group_by(
        DECISION.c.identifier_a, DECISION.c.identifier_b)
    if identifier is not None:
        chosen = chosen.where(or_(DECISION.c.identifier_a == identifier,
                                  DECISION.c.identifier_b == identifier))
    if pairs is not None:
        chosen = chosen.where(tuple_(DECISION.c.identifier_a, DECISION.c.identifier_b).in_(
            [(pair.a, pair.b) for pair in pairs]))
    latest = chosen.order_by(func.max(DECISION.c.id).desc()).limit(limit)
    found = [Pair(a, b) for a, b in connection.execute(latest)]
    history: dict[Pair, list[DecisionPublic]] = {pair: [] for pair in found}
    statement = select(DECISION).where(
        DECISION.c.identifier_a.in_({pair.a for pair in found}),
        DECISION.c.identifier_b.in_({pair.b for pair in found})).order_by(DECISION.c.id)
    for row in connection.execute(statement).mappings():
        decided = Pair(row["identifier_a"], row["identifier_b"])
        if decided in history:
            history[decided].append(_public(row))
    sides = select(ACTIVITY.c.iati_identifier).where(
        ACTIVITY.c.iati_identifier.in_({i for pair in found for i in (pair.a, pair.b)}),
        ACTIVITY.c.deleted_at.is_(None))
    live = set(connection.execute(sides).scalars())
    if ecuador:
        shown = set(connection.execute(sides.where(ACTIVITY.c.id.in_(IN_ECUADOR))).scalars())
        found = [pair for pair in found if {pair.a, pair.b} & live <= shown]
    return [_decisions(pair, history[pair], live) for pair in found]


def _decisions(pair: Pair, history: list[DecisionPublic], live: set[str]) -> PairDecisions:
    current = history[-1]
    excluding = current.excluded if (
        current.verdict is DuplicateVerdict.confirmed and current.keep in live) else None
    return PairDecisions(
        a=pair.a, b=pair.b, a_state=_state(pair.a, live), b_state=_state(pair.b, live),
        excluding=excluding, current=current, history=history,
    )


def _state(identifier: str, live: set[str]) -> ActivityState:
    return ActivityState.live if identifier in live else ActivityState.deleted


def active_decisions(connection: Connection) -> dict[Pair, DecisionPublic]:
    """The decision in effect on each decided pair."""
    rows = connection.execute(select(DECISION).where(DECISION.c.superseded_at.is_(None)))
    return {Pair(row["identifier_a"], row["identifier_b"]): _public(row) for row in rows.mappings()}


def _public(row: object) -> DecisionPublic:
    values = dict(row)  # type: ignore[call-overload]
    return DecisionPublic(a=values.pop("identifier_a"), b=values.pop("identifier_b"), **values)


def not_excluded(activity_id: ColumnElement[int]) -> ColumnElement[bool]:
    """The activity whose id is `activity_id` is not the excluded side of a confirmed
    duplicate whose kept side is live."""
    # The tombstones are read from the index on `deleted_at` (see `query.live`).
    tombstone = ACTIVITY.alias("tombstone")
    deleted = select(tombstone.c.iati_identifier).where(tombstone.c.deleted_at.is_not(None))
    excluded = select(DECISION.c.excluded).where(
        DECISION.c.superseded_at.is_(None),
        DECISION.c.verdict == DuplicateVerdict.confirmed.value,
        DECISION.c.excluded.is_not(None),
        DECISION.c.keep.not_in(deleted),
    )
    return activity_id.not_in(
        select(ACTIVITY.c.id).where(ACTIVITY.c.iati_identifier.in_(excluded))
    )
