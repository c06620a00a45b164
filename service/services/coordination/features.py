"""What coordination compares of each live activity: titles, organisations, places, dates, money.

Read from the query tables and the latest budget views in a few streamed queries, never
from the whole stored documents (only their title and other-identifier parts), so that
the duplicate and overlap reports can read every activity of a large database. Money is
read from the transactions themselves, in US cents at their dates (stored with each
transaction, see `service.services.ledger`), so it compares for any country, and so are
the delivery chain's references: the activities and organisations a transaction names.

The facts of every live activity are kept per engine and brought up to date from the
read model's events (`FACTS`, see `service.services.following`): reading all of them takes
seconds at 100,000 activities; after a push, only the activities it changed are read again.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.engine import Connection

from service.models import Transaction
from service.search import fold
from service.services.budget.storage import CURRENT
from service.services.following import Follower, Kept, chunks, matching
from service.services.placeholders import placeholder_name, placeholder_ref
from service.services.push.storage import ACTIVITY
from service.services.query import COUNTRY, PARTICIPANT, SECTOR, ActivityFilter
from service.services.streaming import in_batches

IMPLEMENTING, FUNDING = "4", "1"  # OrganisationRole
INCOMING_TYPES = frozenset({"1", "11"})  # TransactionType: incoming funds, commitment
OUTGOING_TYPES = frozenset({"2", "3"})  # outgoing commitment, disbursement
TRANSACTION = Transaction.__table__  # type: ignore[attr-defined]
_WORD = re.compile(r"[^\W_]+")
# Words that say nothing about what an activity is, in the languages Ecuador's donors use.
_STOPWORDS = (
    "a al and as at by con da das de del des di do dos du e el en et for from in la las le "
    "les los of on or para pour por the to un una une y with project projet proyecto "
    "programa programme program"
)
STOPWORDS = frozenset(_STOPWORDS.split())


@dataclass(slots=True)
class Facts:
    """One live activity as coordination sees it (organisation keys: `org_key`)."""

    id: int
    identifier: str
    reporting_org: str | None
    title: str | None
    titles: list[str] = field(default_factory=list)
    other_identifiers: set[str] = field(default_factory=set)
    organisations: set[str] = field(default_factory=set)
    implementing: set[str] = field(default_factory=set)
    funders: set[str] = field(default_factory=set)
    sectors: set[str] = field(default_factory=set)
    countries: set[str] = field(default_factory=set)
    start: date | None = None
    end: date | None = None
    # Transactions as (type, date, US cents): what a re-report copies and an award's own
    # does not share; totals in US cents by transaction type.
    flows: set[tuple[str, date | None, int]] = field(default_factory=set)
    totals: dict[str, int] = field(default_factory=dict)
    # The delivery chain: the activities its incoming funds or commitments come from
    # (provider-activity-id) and its outgoing commitments or disbursements go to
    # (receiver-activity-id), and the organisations (keys) on either side.
    funded_by_activities: set[str] = field(default_factory=set)
    funding_activities: set[str] = field(default_factory=set)
    paid_by: set[str] = field(default_factory=set)
    paying: set[str] = field(default_factory=set)

    def tokens(self) -> frozenset[str]:
        """The meaningful words of all its titles, in every language."""
        return frozenset().union(*(title_tokens(t) for t in self.titles))


@lru_cache(maxsize=1 << 16)  # every title is compared with several others
def title_tokens(title: str) -> frozenset[str]:
    """`title`'s words folded (case, accents, punctuation gone), without stopwords."""
    return frozenset(
        w for w in _WORD.findall(fold(title)) if len(w) > 2 and w not in STOPWORDS)


def org_key(ref: str | None, name: str | None) -> str | None:
    """An organisation's key: its identifier, else its folded name (``name:…``)."""
    if ref and ref.strip():
        return ref.strip().upper()
    words = _WORD.findall(fold(name or ""))
    return "name:" + " ".join(words) if words else None


Everything = Kept[Facts]


def live_facts(connection: Connection, chosen: ActivityFilter | None = None) -> dict[int, Facts]:
    """The facts of every live activity (matching `chosen`, when given), by activity id.

    The dictionary and its facts are shared with other callers: read them, never change
    them."""
    everything = kept_facts(connection)
    return everything if chosen is None else matching(connection, everything, chosen)


def kept_facts(connection: Connection) -> Everything:
    """Every live activity's facts, kept and brought up to date (see the module)."""
    return FACTS.current(connection, None)


def _read(
    connection: Connection, conditions: list[ColumnElement[bool]], basis: None = None,
) -> dict[int, Facts]:
    """The facts of the activities meeting `conditions` (on no `basis`)."""
    rows = select(
        ACTIVITY.c.id, ACTIVITY.c.iati_identifier, ACTIVITY.c.reporting_org_ref,
        ACTIVITY.c.title, ACTIVITY.c.start_date, ACTIVITY.c.end_date,
        ACTIVITY.c.document["title"], ACTIVITY.c.document["other_identifiers"],
    ).where(*conditions).order_by(ACTIVITY.c.id)
    found: dict[int, Facts] = {}
    for row in in_batches(connection, rows):
        facts = Facts(row[0], row[1], row[2], row[3], start=row[4], end=row[5])
        facts.titles = [n["text"] for n in (row[6] or {}).get("narratives") or [] if n.get("text")]
        facts.other_identifiers = {o["ref"].strip() for o in row[7] or [] if o.get("ref")}
        found[facts.id] = facts
    _add_organisations(connection, found, conditions)
    _add_places(connection, found, conditions)
    _add_transactions(connection, found, conditions)
    return found


def _matching(conditions: list[ColumnElement[bool]]) -> Any:
    return select(ACTIVITY.c.id).where(*conditions)


def _add_organisations(
    connection: Connection, found: dict[int, Facts], conditions: list[ColumnElement[bool]]
) -> None:
    statement = select(
        PARTICIPANT.c.activity_id, PARTICIPANT.c.ref, PARTICIPANT.c.name, PARTICIPANT.c.role
    ).where(PARTICIPANT.c.activity_id.in_(_matching(conditions)))
    for activity, ref, name, role in in_batches(connection, statement):
        if placeholder_name(name) and (not ref or placeholder_ref(ref, [name or ""])):
            continue  # "Unspecified Vendors", "nan": no evidence of who
        key = org_key(None if placeholder_ref(ref, [name or ""]) else ref, name)
        if key is None or activity not in found:
            continue
        found[activity].organisations.add(key)
        if role == IMPLEMENTING:
            found[activity].implementing.add(key)
        elif role == FUNDING:
            found[activity].funders.add(key)


def _add_places(
    connection: Connection, found: dict[int, Facts], conditions: list[ColumnElement[bool]]
) -> None:
    """Sectors (DAC 5-digit or category codes) and recipient countries, at either level."""
    dac = SECTOR.c.vocabulary.is_(None) | SECTOR.c.vocabulary.in_(["1", "2"])
    sectors = select(SECTOR.c.activity_id, SECTOR.c.code).where(
        SECTOR.c.activity_id.in_(_matching(conditions)), dac, SECTOR.c.code.is_not(None))
    for activity, code in in_batches(connection, sectors):
        if activity in found:
            found[activity].sectors.add(code.strip())
    countries = select(COUNTRY.c.activity_id, COUNTRY.c.code).where(
        COUNTRY.c.activity_id.in_(_matching(conditions)), COUNTRY.c.code.is_not(None))
    for activity, code in in_batches(connection, countries):
        if activity in found:
            found[activity].countries.add(code.strip().upper())


def _add_transactions(
    connection: Connection, found: dict[int, Facts], conditions: list[ColumnElement[bool]]
) -> None:
    """Each activity's transactions in US cents (those without a rate are left out of the
    money, not of the chain) and the activities and organisations they name."""
    statement = select(
        TRANSACTION.c.activity_id, TRANSACTION.c.type, TRANSACTION.c.date,
        TRANSACTION.c.value_date, TRANSACTION.c.usd_cents, TRANSACTION.c.provider_ref,
        TRANSACTION.c.provider_activity_id, TRANSACTION.c.receiver_ref,
        TRANSACTION.c.receiver_activity_id,
    ).where(TRANSACTION.c.activity_id.in_(_matching(conditions)))
    for (activity, kind, day, value_day, cents, provider, provider_activity, receiver,
         receiver_activity) in in_batches(connection, statement):
        facts = found.get(activity)
        if facts is None:
            continue
        kind = (kind or "").strip()
        if cents is not None and kind:
            facts.flows.add((kind, value_day or day, cents))
            facts.totals[kind] = facts.totals.get(kind, 0) + cents
        if kind in INCOMING_TYPES:
            _chained(facts.funded_by_activities, facts.paid_by, facts, provider_activity,
                     provider)
        elif kind in OUTGOING_TYPES:
            _chained(facts.funding_activities, facts.paying, facts, receiver_activity,
                     receiver)


def _chained(
    activities: set[str], organisations: set[str], facts: Facts, activity: str | None,
    organisation: str | None,
) -> None:
    """File a transaction's other side: its activity (not the activity itself) and org."""
    if activity and activity.strip() and activity.strip() != facts.identifier:
        activities.add(activity.strip())
    if (key := org_key(organisation, None)) is not None:
        organisations.add(key)


def usd(cents: int) -> Decimal:
    """Whole cents as US dollars."""
    return Decimal(cents).scaleb(-2)


def money(
    connection: Connection, activity_ids: Collection[int], *, classification: str = "fuente",
    years: tuple[int | None, int | None] = (None, None),
) -> dict[int, dict[str, Decimal]]:
    """Each activity's money in US dollars by measure, from its latest budget view (the
    Ecuador share; read through one classification's split, which holds every amount)."""
    found: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for chunk in chunks(sorted(activity_ids)):
        statement = (
            select(CURRENT.c.activity_id, CURRENT.c.measure, func.sum(CURRENT.c.amount_cents))
            .where(CURRENT.c.activity_id.in_(chunk), CURRENT.c.classification == classification,
                   *in_years(years))
            .group_by(CURRENT.c.activity_id, CURRENT.c.measure)
        )
        for activity, measure, cents in connection.execute(statement):
            found[activity][measure] = usd(cents)
    return dict(found)


def in_years(years: tuple[int | None, int | None]) -> list[ColumnElement[bool]]:
    first, last = years
    return [
        *([CURRENT.c.year >= first] if first is not None else []),
        *([CURRENT.c.year <= last] if last is not None else []),
    ]


FACTS: Follower[Facts, None] = Follower(_read)
