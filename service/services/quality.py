"""Data quality per publisher, as the ministry needs it: what was pushed and refused, the
most frequent findings, how recent the data is and how complete the fields it relies on.

- **Pushes**: every push of the organisation (any key, API or CLI or sync), with the
  outcomes summed over them; `since` narrows them to those received on or after a date.
- **Findings**: the codes of the findings stored with the publisher's live activities
  (warnings that did not stop them), and of the findings that rejected activities in
  its pushes, most frequent first, each with how many activities carry it.
- **Timeliness**: days from the last push, and from the last change to an activity, to
  `today`; how many live activities were changed within 90 and 365 days, and the median
  age of the activities' own `last-updated-datetime`.
- **Completeness**: of the live activities, how many have a sector (their own or a
  transaction's), a location, a recipient country or region, transactions, a budget (or
  planned disbursement), results, and money placed in an Ecuadorian province by the
  budget view — each as a count and a percentage (two decimals).

With `ecuador` (the public pages), the live activities, their findings, timeliness and
completeness are those of the publisher's activities for Ecuador only
(`service.services.ecuador`); pushes, rejections and deletions stay the publisher's whole
record, since a rejected activity was never stored and a deleted one keeps no countries.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from statistics import median
from typing import Any, ClassVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, Table, case, func, or_, select
from sqlalchemy.engine import Connection

from service.errors import DomainError
from service.models import (
    Location,
    Organisation,
    OrganisationRef,
    PlannedDisbursement,
    Push,
    PushActivity,
    Result,
)
from service.services.budget.storage import CURRENT
from service.services.ecuador import IN_ECUADOR
from service.services.following import Follower
from service.services.ledger import BUDGET, TRANSACTION
from service.services.memo import remembered
from service.services.push.storage import ACTIVITY
from service.services.query import COUNTRY, REGION, SECTOR
from service.services.query import live as is_live
from service.services.streaming import in_batches

PUSH: Table = Push.__table__  # type: ignore[attr-defined]
OUTCOME: Table = PushActivity.__table__  # type: ignore[attr-defined]
LOCATION: Table = Location.__table__  # type: ignore[attr-defined]
PLANNED: Table = PlannedDisbursement.__table__  # type: ignore[attr-defined]
RESULT: Table = Result.__table__  # type: ignore[attr-defined]
ORGANISATION: Table = Organisation.__table__  # type: ignore[attr-defined]
ORG_REF: Table = OrganisationRef.__table__  # type: ignore[attr-defined]
OUTCOMES = ("created", "updated", "unchanged", "stale", "rejected", "deleted")
TOP_FINDINGS = 10
RECENT_DAYS = (90, 365)
COMPLETENESS = ("sector", "location", "recipient_country_or_region", "transactions", "budget",
                "results", "ecuador_province")


class PublisherNotFoundError(DomainError):
    status: ClassVar[int] = 404
    code: ClassVar[str] = "quality.unknown-publisher"
    title: ClassVar[str] = "Unknown publisher"


class PushSummary(BaseModel):
    pushes: int
    first_received_at: datetime | None
    last_received_at: datetime | None
    activities_seen: int
    outcomes: dict[str, int]


class FindingCount(BaseModel):
    code: str
    severity: str | None
    activities: int
    occurrences: int


class Timeliness(BaseModel):
    last_push_at: datetime | None
    days_since_last_push: int | None
    last_change_at: datetime | None
    days_since_last_change: int | None
    changed_within_days: dict[str, int]
    median_days_since_last_updated_datetime: Decimal | None


class Share(BaseModel):
    activities: int
    percent: Decimal


class PublisherQuality(BaseModel):
    organisation: str
    name: str
    refs: list[str]
    today: date
    since: date | None
    ecuador: bool = False  # activities for Ecuador only (pushes: the whole record)
    live_activities: int
    deleted_activities: int
    pushes: PushSummary
    findings: list[FindingCount]
    rejections: list[FindingCount]
    timeliness: Timeliness
    completeness: dict[str, Share]


@dataclass(frozen=True)
class Publisher:
    organisation_id: int
    ref: str
    name: str
    refs: list[str]


class PublisherHeadline(BaseModel):
    """One publisher's line in the overview of every publisher."""

    organisation: str
    name: str
    live_activities: int
    pushes: int
    rejected: int
    stale: int
    days_since_last_push: int | None
    days_since_last_change: int | None
    completeness_percent: dict[str, Decimal]


def publishers(connection: Connection) -> list[Publisher]:
    """Every organisation that has pushed a file or owns an activity, by name."""
    with_data = select(PUSH.c.organisation_id).union(select(ACTIVITY.c.organisation_id))
    rows = connection.execute(
        select(ORGANISATION.c.id, ORGANISATION.c.name)
        .where(ORGANISATION.c.id.in_(with_data)).order_by(ORGANISATION.c.name, ORGANISATION.c.id)
    ).all()
    refs = _refs(connection, [row.id for row in rows])
    return [
        Publisher(organisation_id=row.id, ref=(refs.get(row.id) or [""])[0], name=row.name,
                  refs=refs.get(row.id, []))
        for row in rows
    ]


def find_publisher(connection: Connection, ref: str) -> Publisher:
    """The registered organisation that `ref` (any of its identifiers) names."""
    found = connection.execute(
        select(ORGANISATION.c.id, ORGANISATION.c.name)
        .join(ORG_REF, ORG_REF.c.organisation_id == ORGANISATION.c.id)
        .where(ORG_REF.c.ref == ref.strip())
    ).first()
    if found is None:
        raise PublisherNotFoundError(
            f"No organisation has the identifier {ref!r}; GET /api/v1/publishers lists "
            "the publishers.", organisation=ref,
        )
    refs = _refs(connection, [found.id]).get(found.id, [])
    return Publisher(organisation_id=found.id, ref=ref.strip(), name=found.name, refs=refs)


def headline(quality: PublisherQuality) -> PublisherHeadline:
    return PublisherHeadline(
        organisation=quality.organisation, name=quality.name,
        live_activities=quality.live_activities, pushes=quality.pushes.pushes,
        rejected=quality.pushes.outcomes["rejected"], stale=quality.pushes.outcomes["stale"],
        days_since_last_push=quality.timeliness.days_since_last_push,
        days_since_last_change=quality.timeliness.days_since_last_change,
        completeness_percent={k: v.percent for k, v in quality.completeness.items()},
    )


def headlines(
    connection: Connection, *, today: date, since: date | None = None, ecuador: bool = False,
) -> list[PublisherHeadline]:
    """Every publisher's headline, by name: what `headline(publisher_quality(...))` gives
    for one, read for all of them in a few grouped queries."""
    listed = publishers(connection)
    live, last_change, completeness = remembered(
        connection, ("quality-overview", ecuador),
        lambda: _overview_of_activities(connection, ecuador))
    last_push: dict[int, datetime] = _by_organisation(connection, (
        select(PUSH.c.organisation_id, func.max(PUSH.c.received_at))
        .group_by(PUSH.c.organisation_id)
    ))
    pushes = {row[0]: row[1:] for row in connection.execute(
        select(PUSH.c.organisation_id, func.count(), func.coalesce(func.sum(PUSH.c.rejected), 0),
               func.coalesce(func.sum(PUSH.c.stale), 0))
        .where(*_received_since(since)).group_by(PUSH.c.organisation_id)
    )}
    lines = []
    for publisher in listed:
        key = publisher.organisation_id
        count, rejected, stale = pushes.get(key, (0, 0, 0))
        found = completeness.get(key, {})
        lines.append(PublisherHeadline(
            organisation=publisher.ref, name=publisher.name,
            live_activities=live.get(key, 0), pushes=count, rejected=int(rejected),
            stale=int(stale), days_since_last_push=_days(today, last_push.get(key)),
            days_since_last_change=_days(today, last_change.get(key)),
            completeness_percent={name: _percent(found.get(name, 0), live.get(key, 0))
                                  for name in COMPLETENESS},
        ))
    return lines


def _overview_of_activities(
    connection: Connection, ecuador: bool,
) -> tuple[dict[int, int], dict[int, datetime], dict[int, dict[str, int]]]:
    """Per organisation: its live activities, its last change, its completeness counts
    (of its activities for Ecuador, with `ecuador`)."""
    organisation = ACTIVITY.c.organisation_id
    scope = _scope(ecuador)
    live = _by_organisation(connection, (
        select(organisation, func.count()).where(is_live(ACTIVITY.c.id), *scope)
        .group_by(organisation)
    ))
    last_change = _by_organisation(connection, (
        select(organisation, func.max(ACTIVITY.c.updated_at)).where(*scope)
        .group_by(organisation)
    ))
    return live, last_change, _completeness_counts(connection, None, ecuador)


def _scope(ecuador: bool) -> list[ColumnElement[bool]]:
    """The condition on `ACTIVITY` of the activities counted: those for Ecuador, or all."""
    return [ACTIVITY.c.id.in_(IN_ECUADOR)] if ecuador else []


def _by_organisation(connection: Connection, statement: Select[Any]) -> dict[int, Any]:
    return {row[0]: row[1] for row in connection.execute(statement)}


def _refs(connection: Connection, ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    statement = (select(ORG_REF.c.organisation_id, ORG_REF.c.ref)
                 .where(ORG_REF.c.organisation_id.in_(ids)).order_by(ORG_REF.c.id))
    for organisation_id, ref in connection.execute(statement):
        found.setdefault(organisation_id, []).append(ref)
    return found


def publisher_quality(
    connection: Connection, publisher: Publisher, *, today: date, since: date | None = None,
    ecuador: bool = False,
) -> PublisherQuality:
    """The quality report of `publisher` on `today` (pushes from `since` on, if given; of
    its activities for Ecuador, with `ecuador`).

    What is read from the activities and the pushes' outcomes (seconds for a publisher of
    100,000 activities) is kept until the store changes (`memo`); the pushes themselves
    and the registry's name and identifiers are read afresh each time."""
    kept = remembered(
        connection, ("publisher-quality", publisher.organisation_id, today, since, ecuador),
        lambda: _from_activities(connection, publisher, today, since, ecuador),
    )
    last_push = connection.execute(
        select(func.max(PUSH.c.received_at)).where(*_push_conditions(publisher, None))
    ).scalar_one()
    timeliness = kept.timeliness.model_copy(update={
        "last_push_at": last_push, "days_since_last_push": _days(today, last_push)})
    return kept.model_copy(update={
        "organisation": publisher.ref, "name": publisher.name, "refs": publisher.refs,
        "pushes": _pushes(connection, publisher, since), "timeliness": timeliness,
    })


def _from_activities(
    connection: Connection, publisher: Publisher, today: date, since: date | None,
    ecuador: bool,
) -> PublisherQuality:
    own = ACTIVITY.c.organisation_id == publisher.organisation_id
    scope = _scope(ecuador)
    live = connection.execute(
        select(func.count()).where(own, is_live(ACTIVITY.c.id), *scope)
    ).scalar_one()
    deleted = connection.execute(
        select(func.count()).where(own, ACTIVITY.c.deleted_at.is_not(None))
    ).scalar_one()
    return PublisherQuality(
        organisation=publisher.ref, name=publisher.name, refs=publisher.refs, today=today,
        since=since, ecuador=ecuador, live_activities=live, deleted_activities=deleted,
        pushes=PushSummary(pushes=0, first_received_at=None, last_received_at=None,
                           activities_seen=0, outcomes=dict.fromkeys(OUTCOMES, 0)),
        findings=_live_findings(connection, publisher, scope),
        rejections=_rejections(connection, publisher, since),
        timeliness=_timeliness(connection, publisher, today, scope),
        completeness=_completeness(connection, publisher, live, ecuador),
    )


def _push_conditions(publisher: Publisher, since: date | None) -> list[ColumnElement[bool]]:
    return [PUSH.c.organisation_id == publisher.organisation_id, *_received_since(since)]


def _received_since(since: date | None) -> list[ColumnElement[bool]]:
    if since is None:
        return []
    return [PUSH.c.received_at >= datetime.combine(since, datetime.min.time(), UTC)]


def _pushes(connection: Connection, publisher: Publisher, since: date | None) -> PushSummary:
    sums = [func.coalesce(func.sum(PUSH.c[name]), 0) for name in OUTCOMES]
    row = connection.execute(select(
        func.count(), func.min(PUSH.c.received_at), func.max(PUSH.c.received_at),
        func.coalesce(func.sum(PUSH.c.activities_seen), 0), *sums,
    ).where(*_push_conditions(publisher, since))).one()
    return PushSummary(
        pushes=row[0], first_received_at=row[1], last_received_at=row[2],
        activities_seen=int(row[3]),
        outcomes={name: int(value) for name, value in zip(OUTCOMES, row[4:], strict=True)},
    )


def _live_findings(
    connection: Connection, publisher: Publisher, scope: list[ColumnElement[bool]],
) -> list[FindingCount]:
    statement = select(ACTIVITY.c.findings).where(
        ACTIVITY.c.organisation_id == publisher.organisation_id, is_live(ACTIVITY.c.id), *scope
    )
    rows = in_batches(connection, statement, batch=2000)
    return _counted(findings for (findings,) in rows)


def _rejections(
    connection: Connection, publisher: Publisher, since: date | None
) -> list[FindingCount]:
    statement = (
        select(OUTCOME.c.findings).join(PUSH, PUSH.c.id == OUTCOME.c.push_id)
        .where(*_push_conditions(publisher, since), OUTCOME.c.outcome == "rejected")
    )
    rows = in_batches(connection, statement, batch=2000)
    return _counted(
        [f for f in findings if f.get("severity") in ("critical", "error")]
        for (findings,) in rows
    )


def _counted(per_activity: Any) -> list[FindingCount]:
    """The finding codes of each activity's list, most frequent first."""
    occurrences: Counter[str] = Counter()
    activities: Counter[str] = Counter()
    severity: dict[str, str | None] = {}
    for findings in per_activity:
        codes = [f.get("code") or "" for f in findings or []]
        occurrences.update(codes)
        activities.update(set(codes))
        for finding in findings or []:
            severity.setdefault(finding.get("code") or "", finding.get("severity"))
    ranked = sorted(activities, key=lambda code: (-activities[code], -occurrences[code], code))
    return [
        FindingCount(code=code, severity=severity.get(code), activities=activities[code],
                     occurrences=occurrences[code])
        for code in ranked[:TOP_FINDINGS]
    ]


def _timeliness(
    connection: Connection, publisher: Publisher, today: date, scope: list[ColumnElement[bool]],
) -> Timeliness:
    """Timeliness read from the activities (those in `scope`); the last push is the
    caller's to fill in."""
    own = [ACTIVITY.c.organisation_id == publisher.organisation_id, *scope]
    last_change = connection.execute(
        select(func.max(ACTIVITY.c.updated_at)).where(*own)
    ).scalar_one()
    now = datetime.combine(today, datetime.max.time(), UTC)
    within = {
        str(days): connection.execute(select(func.count()).where(
            *own, is_live(ACTIVITY.c.id), ACTIVITY.c.updated_at >= now - timedelta(days)
        )).scalar_one()
        for days in RECENT_DAYS
    }
    stamps = select(ACTIVITY.c.last_updated_datetime).where(
        *own, is_live(ACTIVITY.c.id), ACTIVITY.c.last_updated_datetime.is_not(None)
    )
    ages = [(today - stamp.date()).days for (stamp,) in connection.execute(stamps)]
    return Timeliness(
        last_push_at=None, days_since_last_push=None,
        last_change_at=last_change, days_since_last_change=_days(today, last_change),
        changed_within_days=within,
        median_days_since_last_updated_datetime=Decimal(str(median(ages))) if ages else None,
    )


def _days(today: date, moment: datetime | None) -> int | None:
    return None if moment is None else (today - moment.date()).days


def _completeness(
    connection: Connection, publisher: Publisher, live: int, ecuador: bool,
) -> dict[str, Share]:
    counts = _completeness_counts(connection, [publisher.organisation_id], ecuador)
    found = counts.get(publisher.organisation_id, {})
    return {
        name: Share(activities=found.get(name, 0), percent=_percent(found.get(name, 0), live))
        for name in COMPLETENESS
    }


def _completeness_counts(
    connection: Connection, organisation_ids: list[int] | None, ecuador: bool,
) -> dict[int, dict[str, int]]:
    """Per organisation (all of them when `organisation_ids` is None), how many live
    activities (for Ecuador, with `ecuador`) pass each completeness check: the kept flags
    (`FLAGS`) added up, and the province counted from the latest budget views, which only
    activities for Ecuador have."""
    wanted = None if organisation_ids is None else set(organisation_ids)
    chosen = frozenset(connection.execute(IN_ECUADOR).scalars()) if ecuador else None
    counts: dict[int, list[int]] = {}
    for activity, (organisation, flags) in FLAGS.current(connection, None).items():
        if chosen is not None and activity not in chosen:
            continue
        if wanted is None or organisation in wanted:
            row = counts.setdefault(organisation, [0] * len(OWN_CHECKS))
            for index, flag in enumerate(flags):
                row[index] += flag
    placed = (
        select(ACTIVITY.c.organisation_id, func.count(func.distinct(CURRENT.c.activity_id)))
        .join_from(CURRENT, ACTIVITY, ACTIVITY.c.id == CURRENT.c.activity_id)
        .where(CURRENT.c.classification == "province", CURRENT.c.code.is_not(None))
        .group_by(ACTIVITY.c.organisation_id)
    )
    if wanted is not None:
        placed = placed.where(ACTIVITY.c.organisation_id.in_(wanted))
    provinces = _by_organisation(connection, placed)
    return {
        organisation: {**dict(zip(OWN_CHECKS, row, strict=True)),
                       "ecuador_province": provinces.get(organisation, 0)}
        for organisation, row in counts.items()
    }


# The completeness checks an activity's own rows answer, in `COMPLETENESS` order; the
# province comes from its budget view, which `iati-ec remap` changes without a change.
OWN_CHECKS = COMPLETENESS[:-1]


def _flags(
    connection: Connection, conditions: list[ColumnElement[bool]], basis: None = None,
) -> dict[int, tuple[int, tuple[int, ...]]]:
    """The organisation of each activity meeting `conditions`, and 1 or 0 for each of
    `OWN_CHECKS` (what `FLAGS` keeps)."""
    probe = connection.dialect.name == "postgresql"

    def holds(table: Table) -> ColumnElement[bool]:
        """The activity has a row in `table`. On PostgreSQL, a probe per activity through
        the index on `activity_id`: it hashes an `IN (subquery)` only if the whole set fits
        in work_mem, and rescans it for every activity otherwise (minutes at 100,000
        activities and a million transactions). On SQLite, each set is built once."""
        if probe:
            return select(table.c.activity_id).where(
                table.c.activity_id == ACTIVITY.c.id).exists()
        return ACTIVITY.c.id.in_(select(table.c.activity_id))

    def among(*tables: Table) -> ColumnElement[bool]:
        return or_(*(holds(table) for table in tables))

    checks = [among(SECTOR), among(LOCATION), among(COUNTRY, REGION), among(TRANSACTION),
              among(BUDGET, PLANNED), among(RESULT)]
    assert len(checks) == len(OWN_CHECKS)
    statement = select(ACTIVITY.c.id, ACTIVITY.c.organisation_id,
                       *(case((check, 1), else_=0) for check in checks)).where(*conditions)
    return {row[0]: (row[1], tuple(row[2:])) for row in connection.execute(statement)}


# Each live activity's completeness flags, kept and followed through the read model's events.
FLAGS: Follower[tuple[int, tuple[int, ...]], None] = Follower(_flags)


def _percent(part: int, whole: int) -> Decimal:
    if whole == 0:
        return Decimal("0.00")
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
