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
transaction's US cents are stored with it (see `ledger`).

A profile is added up from what the service keeps of every live activity
(`service.services.involvement`): the activities the entry reports and takes part in,
its counts and own money, and those whose transactions or funders name it, are looked up
there, not read from the database.

Funders are the reporting organisations of the activities it takes part in, their funding
(role 1) participating-orgs, and the provider-orgs of the money it received: one per
identifier, and one per name given without an identifier (accents and case aside).

With `ecuador` (the public pages), the registry and each profile count the activities for
Ecuador only, and Ecuador's part of their money (`service.services.ecuador`): a regional
lender's disbursements to other countries are not Ecuador's cooperation. An entry that
neither reports nor takes part in an activity for Ecuador is then not listed.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from mappings.money import CENT
from mappings.perimeter import entity
from service.services import involvement
from service.services.budget.storage import CURRENT
from service.services.memo import remembered
from service.services.merges import ORG_REF, ORGANISATION, folded
from service.services.placeholders import Placeholder, placeholders
from service.services.push.storage import ACTIVITY
from service.services.query import PARTICIPANT, live
from service.services.ruc import RucCheck, ruc_checks

ACTIVITY_LIST_CAP = 500
INCOMING, DISBURSEMENT, EXPENDITURE = ("1", "11"), "3", "4"


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


class CatalogueEntity(BaseModel):
    """The Ecuadorian entity an entry is, in the catalogue of Ecuadorian entities
    (`mappings/data/catalogues/ec-entities.csv`): its official name, kind, budget
    perimeter, RUC, and the row's status and sources. The entry's `names` are the
    spellings publishers gave it."""

    name: str
    kind: str
    perimeter: str
    ruc: str | None
    status: str
    source: str


class LinkedEntry(BaseModel):
    """The registry entry a participating-org of an activity is linked to."""

    id: int
    name: str


class OrganisationProfile(BaseModel):
    organisation: RegistryEntry
    ecuador: bool = False  # the activities for Ecuador only, and Ecuador's part of money
    catalogue_entity: CatalogueEntity | None = None
    ruc_checks: list[RucCheck] = []  # its EC-RUC refs' and catalogue RUC's check digits
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
    limit: int = 100, offset: int = 0, ecuador: bool = False,
) -> tuple[list[RegistryEntry], int]:
    """Live entries matching the search (accent- and case-blind, over names and
    identifiers), registry `role`, organisation `type` and the IATI role they take in live
    activities (with `ecuador`, those involved in activities for Ecuador, which alone are
    counted); by name; one page and the total."""
    counts = defaultdict(lambda: (0, {}), _all_counts(connection, ecuador))
    entries = [e for e in _entries(connection) if e.merged_into_id is None
               and (not ecuador or e.id in counts)]
    if q:
        wanted = folded(q)
        entries = [e for e in entries
                   if any(wanted in folded(text) for text in [*e.texts, *e.refs])]
    if role:
        entries = [e for e in entries if role in e.roles]
    if type:
        entries = [e for e in entries if e.type == type]
    if participating_role:
        entries = [e for e in entries if counts[e.id][1].get(participating_role)]
    entries.sort(key=lambda e: (folded(e.name), e.id))
    page = entries[offset:offset + limit]
    return [_public(e, counts[e.id]) for e in page], len(entries)


def busiest(connection: Connection, count: int, *, ecuador: bool = False) -> list[RegistryEntry]:
    """The `count` live entries reporting or taking part in most live activities (for
    Ecuador, with `ecuador`): the profiles slowest to compute, which the service works out
    before anyone asks."""
    counts = _all_counts(connection, ecuador)
    entries = [entry for entry in _entries(connection)
               if entry.merged_into_id is None and entry.id in counts]
    sizes = {entry.id: counts[entry.id][0] + max(counts[entry.id][1].values(), default=0)
             for entry in entries}
    entries.sort(key=lambda entry: (-sizes[entry.id], entry.id))
    return [_public(entry, counts[entry.id]) for entry in entries[:count]]


def profile(
    connection: Connection, entry_id: int, *, ecuador: bool = False,
) -> OrganisationProfile | None:
    """The profile of registry entry `entry_id` (see the module for the money; with
    `ecuador`, of its activities for Ecuador in Ecuador's part).

    Added up from the kept involvement of its activities (a tenth of a second for one in
    all of 100,000), and kept until the store or the entry itself changes (`memo`)."""
    entry = next((e for e in _entries(connection, [entry_id])), None)
    if entry is None:
        return None
    key = ("partner-profile", entry.id, entry.name, entry.type, tuple(entry.roles),
           repr(entry.names), entry.merged_into_id, tuple(entry.refs), ecuador)
    return remembered(connection, key, lambda: _profile(connection, entry, ecuador))


def takes_part_in_ecuador(connection: Connection, entry_id: int) -> bool:
    """Whether the entry reports or takes part in a live activity for Ecuador."""
    return entry_id in _all_counts(connection, ecuador=True)


def participant_entries(connection: Connection, activity_id: int) -> list[LinkedEntry | None]:
    """The entry each participating-org of the activity is linked to, in their order."""
    statement = (
        select(PARTICIPANT.c.organisation_id, ORGANISATION.c.name)
        .outerjoin(ORGANISATION, ORGANISATION.c.id == PARTICIPANT.c.organisation_id)
        .where(PARTICIPANT.c.activity_id == activity_id)
        .order_by(PARTICIPANT.c.position, PARTICIPANT.c.id)
    )
    return [LinkedEntry(id=entry, name=name) if entry is not None else None
            for entry, name in connection.execute(statement)]


def participant_placeholders(
    connection: Connection, activity_id: int
) -> list[Placeholder | None]:
    """Whether each participating-org of the activity, in their order, is a placeholder:
    by its ref (`ref`: the registry keeps it by its name), or, without one, by its name
    (`name`: it is linked to no entry)."""
    statement = (
        select(PARTICIPANT.c.ref, PARTICIPANT.c.name)
        .where(PARTICIPANT.c.activity_id == activity_id)
        .order_by(PARTICIPANT.c.position, PARTICIPANT.c.id)
    )
    keys = [(ref or "").strip() or (name or "").strip()
            for ref, name in connection.execute(statement)]
    found = placeholders(connection, keys)
    return [found.get(key) if key else Placeholder.name for key in keys]


def catalogue_entity(refs: Iterable[str], name: str) -> CatalogueEntity | None:
    """The catalogue's entity an entry is: by an Ecuadorian identifier of its own, else —
    an entry with no foreign identifier — when its name is an entity's official name."""
    given = list(refs)
    ecuadorian = [ref for ref in given if ref.strip().upper().startswith("EC-")]
    found = next((e for ref in ecuadorian if (e := entity(ref, None))), None)
    if found is None and len(ecuadorian) == len(given):
        named = entity(None, name)
        found = named if named is not None and named.name == name else None
    if found is None:
        return None
    return CatalogueEntity(name=found.name, kind=found.kind, perimeter=found.perimeter,
                           ruc=found.ruc, status=found.status.value, source=found.source)


def _profile(connection: Connection, entry: _Entry, ecuador: bool) -> OrganisationProfile:
    kept = involvement.current(connection)
    found = involvement.index(kept)
    reported = found.scope(found.reported.get(entry.id, frozenset()), ecuador)
    taking_part = found.scope(found.taking_part.get(entry.id, frozenset()), ecuador)
    tally = found.tally(entry.id, ecuador)
    own = Sums(Money, {kind: _dollars(cents) for kind, cents in tally.money.items()})
    names = _Names(entry)
    named = found.scope(frozenset().union(*(found.named.get(key, ()) for key in names.sides)),
                        ecuador)
    # disbursements in others' activities naming it
    paid = [flow for activity in named - reported for flow in kept[activity].flows
            if flow.type == DISBURSEMENT]
    received = _total(flow.counted(ecuador) for flow in paid if flow.receiver in names.sides)
    provided = _total(flow.counted(ecuador) for flow in paid if flow.provider in names.sides)
    mine = reported | taking_part
    catalogued = catalogue_entity(entry.refs, entry.name)
    return OrganisationProfile(
        organisation=_public(entry, (tally.reported, dict(tally.roles))), ecuador=ecuador,
        catalogue_entity=catalogued,
        ruc_checks=ruc_checks(entry.refs, catalogued.ruc if catalogued else None),
        merged_into_id=entry.merged_into_id,
        activities=_activities(connection, kept, entry.id, mine),
        activities_total=len(mine),
        funders=_funders(found, taking_part, names, ecuador),
        received_from_funders=received,
        incoming_reported_by_itself=sum((own[kind] for kind in INCOMING), Money()),
        disbursed=own[DISBURSEMENT] + provided, expenditure=own[EXPENDITURE],
        provinces=_provinces(connection, entry),
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


def _all_counts(connection: Connection, ecuador: bool = False) -> dict[int, Counts]:
    """Per entry: the live activities (for Ecuador, with `ecuador`) it reports, and those
    it takes part in by role code (from the kept involvement's tallies, see
    `service.services.involvement`)."""
    found = involvement.index(involvement.current(connection))
    tallies = found.ecuador_tallies if ecuador else found.tallies
    return {entry: (tally.reported, tally.roles) for entry, tally in tallies.items()}


def _public(entry: _Entry, counts: Counts) -> RegistryEntry:
    return RegistryEntry(
        id=entry.id, name=entry.name, refs=entry.refs, type=entry.type, roles=entry.roles,
        names=entry.names, activities_reported=counts[0], activities_by_role=counts[1],
    )


def _activities(
    connection: Connection, kept: involvement.Involvements, entry_id: int, mine: frozenset[int],
) -> list[ActivityLink]:
    """The first `ACTIVITY_LIST_CAP` of `mine` by identifier, each with the entry's roles."""
    first = heapq.nsmallest(ACTIVITY_LIST_CAP, mine, key=lambda a: (kept[a].identifier, a))
    rows = {row.id: row for row in connection.execute(
        select(ACTIVITY.c.id, ACTIVITY.c.iati_identifier, ACTIVITY.c.reporting_org_ref,
               ACTIVITY.c.title).where(ACTIVITY.c.id.in_(first)))}
    links = []
    for activity in first:
        row, found = rows.get(activity), kept[activity]
        if row is None:  # deleted since the kept values were read
            continue
        roles = ["reporting"] if found.reporter == entry_id else []
        roles.extend(dict.fromkeys(role for entry, role in found.roles
                                   if entry == entry_id and role))
        links.append(ActivityLink(iati_identifier=row.iati_identifier,
                                  reporting_org=row.reporting_org_ref, title=row.title,
                                  roles=roles))
    return links


class _Names:
    """Who `entry` is to a transaction (`sides`), and to a funder list: its identifiers
    (`refs`) and the names it bears as published (`texts`)."""

    def __init__(self, entry: _Entry) -> None:
        self.refs, self.texts = set(entry.refs), set(entry.texts)
        self.sides: set[tuple[str, str]] = {
            *(("ref", ref) for ref in entry.refs), *(("name", text) for text in entry.texts)}

    def other(self, ref: str | None, name: str | None) -> bool:
        """A funder given by trimmed identifier `ref`, else `name`, is not the entry."""
        if ref is not None:
            return ref not in self.refs
        return bool(name) and name not in self.texts


def _total(flows: Iterable[involvement.Cents]) -> Money:
    """`flows` (their cents, transactions and those without a rate) added up."""
    cents = transactions = without_rate = 0
    for flow_cents, flow_transactions, flow_without_rate in flows:
        cents += flow_cents
        transactions += flow_transactions
        without_rate += flow_without_rate
    return _dollars((cents, transactions, without_rate))


def _dollars(cents: involvement.Cents) -> Money:
    total, transactions, without_rate = cents
    return Money(usd=Decimal(total) * CENT, transactions=transactions, without_rate=without_rate)


def _funders(
    found: involvement.Index, taking_part: frozenset[int], names: _Names, ecuador: bool,
) -> list[Funder]:
    """The reporting-orgs and funding participating-orgs of the activities the entry takes
    part in, and the providers of the money it received in any activity (for Ecuador, with
    `ecuador`), other than itself: one funder per identifier, and one per name given
    without one (accent- and case-blind), named by the first in sort order of the names it
    is given."""
    funders: dict[tuple[str, str], _Funding] = {}
    for (ref, name, how, receiver), ids in found.sources.items():
        if not names.other(ref, name):
            continue
        if how == involvement.PROVIDER_ORG:
            if receiver not in names.sides:
                continue
            activities = found.scope(ids, ecuador)
            if not activities:
                continue
        else:
            activities = ids & taking_part
            if not activities:
                continue
        key = ("ref", ref) if ref is not None else ("name", folded(name or ""))
        funder = funders.setdefault(key, _Funding(ref))
        funder.activities |= activities
        funder.how.add(how)
        if name is not None:
            funder.names.add(name)
    listed = [Funder(ref=f.ref, name=min(f.names, default=None), how=sorted(f.how),
                     activities=len(f.activities)) for f in funders.values()]
    return sorted(listed, key=lambda f: (-f.activities, f.ref or "", f.name or ""))


@dataclass
class _Funding:
    ref: str | None
    how: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    activities: set[int] = field(default_factory=set)


def _provinces(connection: Connection, entry: _Entry) -> list[ProvincePresence]:
    """The provinces its activities' latest views put money in (`CurrentFigure`)."""
    reported = select(ACTIVITY.c.id).where(ACTIVITY.c.organisation_id == entry.id,
                                           live(ACTIVITY.c.id))
    taking_part = select(PARTICIPANT.c.activity_id).where(
        PARTICIPANT.c.organisation_id == entry.id, live(PARTICIPANT.c.activity_id))
    statement = (
        select(CURRENT.c.code, func.count(func.distinct(CURRENT.c.activity_id)))
        .where(CURRENT.c.classification == "province", CURRENT.c.code.is_not(None),
               CURRENT.c.activity_id.in_(reported.union(taking_part)))
        .group_by(CURRENT.c.code).order_by(CURRENT.c.code)
    )
    return [ProvincePresence(code=code, activities=count)
            for code, count in connection.execute(statement)]
