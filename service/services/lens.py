"""The security lens as the API gives it: its definition and the national security plan's
alignment (`mappings.lenses`), and the activities its keywords propose for review.

A proposal is a live activity whose title or descriptions hold a keyword of the lens but
none of whose money is in the lens's DAC sectors: the ministry reads it and decides
whether the donor's sectors miss security work. Proposals are listed, never counted:
the lens's money is only ever that of its DAC sectors (see `service.services.aggregates`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.engine import Connection

from mappings.lenses import keyword_matches, security_lens, security_policy
from mappings.tables import Classification
from service.models.facets import ActivityText
from service.services.budget.storage import CURRENT
from service.services.push.storage import ACTIVITY
from service.services.query import ActivityFilter, activity_conditions, live

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


def share(security: Decimal, total: Decimal) -> Decimal | None:
    """`security`'s percentage of `total`, to two decimals (None when there is no money)."""
    if not total:
        return None
    return (security * 100 / total).quantize(Decimal("0.01"))


__all__ = ["Proposal", "Proposals", "SecurityLensPublic", "definition", "proposals", "share"]
