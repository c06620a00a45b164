"""What the ministry works through to complete the budget views: the review list of what
they could not classify, and the coverage of each classification.

The review list groups every unmapped figure of every activity's latest view by
classification, publisher and cause — the reason without the dates it names, so that one
missing plan or one missing location is one row, not one per day — with the US dollars
of each measure apart (a commitment and the disbursements that follow it are never
added up), and says what would fix it: a crosswalk key the ministry can decide (the
override's API path), a table to load, or what to ask the publisher for.

Coverage says, per classification, publisher and measure, how much of the money is mapped
`verified`, mapped `proposed`, not applicable, and unmapped.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, Select, func, select
from sqlalchemy.engine import Connection

from mappings.tables import Classification
from service.services.budget.export import ACTIVITY
from service.services.budget.storage import FIGURE, VIEW

_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_CROSSWALK = re.compile(r"crosswalk ([a-z][a-z-]*) ([^\s;()]+)(?: \(([a-z-]+)\))?")
_OVERRIDES_SHOWN = 20
# The DAC sector split is not an Ecuadorian table: its unmapped parts are already listed
# under the investment subsectors; a disbursement channel is a flag the publisher may
# give, nothing the ministry can map.
_NOT_REVIEWED = (Classification.sector.value, Classification.disbursement_channel.value)
STATUSES = ("verified", "proposed", "not-applicable", "unmapped")


class DateSpan(BaseModel):
    first: date
    last: date


class ReviewGroup(BaseModel):
    """Unmapped money of one classification, publisher and cause, and what would fix it."""

    classification: str
    reporting_org: str | None
    cause: str
    dates: DateSpan | None = None  # the dates the reasons named (e.g. no plan in force)
    amounts_usd: dict[str, Decimal]  # per measure: commitment, disbursement, budget, …
    figures: int
    activities: int
    fix: str
    overrides: list[str]  # the crosswalk keys to decide, as the override API's paths


class CoverageRow(BaseModel):
    """How one publisher's money of one measure is classified in one classification."""

    classification: str
    reporting_org: str | None
    measure: str
    amount_usd: Decimal
    amounts_usd: dict[str, Decimal]  # per status: verified, proposed, not-applicable, unmapped
    percent: dict[str, Decimal]  # the same as shares of `amount_usd`, to 0.1


@dataclass
class _Group:
    figures: int = 0
    activities: set[int] = field(default_factory=set)
    amounts: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    dates: set[date] = field(default_factory=set)
    rules: set[str] = field(default_factory=set)


def review_list(
    engine: Engine, *, classification: str | None = None, reporting_org: str | None = None
) -> list[ReviewGroup]:
    """The causes of unmapped money, the largest amount of one measure first."""
    statement = _latest(
        FIGURE.c.classification, FIGURE.c.reason, FIGURE.c.rule, FIGURE.c.measure,
        ACTIVITY.c.reporting_org_ref, VIEW.c.activity_id, FIGURE.c.amount_usd,
    ).where(FIGURE.c.code.is_(None), FIGURE.c.classification.not_in(_NOT_REVIEWED))
    statement = _chosen(statement, classification, reporting_org)
    groups: dict[tuple[str, str | None, str], _Group] = defaultdict(_Group)
    with engine.connect() as connection:
        for kind, reason, rule, measure, publisher, activity, amount in connection.execute(
            statement
        ):
            if not amount:
                continue  # nothing to allocate
            cause = _DATE.sub("…", reason or "")
            group = groups[kind, publisher, cause]
            group.figures += 1
            group.activities.add(activity)
            group.amounts[measure] += amount
            group.dates.update(date.fromisoformat(day) for day in _DATE.findall(reason or ""))
            group.rules.add(rule or "")
    items = [
        ReviewGroup(
            classification=kind, reporting_org=publisher, cause=cause,
            dates=DateSpan(first=min(group.dates), last=max(group.dates)) if group.dates
            else None,
            amounts_usd=dict(sorted(group.amounts.items())), figures=group.figures,
            activities=len(group.activities), fix=_fix(kind, cause, group.rules),
            overrides=_overrides(group.rules),
        )
        for (kind, publisher, cause), group in groups.items()
    ]
    return sorted(items, key=lambda item: (
        -max(item.amounts_usd.values()), item.classification, item.reporting_org or "",
        item.cause,
    ))


def coverage(
    connection: Connection, *, classification: str | None = None,
    reporting_orgs: Sequence[str] | None = None,
) -> list[CoverageRow]:
    """Per classification, publisher and measure: the money by status, and its shares."""
    statement = _latest(
        FIGURE.c.classification, ACTIVITY.c.reporting_org_ref, FIGURE.c.measure,
        FIGURE.c.status, FIGURE.c.code, FIGURE.c.amount_usd,
    ).where(FIGURE.c.classification != Classification.sector.value)
    statement = _chosen(statement, classification, None)
    if reporting_orgs is not None:
        statement = statement.where(ACTIVITY.c.reporting_org_ref.in_(reporting_orgs))
    totals: dict[tuple[str, str | None, str], dict[str, Decimal]] = defaultdict(
        lambda: dict.fromkeys(STATUSES, Decimal(0))
    )
    # added up here, in Decimal: exact on every database
    for kind, publisher, measure, status, code, amount in connection.execute(statement):
        bucket = status if code is not None and status in STATUSES else "unmapped"
        totals[kind, publisher, measure][bucket] += amount
    rows = []
    for (kind, publisher, measure), amounts in sorted(
        totals.items(), key=lambda item: (item[0][0], item[0][1] or "", item[0][2])
    ):
        total = sum(amounts.values(), Decimal(0))
        rows.append(CoverageRow(
            classification=kind, reporting_org=publisher, measure=measure, amount_usd=total,
            amounts_usd=amounts,
            percent={status: _percent(amount, total) for status, amount in amounts.items()},
        ))
    return rows


def _latest(*columns: Any) -> Select[Any]:
    """`columns` of the figures of every live activity's latest view."""
    latest = select(func.max(VIEW.c.id)).group_by(VIEW.c.activity_id)
    return (
        select(*columns)
        .join(VIEW, VIEW.c.id == FIGURE.c.view_id)
        .join(ACTIVITY, ACTIVITY.c.id == VIEW.c.activity_id)
        .where(VIEW.c.id.in_(latest), ACTIVITY.c.deleted_at.is_(None))
    )


def _chosen(
    statement: Select[Any], classification: str | None, reporting_org: str | None
) -> Select[Any]:
    if classification is not None:
        statement = statement.where(FIGURE.c.classification == classification)
    if reporting_org is not None:
        statement = statement.where(ACTIVITY.c.reporting_org_ref == reporting_org)
    return statement


def _percent(part: Decimal, whole: Decimal) -> Decimal:
    return Decimal(0) if not whole else (part * 100 / whole).quantize(Decimal("0.1"))


class Fix(StrEnum):
    """What would map a group of unmapped money (the review list's `fix`, by kind)."""

    load_plan = "load-plan"
    ask_locations = "ask-locations"
    add_receiver = "add-receiver"
    ask_publisher = "ask-publisher"
    override_unmapped_row = "override-unmapped-row"
    decide_rows = "decide-rows"
    review_table = "review-table"


FIXES = {
    Fix.load_plan: "Load the national development plan in force on these dates "
    "(mappings/data/classifications/plan-objectives.csv, with its crosswalk rows).",
    Fix.ask_locations: "Ask the publisher for its locations in Ecuador (administrative codes, "
    "names or coordinates), or for receivers that the entity catalogue places.",
    Fix.add_receiver: "Add the receiver to the entity catalogue "
    "(mappings/data/catalogues/ec-entities.csv), or ask the publisher for a "
    "receiver-org with its identifier.",
    Fix.ask_publisher: "Ask the publisher: {cause}",
    Fix.override_unmapped_row: "A crosswalk row leaves this money unmapped on purpose (its "
    "rationale is the cause); override the row to map it.",
    Fix.decide_rows: "Decide the crosswalk rows: put an override on each key listed.",
    Fix.review_table: "Review the {classification} table and its crosswalks.",
}


def fix_of(classification: str, cause: str, rules: Iterable[str]) -> Fix:
    """Which kind of fix would map this money: a table to load, a key to decide, or what
    to ask the publisher for."""
    if "national development plan" in cause:
        return Fix.load_plan
    if classification in (Classification.province.value, Classification.canton.value):
        return Fix.ask_locations
    if cause.startswith("receiver"):
        return Fix.add_receiver
    if "should publish" in cause:
        return Fix.ask_publisher
    keys = [match for rule in rules for match in _CROSSWALK.findall(rule)]
    if keys and all(status == "unmapped" for _, _, status in keys):
        return Fix.override_unmapped_row
    return Fix.decide_rows if keys else Fix.review_table


def _fix(classification: str, cause: str, rules: set[str]) -> str:
    return FIXES[fix_of(classification, cause, rules)].format(
        cause=cause, classification=classification)


def override_paths(rules: Iterable[str]) -> list[str]:
    """The crosswalk keys `rules` name, as the override API's paths (the first 20)."""
    return _overrides(set(rules))


def _overrides(rules: set[str]) -> list[str]:
    paths = sorted({
        f"/api/v1/mappings/crosswalks/{name}/keys/{key}"
        for rule in rules for name, key, _ in _CROSSWALK.findall(rule)
    })
    return paths[:_OVERRIDES_SHOWN]
