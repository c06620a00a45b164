"""The security lens as the API gives it: its definition and the national security plan's
alignment (`mappings.lenses`), and the activities its keywords propose for review.

A proposal is a live activity whose title or descriptions hold a keyword of the lens but
none of whose money is in the lens's DAC sectors: the ministry reads it and decides
whether the donor's sectors miss security work. Proposals are listed, never counted:
the lens's money is only ever that of its DAC sectors (see `service.services.aggregates`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.engine import Connection

from mappings.amounts import Measure
from mappings.lenses import (
    Lens,
    folded_keywords,
    keyword_matches,
    lens_of,
    security_lens,
    security_policy,
)
from mappings.tables import Classification
from service.models.facets import ActivityText
from service.services.aggregates import Aggregates
from service.services.budget.storage import CURRENT
from service.services.coordination.decisions import not_excluded
from service.services.push.storage import ACTIVITY
from service.services.query import ActivityFilter, activity_conditions, live
from service.services.streaming import summed

TEXT = ActivityText.__table__  # type: ignore[attr-defined]
MAX_PROPOSALS = 500


class LensCodePublic(BaseModel):
    code: str
    vocabulary: str
    included: bool
    name_en: str
    name_es: str
    sources: list[str]
    rationale: str
    objective: str | None  # the plan objective it aligns with (counted codes only)
    alignment_status: str | None
    alignment_rationale: str | None


class ObjectivePublic(BaseModel):
    code: str
    number: int
    name_es: str
    name_en: str
    sources: list[str]
    confidence: str


class SecurityPolicyPublic(BaseModel):
    code: str
    name_es: str
    name_en: str
    valid_from: date
    valid_to: date
    sources: list[str]
    note: str
    version: str
    objectives: list[ObjectivePublic]


class SecurityLensPublic(BaseModel):
    """The security lens: version, the day it takes effect, its codes (counted or left
    out, with the reason and the plan objective each counted one aligns with), the
    keywords that only propose activities for review, and the plan."""

    lens: str
    version: str
    effective_from: date
    digest: str
    name_es: str
    name_en: str
    sources: list[str]
    note: str
    codes: list[LensCodePublic]
    keywords: list[str]
    policy: SecurityPolicyPublic


def definition() -> SecurityLensPublic:
    """The security lens and the plan it aligns with, as the data files give them."""
    lens, policy = security_lens(), security_policy()
    codes = []
    for code in lens.codes:
        aligned = policy.objective_of(code.code) if code.included else None
        codes.append(LensCodePublic(
            code=code.code, vocabulary=code.vocabulary, included=code.included,
            name_en=code.name_en, name_es=code.name_es, sources=list(code.sources),
            rationale=code.rationale, objective=aligned and aligned.objective,
            alignment_status=aligned and aligned.status,
            alignment_rationale=aligned and aligned.rationale))
    return SecurityLensPublic(
        lens=lens.lens, version=lens.version, effective_from=lens.effective_from,
        digest=lens.digest, name_es=lens.name_es, name_en=lens.name_en,
        sources=list(lens.sources), note=lens.note, codes=codes, keywords=list(lens.keywords),
        policy=SecurityPolicyPublic(
            code=policy.code, name_es=policy.name_es, name_en=policy.name_en,
            valid_from=policy.valid_from, valid_to=policy.valid_to,
            sources=list(policy.sources), note=policy.note, version=policy.version,
            objectives=[ObjectivePublic(
                code=o.code, number=o.number, name_es=o.name_es, name_en=o.name_en,
                sources=list(o.sources), confidence=o.confidence)
                for o in policy.objectives]),
    )


class Proposal(BaseModel):
    """An activity the lens's keywords found in, none of whose money is in its sectors."""

    iati_identifier: str
    reporting_org: str | None
    title: str | None
    keywords: list[str]


class Proposals(BaseModel):
    lens_version: str
    proposals: list[Proposal]
    truncated: bool


def proposals(connection: Connection, chosen: ActivityFilter) -> Proposals:
    """The live activities matching `chosen` that the keywords propose for review (at most
    `MAX_PROPOSALS`, by identifier)."""
    lens = security_lens()
    secured = select(CURRENT.c.activity_id).where(
        CURRENT.c.classification == Classification.sector.value,
        CURRENT.c.code.in_(sorted(lens.counted)), CURRENT.c.amount_cents != 0)
    statement = (
        select(ACTIVITY.c.iati_identifier, ACTIVITY.c.reporting_org_ref, ACTIVITY.c.title,
               TEXT.c.body)
        .join(TEXT, TEXT.c.activity_id == ACTIVITY.c.id)
        .where(live(ACTIVITY.c.id), ACTIVITY.c.id.not_in(secured),
               # the index's words are folded as the keywords are: a first sieve
               or_(*(TEXT.c.body.like(f"%{word}%") for word in folded_keywords())),
               *activity_conditions(chosen, dialect=connection.dialect.name))
        .order_by(ACTIVITY.c.iati_identifier)
    )
    found: list[Proposal] = []
    for identifier, reporter, title, body in connection.execute(statement):
        keywords = keyword_matches([body])
        if keywords:
            found.append(Proposal(iati_identifier=identifier, reporting_org=reporter,
                                  title=title, keywords=list(keywords)))
    return Proposals(lens_version=lens.version, proposals=found[:MAX_PROPOSALS],
                     truncated=len(found) > MAX_PROPOSALS)


@dataclass(frozen=True, slots=True)
class ObjectiveMoney:
    """The security money aligned with one objective of the plan (None: with none)."""

    objective: str | None
    amount_usd: Decimal
    codes: tuple[str, ...]


def by_objective(by_sector: Aggregates) -> list[ObjectiveMoney]:
    """The security money of `by_sector` (aggregates grouped by `sector` on the security
    side of the lens) by the plan objective its DAC code aligns with, in objective order,
    those aligned with none last: the same total, to the cent."""
    policy = security_policy()
    amounts: dict[str | None, Decimal] = defaultdict(Decimal)
    codes: dict[str | None, list[str]] = defaultdict(list)
    for row in by_sector.rows:
        code = row.group.get("sector")
        aligned = policy.objective_of(str(code)) if code is not None else None
        objective = aligned.objective if aligned is not None else None
        amounts[objective] += row.amount_usd
        codes[objective].append(str(code))
    order = [o.code for o in policy.objectives] + [None]
    return [ObjectiveMoney(objective, amounts[objective], tuple(codes[objective]))
            for objective in order if objective in amounts]


@dataclass(frozen=True, slots=True)
class ProvinceMoney:
    """One province's money (None: not placed) of the activities wholly on one side of the
    lens, and how many activities."""

    province: str | None
    security_usd: Decimal
    development_usd: Decimal
    activities: int


@dataclass(frozen=True, slots=True)
class ByProvince:
    """The province split of the activities whose money is wholly security or wholly
    development; the money of the activities split between the two, which cannot be
    placed in a province on either side, apart."""

    rows: list[ProvinceMoney]
    mixed_usd: Decimal
    mixed_activities: int


def by_province(
    connection: Connection, chosen: ActivityFilter, *, measure: Measure, year: int | None,
) -> ByProvince:
    """The crossing of the lens with provinces the budget view allows: each amount is
    split by sector and by province separately, so only an activity whose whole money (of
    `measure`, in `year` or all years) is on one side has its province split on that side.
    Gross: every report counted."""
    conditions: list[ColumnElement[bool]] = [
        CURRENT.c.measure == measure.value, not_excluded(CURRENT.c.activity_id)]
    if year is not None:
        conditions.append(CURRENT.c.year == year)
    matched = activity_conditions(chosen, dialect=connection.dialect.name)
    if matched:
        conditions.append(CURRENT.c.activity_id.in_(select(ACTIVITY.c.id).where(*matched)))
    sides: dict[int, dict[Lens, int]] = defaultdict(lambda: defaultdict(int))
    for activity, code, amount_cents in summed(
            connection, (CURRENT.c.activity_id, CURRENT.c.code), CURRENT.c.amount_cents,
            CURRENT.c.classification == Classification.sector.value, *conditions):
        sides[activity][lens_of(code)] += amount_cents
    whole = {activity: _side(found) for activity, found in sides.items()}
    mixed = [activity for activity, side in whole.items() if side is None]
    cents: dict[str | None, dict[Lens, int]] = defaultdict(lambda: defaultdict(int))
    counted: dict[str | None, set[int]] = defaultdict(set)
    for activity, code, amount in summed(
            connection, (CURRENT.c.activity_id, CURRENT.c.code), CURRENT.c.amount_cents,
            CURRENT.c.classification == Classification.province.value, *conditions):
        side = whole.get(activity)
        if side is not None:
            cents[code][side] += amount
            counted[code].add(activity)
    rows = [ProvinceMoney(code, _dollars(found[Lens.security]),
                          _dollars(found[Lens.development]), len(counted[code]))
            for code, found in sorted(cents.items(), key=lambda item: (
                item[0] is None, item[0] or ""))]
    return ByProvince(rows, _dollars(sum(sum(sides[a].values()) for a in mixed)), len(mixed))


def _side(found: dict[Lens, int]) -> Lens | None:
    """The side an activity's money is wholly on (None: split between both)."""
    if not found.get(Lens.security):
        return Lens.development
    return Lens.security if not found.get(Lens.development) else None


def _dollars(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def share(security: Decimal, total: Decimal) -> Decimal | None:
    """`security`'s percentage of `total`, to two decimals (None when there is no money)."""
    if not total:
        return None
    return (security * 100 / total).quantize(Decimal("0.01"))


__all__ = ["ByProvince", "ObjectiveMoney", "Proposal", "Proposals", "ProvinceMoney",
           "SecurityLensPublic", "by_objective", "by_province", "definition", "proposals",
           "share"]
