"""The activity list: filters that hold at activity and transaction level, keyset pages.

A filter on sectors, recipient countries or regions matches an activity that has the
code at either level (its own element, or one of its transactions'), since both are rows
of the same query table. A 3-digit sector code matches its DAC category (vocabulary 2)
and every 5-digit code of it (vocabulary 1). Ecuador's classifications (province,
canton, plan objective, income ítem, fuente, orientación) match the activity's latest
budget view. `q` searches the titles and descriptions in every language (see
`service.search`). `ecuador` keeps the activities for Ecuador only (the public pages'
scope, see `service.services.ecuador`). Values of one filter are alternatives; different
filters must all hold.

Pages are cut by a keyset cursor — the last row's sort value and id — never by an
offset, so rows written while a client pages through cannot make it skip or repeat the
rows it has not reached.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel
from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    and_,
    any_,
    column,
    exists,
    func,
    literal_column,
    or_,
    select,
    table,
)
from sqlmodel import Session

from mappings.tables import Classification
from service.errors import DomainError
from service.models import ActivityText, ParticipatingOrg, RecipientCountry, RecipientRegion, Sector
from service.models.base import LARGEST_BIGINT, LARGEST_ID
from service.models.types import as_utc
from service.search import SQLITE_INDEX, Term, fts5_query, terms, tsquery
from service.services.budget.storage import CURRENT
from service.services.ecuador import IN_ECUADOR
from service.services.push.storage import ACTIVITY

SECTOR: Table = Sector.__table__  # type: ignore[attr-defined]
COUNTRY: Table = RecipientCountry.__table__  # type: ignore[attr-defined]
REGION: Table = RecipientRegion.__table__  # type: ignore[attr-defined]
PARTICIPANT: Table = ParticipatingOrg.__table__  # type: ignore[attr-defined]
TEXT: Table = ActivityText.__table__  # type: ignore[attr-defined]
FIELDS = (
    "iati_identifier", "reporting_org", "title", "activity_status", "humanitarian",
    "start_date", "end_date", "last_updated_datetime", "version", "updated_at",
)
# A list's `fields`: some of FIELDS, comma-separated, spaces around each allowed.
_FIELD = "(?:" + "|".join(FIELDS) + ")"
FIELDS_PATTERN = f"^ *{_FIELD} *(?:, *{_FIELD} *)*$"


class Sort(StrEnum):
    stored = "stored"  # the order activities were first stored in
    iati_identifier = "iati_identifier"
    updated_at = "updated_at"
    updated_at_desc = "-updated_at"


class UnknownFieldError(DomainError):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "query.unknown-field"
    title: ClassVar[str] = "Unknown field"


class BadCursorError(DomainError):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "query.bad-cursor"
    title: ClassVar[str] = "Unusable cursor"


@dataclass(frozen=True)
class ActivityFilter:
    """What a listed activity must match (empty: anything)."""

    reporting_org: Sequence[str] = ()
    participating_org: Sequence[str] = ()
    participating_role: str | None = None
    sector: Sequence[str] = ()
    recipient_country: Sequence[str] = ()
    recipient_region: Sequence[str] = ()
    activity_status: Sequence[str] = ()
    humanitarian: bool | None = None
    updated_since: datetime | None = None
    # On the effective dates (actual, else planned), both days included; `active_*`: the
    # activity's span overlaps the period (an activity without end date is still going).
    start_from: date | None = None
    start_to: date | None = None
    end_from: date | None = None
    end_to: date | None = None
    active_from: date | None = None
    active_to: date | None = None
    classified: dict[Classification, Sequence[str]] = field(default_factory=dict)
    q: str | None = None
    # Only the activities for Ecuador, as the public pages show them (EC a recipient
    # country of the activity or of a transaction, whatever else `recipient_country` asks).
    ecuador: bool = False


class ActivitySummary(BaseModel):
    iati_identifier: str
    reporting_org: str | None = None
    title: str | None = None
    activity_status: str | None = None
    humanitarian: bool | None = None
    start_date: date | None = None
    end_date: date | None = None
    last_updated_datetime: datetime | None = None
    version: int | None = None
    updated_at: datetime | None = None


class ActivityPage(BaseModel):
    """One page of the list; pass `next_cursor` back as `cursor` for the next (None: done)."""

    activities: list[dict[str, Any]]
    next_cursor: str | None


def list_activities(
    session: Session, chosen: ActivityFilter, *, sort: Sort = Sort.stored, limit: int = 100,
    cursor: str | None = None, fields: Sequence[str] = FIELDS,
) -> ActivityPage:
    """A page of the live activities that match `chosen`, in `sort` order."""
    statement = activities_statement(
        chosen, sort=sort, cursor=cursor, dialect=session.connection().dialect.name
    )
    rows = session.connection().execute(statement.limit(limit + 1)).mappings().all()
    page = [summary(row, fields) for row in rows[:limit]]
    following = None
    if len(rows) > limit:
        key, _ = _sort_column(sort)
        last = rows[limit - 1]
        following = _encode(sort, last[key.name], last["id"])
    return ActivityPage(activities=page, next_cursor=following)


def activities_statement(
    chosen: ActivityFilter, *, sort: Sort = Sort.stored, cursor: str | None = None,
    dialect: str, document: bool = False,
) -> Select[Any]:
    """The live activities that match `chosen` (after `cursor`), in `sort` order, with the
    columns of `summary` (and the stored `document` if asked)."""
    key, descending = _sort_column(sort)
    columns = [
        ACTIVITY.c.id, ACTIVITY.c.iati_identifier, ACTIVITY.c.reporting_org_ref,
        ACTIVITY.c.title, ACTIVITY.c.activity_status, ACTIVITY.c.humanitarian,
        ACTIVITY.c.start_date, ACTIVITY.c.end_date, ACTIVITY.c.last_updated_datetime,
        ACTIVITY.c.version, ACTIVITY.c.updated_at,
    ]
    conditions = activity_conditions(
        chosen, dialect=dialect, by_update=key is ACTIVITY.c.updated_at,
        arrays=dialect == "postgresql")
    statement = select(*columns, *([ACTIVITY.c.document] if document else [])).where(
        ACTIVITY.c.deleted_at.is_(None), *conditions,
    )
    if cursor is not None:
        statement = statement.where(_after(key, descending, _decode(cursor, sort)))
    order = (key.desc(), ACTIVITY.c.id.desc()) if descending else (key, ACTIVITY.c.id)
    return statement.order_by(*order)


def activity_conditions(
    chosen: ActivityFilter, *, dialect: str, transaction: Table | None = None,
    by_update: bool = False, arrays: bool = False,
) -> list[ColumnElement[bool]]:
    """Conditions on `ACTIVITY` (to be selected or joined) that hold when it matches.

    `by_update` says the rows are read in `updated_at` order: `updated_since` is then a
    plain range, which the index the rows are read through answers as it goes.

    `arrays` (for a page of a list on PostgreSQL) reads each set of matching ids first, as
    an array (see `_member`).

    With `transaction` (the transaction table, joined to its activity), sectors, recipient
    countries and regions are the transaction's own, else its activity's — IATI gives them
    at one level or the other.
    """
    found: list[ColumnElement[bool]] = []

    def has(table: Table, condition: ColumnElement[bool]) -> ColumnElement[bool]:
        if transaction is None:
            return _has(table, condition, arrays)
        return exists().where(
            or_(
                table.c.transaction_id == transaction.c.id,
                and_(table.c.activity_id == transaction.c.activity_id,
                     table.c.transaction_id.is_(None)),
            ),
            condition,
        )

    if chosen.q is not None:
        found.append(_searched(terms(chosen.q), dialect, arrays))
    if chosen.reporting_org:
        found.append(ACTIVITY.c.reporting_org_ref.in_(chosen.reporting_org))
    if chosen.activity_status:
        found.append(ACTIVITY.c.activity_status.in_(chosen.activity_status))
    if chosen.humanitarian is not None:
        found.append(ACTIVITY.c.humanitarian.is_(chosen.humanitarian))
    if chosen.updated_since is not None:
        since = as_utc(chosen.updated_since)
        found.append(ACTIVITY.c.updated_at >= since if by_update
                     else _own(lambda row: row.c.updated_at >= since, arrays))
    found += _dated(chosen)
    if chosen.participating_org or chosen.participating_role:
        found.append(_participant(chosen, arrays))
    if chosen.sector:
        found.append(has(SECTOR, or_(*(_sector(code) for code in chosen.sector))))
    if chosen.recipient_country:
        found.append(has(COUNTRY, COUNTRY.c.code.in_(chosen.recipient_country)))
    if chosen.recipient_region:
        found.append(has(REGION, REGION.c.code.in_(chosen.recipient_region)))
    if chosen.ecuador:  # of the activity, whatever the transaction listed
        found.append(_member(IN_ECUADOR, arrays))
    for classification, codes in chosen.classified.items():
        if codes:
            found.append(_classified(classification, codes, arrays))
    return found


def _dated(chosen: ActivityFilter) -> list[ColumnElement[bool]]:
    """The date filters, as one ``activity.id IN (…)`` read from the index on both dates
    (see `_own`): tested on each activity's own row, they read the whole row, which on
    SQLite holds the document (about 0.5 s for the activities running in a year, among
    100,000)."""

    def dated(row: Any) -> list[ColumnElement[bool]]:
        start, end = row.c.start_date, row.c.end_date
        found: list[ColumnElement[bool]] = []
        if chosen.start_from is not None:
            found.append(start >= chosen.start_from)
        if chosen.start_to is not None:
            found.append(start <= chosen.start_to)
        if chosen.end_from is not None:
            found.append(end >= chosen.end_from)
        if chosen.end_to is not None:
            found.append(end <= chosen.end_to)
        if chosen.active_to is not None:
            found.append(start <= chosen.active_to)
        if chosen.active_from is not None:
            found.append(or_(end.is_(None), end >= chosen.active_from))
        return found

    return [_own(lambda row: and_(*dated(row)))] if dated(ACTIVITY) else []


def _has(table: Any, condition: ColumnElement[bool], arrays: bool = False) -> ColumnElement[bool]:
    """The activity has a row of `table` (its own or a transaction's) meeting `condition`.

    Written as ``activity.id IN (…)``, not as a correlated EXISTS: the database finds the
    matching rows once through the index on `condition`'s column, instead of probing for
    each activity in turn (about 10 s at 100,000 activities for a code most of them lack).
    """
    return _member(select(table.c.activity_id).where(condition), arrays)


def _member(ids: Select[Any], arrays: bool) -> ColumnElement[bool]:
    """``activity.id IN (ids)``; with `arrays`, ``activity.id = ANY(ARRAY(ids))``.

    PostgreSQL plans `IN (…) ORDER BY … LIMIT n` as a walk in the sort's order, betting
    that the matches are spread evenly; the newest 10 % or a rare word are not, and a page
    read most of the table (0.1-0.3 s at 100,000). As an array, the ids are read first
    through their own index, and the page is fetched from them. Only for a page of a
    list: as a filter on a join, each row would search the array from its start."""
    if arrays:
        return ACTIVITY.c.id == any_(func.array(ids.scalar_subquery()))
    return ACTIVITY.c.id.in_(ids)


def live(activity_id: ColumnElement[int]) -> ColumnElement[bool]:
    """The activity whose id is `activity_id` is not deleted: its id is not among the
    tombstones', read from the index on `deleted_at`, which holds only those. Testing each
    row's `deleted_at` reads the whole row, which on SQLite holds the document (14 s for
    the 100,000 activities of one publisher, read cold)."""
    tombstone = ACTIVITY.alias("tombstone")
    return activity_id.not_in(
        select(tombstone.c.id).where(tombstone.c.deleted_at.is_not(None))
    )


def _own(
    condition: Callable[[Any], ColumnElement[bool]], arrays: bool = False,
) -> ColumnElement[bool]:
    """The activity meets `condition` on its own columns, written as ``activity.id IN
    (…)`` over another name for the table: the database reads the few matching ids from
    `condition`'s index and then fetches those rows in id order, instead of walking every
    live activity to test it (1.4 s for the newest 10 % of 100,000 activities)."""
    row = ACTIVITY.alias("own")
    return _member(select(row.c.id).where(condition(row)), arrays)


def _participant(chosen: ActivityFilter, arrays: bool) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = []
    if chosen.participating_org:
        conditions.append(PARTICIPANT.c.ref.in_(chosen.participating_org))
    if chosen.participating_role:
        conditions.append(PARTICIPANT.c.role == chosen.participating_role)
    return _has(PARTICIPANT, and_(*conditions), arrays)


def _sector(code: str) -> ColumnElement[bool]:
    if len(code) == 3 and code.isdigit():  # a DAC category: itself, or any code of it
        dac = or_(SECTOR.c.vocabulary.is_(None), SECTOR.c.vocabulary == "1")
        return or_(
            and_(SECTOR.c.vocabulary == "2", SECTOR.c.code == code),
            # The range lets the index on the code find them; LIKE alone would not.
            and_(dac, SECTOR.c.code.between(f"{code}00", f"{code}99"),
                 SECTOR.c.code.like(f"{code}__")),
        )
    return SECTOR.c.code == code


def _searched(found: list[Term], dialect: str, arrays: bool) -> ColumnElement[bool]:
    if dialect == "postgresql":
        vector = func.to_tsvector(literal_column("'simple'::regconfig"), TEXT.c.body)
        query = func.to_tsquery(literal_column("'simple'::regconfig"), tsquery(found))
        return _has(TEXT, vector.op("@@")(query), arrays)
    index = table(SQLITE_INDEX, column("rowid"))
    matched = select(index.c.rowid).where(
        literal_column(SQLITE_INDEX).op("MATCH")(fts5_query(found))
    )
    # The matched text rows' activities are read from the index on `activity_id`, which
    # also holds each row's id, in one pass (about 20 ms at 100,000): fetched one by one
    # from the table, whose rows hold the text, a common word read thousands of random
    # pages (0.4-2 s cold). SQLite's unary "+" keeps it from looking the ids up instead.
    return _has(TEXT, literal_column(f"+{TEXT.name}.id").in_(matched), arrays)


def _classified(
    classification: Classification, codes: Sequence[str], arrays: bool = False,
) -> ColumnElement[bool]:
    classified = select(CURRENT.c.activity_id).where(
        CURRENT.c.classification == classification.value, CURRENT.c.code.in_(codes),
    )
    return _member(classified, arrays)


def _sort_column(sort: Sort) -> tuple[Any, bool]:
    if sort is Sort.iati_identifier:
        return ACTIVITY.c.iati_identifier, False
    if sort in (Sort.updated_at, Sort.updated_at_desc):
        return ACTIVITY.c.updated_at, sort is Sort.updated_at_desc
    return ACTIVITY.c.id, False


def _after(key: Any, descending: bool, last: tuple[Any, int]) -> ColumnElement[bool]:
    value, key_id = last
    if key is ACTIVITY.c.id:
        return ACTIVITY.c.id > key_id  # type: ignore[no-any-return]
    if descending:
        return or_(key < value, and_(key == value, ACTIVITY.c.id < key_id))
    return or_(key > value, and_(key == value, ACTIVITY.c.id > key_id))


def _encode(sort: Sort, value: Any, key_id: int) -> str:
    shown = value.isoformat() if isinstance(value, datetime) else value
    raw = json.dumps([sort.value, shown, key_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, sort: Sort) -> tuple[Any, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        made_for, value, key_id = json.loads(raw)
        if made_for != sort.value or not cursor_value(value) or not row_id(key_id):
            raise ValueError(made_for)
        if sort in (Sort.updated_at, Sort.updated_at_desc):
            value = datetime.fromisoformat(value)
    except (ValueError, TypeError, RecursionError):
        raise BadCursorError(
            "This cursor was not made by this list with this sort; start again without one "
            "and pass each page's next_cursor back unchanged.", cursor=cursor,
        ) from None
    return value, key_id


def row_id(value: Any) -> bool:
    """Whether a cursor's `value` can be a row's id (an integer the id columns hold)."""
    return type(value) is int and 0 <= value <= LARGEST_ID


def cursor_value(value: Any) -> bool:
    """Whether a cursor's sort `value` is one a column could hold: nothing, text without
    U+0000, an integer of 64 bits or a finite number. A hand-made cursor with anything
    else is refused, never sent to the database."""
    if value is None:
        return True
    if isinstance(value, str):
        return "\x00" not in value
    if type(value) is int:
        return abs(value) <= LARGEST_BIGINT
    return type(value) is float and math.isfinite(value)


def summary(row: Any, fields: Sequence[str]) -> dict[str, Any]:
    """The listed form of an activity's row, with `fields` only."""
    shown = ActivitySummary(
        iati_identifier=row["iati_identifier"], reporting_org=row["reporting_org_ref"],
        title=row["title"], activity_status=row["activity_status"],
        humanitarian=row["humanitarian"], start_date=row["start_date"],
        end_date=row["end_date"], last_updated_datetime=row["last_updated_datetime"],
        version=row["version"], updated_at=row["updated_at"],
    ).model_dump(mode="json")
    return {name: shown[name] for name in fields}
