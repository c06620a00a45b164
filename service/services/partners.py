"""The registry as the ministry reads it: organisations found by search and role, and each
one's profile — its activities, funders, money received and disbursed, and provinces.

Money comes from transactions, in US dollars at the ECB rate of each value date (else
its date), kept apart by who reported it, because a funder's disbursement to a partner
and the partner's incoming funds are two reports of the same money:
- `received_from_funders`: disbursements (type 3) in other publishers' activities whose
  receiver-org is this organisation (by identifier, or by a name it bears as published);
- `incoming_reported_by_itself`: incoming funds (1) and incoming commitments (11) in the
  activities it reports;
- `disbursed`: disbursements (3) in the activities it reports, and those of other
  activities naming it as provider-org;
- `expenditure`: expenditure (4) in the activities it reports.
Amounts without a rate, and those worth 10 trillion US dollars or more (publishing errors,
which the budget views leave out too), are counted in `without_rate`, not added. Each
transaction's US cents are stored with it (see `ledger`), so the database adds them up.

Funders are the reporting organisations of the activities it takes part in, their funding
(role 1) participating-orgs, and the provider-orgs of the money it received: one per
identifier, and one per name given without an identifier (accents and case aside).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    Subquery,
    and_,
    case,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.engine import Connection

from mappings.money import CENT
from mappings.rates import in_cents, series_version
from service.services.budget.storage import CURRENT
from service.services.ledger import TRANSACTION, unconverted
from service.services.memo import remembered
from service.services.merges import ORG_REF, ORGANISATION, folded
from service.services.push.storage import ACTIVITY
from service.services.query import PARTICIPANT, live

ACTIVITY_LIST_CAP = 500
FUNDING, INCOMING = "1", ("1", "11")
DISBURSEMENT, EXPENDITURE = "3", "4"
FUNDING_HOWS = ("reporting-org", "participating-org role 1", "provider-org")


class RegistryEntry(BaseModel):
    id: int
    name: str
    refs: list[str]
    type: str | None
    roles: list[str]
    names: list[dict[str, Any]]
    activities_reported: int
    activities_by_role: dict[str, int]


class Money(BaseModel):
    usd: Decimal = Decimal(0)
    transactions: int = 0
    without_rate: int = 0

    def __add__(self, other: Money) -> Money:
        return Money(usd=self.usd + other.usd, transactions=self.transactions + other.transactions,
                     without_rate=self.without_rate + other.without_rate)


Sums = defaultdict[str | None, Money]  # by transaction type


class Funder(BaseModel):
    ref: str | None
    name: str | None
    how: list[str]  # reporting-org, participating-org role 1, provider-org
    activities: int


class ActivityLink(BaseModel):
    iati_identifier: str
    reporting_org: str | None
    title: str | None
    roles: list[str]  # "reporting", or participating-org role codes


class ProvincePresence(BaseModel):
    code: str
    activities: int


class OrganisationProfile(BaseModel):
    organisation: RegistryEntry
    merged_into_id: int | None
    activities: list[ActivityLink]
    activities_total: int
    funders: list[Funder]
    received_from_funders: Money
    incoming_reported_by_itself: Money
    disbursed: Money
    expenditure: Money
    provinces: list[ProvincePresence]


@dataclass
class _Entry:
    id: int
    name: str
    type: str | None
    roles: list[str]
    names: list[dict[str, Any]]
    merged_into_id: int | None
    refs: list[str] = field(default_factory=list)

    @property
    def texts(self) -> list[str]:
        return list(dict.fromkeys([self.name, *(str(n.get("text") or "") for n in self.names)]))


def search_registry(
    connection: Connection, *, q: str | None = None, role: str | None = None,
    type: str | None = None, participating_role: str | None = None,
    limit: int = 100, offset: int = 0,
) -> tuple[list[RegistryEntry], int]:
    """Live entries matching the search (accent- and case-blind, over names and
    identifiers), registry `role`, organisation `type` and the IATI role they take in live
    activities; by name; one page and the total."""
    entries = [e for e in _entries(connection) if e.merged_into_id is None]
    if q:
        wanted = folded(q)
        entries = [e for e in entries
                   if any(wanted in folded(text) for text in [*e.texts, *e.refs])]
    if role:
        entries = [e for e in entries if role in e.roles]
    if type:
        entries = [e for e in entries if e.type == type]
    counts = defaultdict(lambda: (0, {}), _all_counts(connection))
    if participating_role:
        entries = [e for e in entries if counts[e.id][1].get(participating_role)]
    entries.sort(key=lambda e: (folded(e.name), e.id))
    page = entries[offset:offset + limit]
    return [_public(e, counts[e.id]) for e in page], len(entries)


def busiest(connection: Connection, count: int) -> list[RegistryEntry]:
    """The `count` live entries reporting or taking part in most live activities: the
    profiles slowest to compute, which the service works out before anyone asks."""
    counts = _all_counts(connection)
    entries = [entry for entry in _entries(connection)
               if entry.merged_into_id is None and entry.id in counts]
    sizes = {entry.id: counts[entry.id][0] + max(counts[entry.id][1].values(), default=0)
             for entry in entries}
    entries.sort(key=lambda entry: (-sizes[entry.id], entry.id))
    return [_public(entry, counts[entry.id]) for entry in entries[:count]]


def profile(connection: Connection, entry_id: int) -> OrganisationProfile | None:
    """The profile of registry entry `entry_id` (see the module for the money).

    Read from every activity the entry takes part in (seconds for one in 100,000), so it
    is kept until the store or the entry itself changes (`memo`)."""
    entry = next((e for e in _entries(connection, [entry_id])), None)
    if entry is None:
        return None
    key = ("partner-profile", entry.id, entry.name, entry.type, tuple(entry.roles),
           repr(entry.names), entry.merged_into_id, tuple(entry.refs))
    return remembered(connection, key, lambda: _profile(connection, entry))


def _profile(connection: Connection, entry: _Entry) -> OrganisationProfile:
    own = [ACTIVITY.c.organisation_id == entry.id, live(ACTIVITY.c.id)]
    mine = _activity_ids(entry)
    reported = _money(connection, [
        *own, TRANSACTION.c.type.in_([*INCOMING, DISBURSEMENT, EXPENDITURE])])
    incoming = sum((reported[kind] for kind in INCOMING), Money())
    others = [TRANSACTION.c.type == DISBURSEMENT, ACTIVITY.c.organisation_id != entry.id,
              live(ACTIVITY.c.id)]
    received = _money(connection, [*others, _names_it(entry, "receiver")])[DISBURSEMENT]
    provided = _money(connection, [*others, _names_it(entry, "provider")])[DISBURSEMENT]
    disbursed = reported[DISBURSEMENT] + provided
    return OrganisationProfile(
        organisation=_public(entry, _activity_counts(connection, [entry.id])[entry.id]),
        merged_into_id=entry.merged_into_id,
        activities=_activities(connection, entry, mine),
        activities_total=connection.execute(
            select(func.count()).select_from(mine.subquery())).scalar_one(),
        funders=_funders(connection, entry),
        received_from_funders=received, incoming_reported_by_itself=incoming,
        disbursed=disbursed, expenditure=reported[EXPENDITURE],
        provinces=_provinces(connection, mine),
    )


def _entries(connection: Connection, ids: Iterable[int] | None = None) -> list[_Entry]:
    statement = select(
        ORGANISATION.c.id, ORGANISATION.c.name, ORGANISATION.c.type, ORGANISATION.c.roles,
        ORGANISATION.c.names, ORGANISATION.c.merged_into_id,
    )
    refs = select(ORG_REF.c.organisation_id, ORG_REF.c.ref).order_by(ORG_REF.c.id)
    if ids is not None:
        chosen = list(ids)
        statement = statement.where(ORGANISATION.c.id.in_(chosen))
        refs = refs.where(ORG_REF.c.organisation_id.in_(chosen))
    entries = {row.id: _Entry(row.id, row.name, row.type, list(row.roles or []),
                              list(row.names or []), row.merged_into_id)
               for row in connection.execute(statement)}
    for organisation_id, ref in connection.execute(refs):
        if organisation_id in entries:
            entries[organisation_id].refs.append(ref)
    return list(entries.values())


Counts = tuple[int, dict[str, int]]


def _all_counts(connection: Connection) -> dict[int, Counts]:
    """`_activity_counts` of every entry, kept until the store changes."""
    return remembered(connection, ("registry-counts",),
                      lambda: dict(_activity_counts(connection)))


def _activity_counts(
    connection: Connection, ids: list[int] | None = None
) -> defaultdict[int, Counts]:
    """Per entry: live activities it reports, and those it takes part in, by role code."""
    reported = select(ACTIVITY.c.organisation_id, func.count()).where(
        live(ACTIVITY.c.id)).group_by(ACTIVITY.c.organisation_id)
    taking_part = (
        select(PARTICIPANT.c.organisation_id, PARTICIPANT.c.role,
               func.count(func.distinct(PARTICIPANT.c.activity_id)))
        .where(live(PARTICIPANT.c.activity_id), PARTICIPANT.c.organisation_id.is_not(None))
        .group_by(PARTICIPANT.c.organisation_id, PARTICIPANT.c.role)
    )
    if ids is not None:
        reported = reported.where(ACTIVITY.c.organisation_id.in_(ids))
        taking_part = taking_part.where(PARTICIPANT.c.organisation_id.in_(ids))
    counts: defaultdict[int, Counts] = defaultdict(lambda: (0, {}))
    for organisation_id, count in connection.execute(reported):
        counts[organisation_id] = (count, counts[organisation_id][1])
    for organisation_id, role, count in connection.execute(taking_part):
        counts[organisation_id][1][role or ""] = count
    return counts


def _public(entry: _Entry, counts: Counts) -> RegistryEntry:
    return RegistryEntry(
        id=entry.id, name=entry.name, refs=entry.refs, type=entry.type, roles=entry.roles,
        names=entry.names, activities_reported=counts[0], activities_by_role=counts[1],
    )


def _activity_ids(entry: _Entry) -> CompoundSelect[Any]:
    """The live activities `entry` reports or takes part in, once each."""
    reported = select(ACTIVITY.c.id).where(ACTIVITY.c.organisation_id == entry.id,
                                           live(ACTIVITY.c.id))
    return reported.union(_taking_part(entry))


def _taking_part(entry: _Entry) -> Select[Any]:
    """The live activities that name `entry` as a participating organisation."""
    return select(PARTICIPANT.c.activity_id).where(
        PARTICIPANT.c.organisation_id == entry.id, live(PARTICIPANT.c.activity_id))


def _activities(
    connection: Connection, entry: _Entry, mine: CompoundSelect[Any],
) -> list[ActivityLink]:
    """The first `ACTIVITY_LIST_CAP` of `mine` by identifier, each with `entry`'s roles."""
    rows = connection.execute(
        select(ACTIVITY.c.id, ACTIVITY.c.iati_identifier, ACTIVITY.c.reporting_org_ref,
               ACTIVITY.c.title, ACTIVITY.c.organisation_id)
        .where(ACTIVITY.c.id.in_(mine)).order_by(ACTIVITY.c.iati_identifier)
        .limit(ACTIVITY_LIST_CAP)
    ).all()
    roles: dict[int, list[str]] = {
        row.id: ["reporting"] if row.organisation_id == entry.id else [] for row in rows}
    for activity_id, role in connection.execute(
        select(PARTICIPANT.c.activity_id, PARTICIPANT.c.role)
        .where(PARTICIPANT.c.organisation_id == entry.id,
               PARTICIPANT.c.activity_id.in_(list(roles)))
        .order_by(PARTICIPANT.c.id)
    ):
        if role and role not in roles[activity_id]:
            roles[activity_id].append(role)
    return [ActivityLink(iati_identifier=row.iati_identifier, reporting_org=row.reporting_org_ref,
                         title=row.title, roles=roles[row.id]) for row in rows]


def _names_it(entry: _Entry, side: str) -> ColumnElement[bool]:
    """The transaction's `side` (provider or receiver) org is `entry`, by identifier or by
    one of its names as published."""
    ref, name = TRANSACTION.c[f"{side}_ref"], TRANSACTION.c[f"{side}_name"]
    by_name = and_(func.coalesce(func.trim(ref), "") == "", name.in_(entry.texts))
    return or_(ref.in_(entry.refs), by_name) if entry.refs else by_name


def _money(connection: Connection, conditions: list[ColumnElement[bool]]) -> Sums:
    """The transactions meeting `conditions`, by type, summed in the database from their
    stored cents; those stored under another rate series (rare: see `ledger`) are
    converted here."""
    rates, sums = series_version(), Sums(Money)
    current = case((TRANSACTION.c.usd_rates == rates, 1), else_=0).label("current")
    grouped = (
        select(TRANSACTION.c.type, current, func.coalesce(func.sum(TRANSACTION.c.usd_cents), 0),
               func.count(), func.count(TRANSACTION.c.usd_cents))
        .join(ACTIVITY, ACTIVITY.c.id == TRANSACTION.c.activity_id)
        .where(*conditions).group_by(TRANSACTION.c.type, current)
    )
    stale = False
    for kind, converted, cents, transactions, with_cents in connection.execute(grouped):
        if converted:
            sums[kind] += Money(usd=Decimal(cents) * CENT, transactions=transactions,
                                without_rate=transactions - with_cents)
        else:
            stale = True
    if not stale:
        return sums
    others = (
        select(TRANSACTION.c.type, TRANSACTION.c.amount, TRANSACTION.c.currency,
               TRANSACTION.c.value_date, TRANSACTION.c.date)
        .join(ACTIVITY, ACTIVITY.c.id == TRANSACTION.c.activity_id)
        .where(*conditions, unconverted(rates))
    )
    for kind, amount, currency, value_date, day in connection.execute(others):
        cents = in_cents(amount, currency, value_date or day)
        sums[kind] += Money(usd=Decimal(cents or 0) * CENT, transactions=1,
                            without_rate=int(cents is None))
    return sums


def _funders(connection: Connection, entry: _Entry) -> list[Funder]:
    """Grouped in the database: an identifier is one funder, and so is a name given
    without one (accent- and case-blind); its name is the first of those it is given."""
    named = _funding(entry)
    alone = case((named.c.ref.is_(None), named.c.name), else_=None)
    hows = [func.max(case((named.c.how == how, 1), else_=0)) for how in FUNDING_HOWS]
    found: dict[str, _Funding] = {}
    for ref, spelt, activities, name, *flags in connection.execute(
        select(named.c.ref, alone, func.count(func.distinct(named.c.activity)),
               func.min(named.c.name), *hows)
        .group_by(named.c.ref, alone)
    ):
        seen = found.setdefault(ref or folded(spelt), _Funding(ref, name))
        seen.spellings.append(spelt)
        seen.activities = activities
        seen.how.update(how for how, flag in zip(FUNDING_HOWS, flags, strict=True) if flag)
        if name is not None and (seen.name is None or name < seen.name):
            seen.name = name
    for seen in found.values():
        if len(seen.spellings) > 1:  # names spelt apart: each activity once over them all
            seen.activities = connection.execute(
                select(func.count(func.distinct(named.c.activity)))
                .where(named.c.ref.is_(None), named.c.name.in_(seen.spellings))
            ).scalar_one()
    funders = [Funder(ref=f.ref, name=f.name, how=sorted(f.how), activities=f.activities)
               for f in found.values()]
    return sorted(funders, key=lambda f: (-f.activities, f.ref or "", f.name or ""))


@dataclass
class _Funding:
    ref: str | None
    name: str | None
    how: set[str] = field(default_factory=set)
    spellings: list[str | None] = field(default_factory=list)
    activities: int = 0


def _funding(entry: _Entry) -> Subquery:
    """Each (activity, funder identifier, funder name, how it funds) of the activities
    `entry` takes part in and the money it received, other than `entry` itself; the
    identifier trimmed, None when blank."""
    taking_part = _taking_part(entry)
    sources = union_all(
        select(ACTIVITY.c.id, _trimmed(ACTIVITY.c.reporting_org_ref), null(),
               literal(FUNDING_HOWS[0]))
        .where(ACTIVITY.c.id.in_(taking_part)),
        select(PARTICIPANT.c.activity_id, _trimmed(PARTICIPANT.c.ref), PARTICIPANT.c.name,
               literal(FUNDING_HOWS[1]))
        .where(PARTICIPANT.c.activity_id.in_(taking_part), PARTICIPANT.c.role == FUNDING),
        select(TRANSACTION.c.activity_id, _trimmed(TRANSACTION.c.provider_ref),
               TRANSACTION.c.provider_name, literal(FUNDING_HOWS[2]))
        .where(_names_it(entry, "receiver"), live(TRANSACTION.c.activity_id)),
    ).subquery()
    activity, ref, name, how = sources.c
    others = or_(
        and_(ref.is_not(None), ref.not_in(entry.refs)),
        and_(ref.is_(None), func.coalesce(name, "") != "", name.not_in(entry.texts)),
    )
    return (
        select(activity.label("activity"), ref.label("ref"), name.label("name"),
               how.label("how"))
        .where(others).subquery()
    )


def _trimmed(column: ColumnElement[Any]) -> ColumnElement[Any]:
    return func.nullif(func.trim(column), "")


def _provinces(connection: Connection, mine: CompoundSelect[Any]) -> list[ProvincePresence]:
    """The provinces its activities' latest views put money in (`CurrentFigure`)."""
    statement = (
        select(CURRENT.c.code, func.count(func.distinct(CURRENT.c.activity_id)))
        .where(CURRENT.c.classification == "province", CURRENT.c.code.is_not(None),
               CURRENT.c.activity_id.in_(mine))
        .group_by(CURRENT.c.code).order_by(CURRENT.c.code)
    )
    return [ProvincePresence(code=code, activities=count)
            for code, count in connection.execute(statement)]

