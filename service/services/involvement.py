"""What a partner's profile reads of each live activity: who reports it, which registry
entries take part in it and how, its funding participating-orgs, whether it is for
Ecuador, and its transactions' US cents by type, provider and receiver — all of them, and
Ecuador's part (`service.services.ecuador`).

Read from the database, the profile of an organisation taking part in all of 100,000
activities took seconds. These are kept per engine and followed through the read model's
events (`INVOLVEMENT`, see `service.services.following`), with an index derived from them and
updated for the changed activities only (`index`): the activities each registry entry
reports or takes part in, those whose transactions name each provider or receiver, those
of each funder, the activities for Ecuador, and each entry's counts and own money (of all
its activities, and of those for Ecuador alone, in Ecuador's part). A profile is then
looked up and added up in memory, and a push costs the reading of the activities it changed. A merge
of two registry entries moves participations without changing any activity, so the last
merge is the basis they are read on: after one, all are read again. Ecuador's part of a
transaction depends on its activity's Ecuador share, which a new budget view (a remap) may
change: a remap records the activities it gave new views, so those are read again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.engine import Connection

from mappings.amounts import transaction_share
from mappings.money import HUNDRED
from mappings.rates import in_cents, series_version
from service.models import OrganisationMerge
from service.services.ecuador import COUNTRY, IN_ECUADOR, activity_shares, part_in_cents
from service.services.following import Follower, Kept, chunks, derived, refiled
from service.services.ledger import TRANSACTION, unconverted
from service.services.push.storage import ACTIVITY
from service.services.query import PARTICIPANT
from service.services.streaming import in_batches

FUNDING = "1"  # OrganisationRole
# How a funder funds: it reports the activity, it is a funding participating-org, or it
# provides money the organisation receives.
REPORTING_ORG, FUNDING_ORG, PROVIDER_ORG = (
    "reporting-org", "participating-org role 1", "provider-org")
MERGE = OrganisationMerge.__table__  # type: ignore[attr-defined]
# Who a transaction names as provider or receiver: ("ref", its identifier as published) when
# it gives one, else ("name", its name as published); None when it gives neither.
Side = tuple[str, str] | None
H = TypeVar("H", bound=Hashable | None)


def side(ref: str | None, name: str | None) -> Side:
    """The key of a provider-org or receiver-org (see `Side`)."""
    if ref is not None and ref.strip():
        return ("ref", ref)
    return ("name", name) if name is not None else None


def trimmed(text: str | None) -> str | None:
    """`text` without surrounding blanks; None when nothing is left."""
    return (text.strip() or None) if text is not None else None


Cents = tuple[int, int, int]  # US cents, transactions, transactions without a US value
NOTHING: Cents = (0, 0, 0)


@dataclass(frozen=True, slots=True)
class Flow:
    """The transactions of one type from one provider to one receiver in an activity:
    their US cents added up, how many there are and how many of them have no US value;
    and `ecuador`, the same of Ecuador's part of them (the transactions with some part
    for Ecuador)."""

    type: str | None
    provider_ref: str | None  # as published
    provider_name: str | None
    receiver_ref: str | None
    receiver_name: str | None
    cents: int
    transactions: int
    without_rate: int
    ecuador: Cents = NOTHING

    def counted(self, ecuador: bool) -> Cents:
        """Its cents, transactions and those without a rate: Ecuador's part, or all."""
        return self.ecuador if ecuador else (self.cents, self.transactions, self.without_rate)

    @property
    def provider(self) -> Side:
        return side(self.provider_ref, self.provider_name)

    @property
    def receiver(self) -> Side:
        return side(self.receiver_ref, self.receiver_name)


@dataclass(frozen=True, slots=True)
class Involvement:
    """One live activity as a partner's profile reads it."""

    identifier: str
    reporter: int  # the registry entry that reports it
    reporting_ref: str | None  # its reporting-org identifier, trimmed
    roles: tuple[tuple[int, str], ...]  # (entry, role code or "") of its linked participants
    funding: tuple[tuple[str | None, str | None], ...]  # (trimmed ref, name) of role 1
    flows: tuple[Flow, ...]
    ecuador: bool = False  # it is for Ecuador (see `service.services.ecuador`)

    def sides(self) -> set[tuple[str, str]]:
        """Whom its transactions name as provider or receiver."""
        named = {f.provider for f in self.flows} | {f.receiver for f in self.flows}
        named.discard(None)
        return named  # type: ignore[return-value]

    def taking_part(self) -> dict[int, set[str]]:
        """The registry entries named among its participating-orgs, with their roles."""
        found: dict[int, set[str]] = {}
        for entry, role in self.roles:
            found.setdefault(entry, set()).add(role)
        return found

    def sources(self) -> set[Source]:
        """Who funds it (see `Source`)."""
        found: set[Source] = {(self.reporting_ref, None, REPORTING_ORG, None)}
        found.update((ref, name, FUNDING_ORG, None) for ref, name in self.funding)
        found.update((trimmed(f.provider_ref), f.provider_name, PROVIDER_ORG, f.receiver)
                     for f in self.flows if f.receiver is not None)
        return found


Involvements = Kept[Involvement]
# A funder of an activity: its trimmed identifier, its name, how it funds, and for
# a provider-org, the receiver of the money (else None).
Source = tuple[str | None, str | None, str, Side]


@dataclass(frozen=True, slots=True)
class Tally:
    """What a registry entry's live activities add up to: how many it reports, how many it
    takes part in by role code, and the transactions of those it reports by type."""

    reported: int
    roles: dict[str, int]
    money: dict[str | None, Cents]


@dataclass(frozen=True, slots=True)
class Index:
    """The live activities each registry entry reports (`reported`) and takes part in
    (`taking_part`), those whose transactions name each provider or receiver (`named`, by
    `Side`), the activities of each funder (`sources`, by `Source`), the activities for
    Ecuador (`for_ecuador`), and each entry's `Tally`: of all its activities (`tallies`),
    and of those for Ecuador in Ecuador's part (`ecuador_tallies`). Shared by every
    reader: never change it."""

    reported: dict[int, frozenset[int]]
    taking_part: dict[int, frozenset[int]]
    named: dict[tuple[str, str], frozenset[int]]
    sources: dict[Source, frozenset[int]]
    tallies: dict[int, Tally]
    for_ecuador: frozenset[int]
    ecuador_tallies: dict[int, Tally]

    @classmethod
    def of(cls, kept: Involvements) -> Index:
        return EMPTY.updated(Kept({}), kept, frozenset(kept))

    def updated(self, old: Involvements, new: Involvements, changed: frozenset[int]) -> Index:
        """The index once the `changed` activities' `old` values are `new` (or gone): only
        what they touch is filed or added up again."""
        return Index(
            refiled(self.reported, changed, old, new, lambda found: {found.reporter}),
            refiled(self.taking_part, changed, old, new, lambda found: found.taking_part()),
            refiled(self.named, changed, old, new, Involvement.sides),
            refiled(self.sources, changed, old, new, Involvement.sources),
            _tallied(self.tallies, changed, old, new, ecuador=False),
            (self.for_ecuador - changed) | {
                activity for activity in changed
                if (found := new.get(activity)) is not None and found.ecuador},
            _tallied(self.ecuador_tallies, changed, old, new, ecuador=True),
        )

    def scope(self, activities: frozenset[int], ecuador: bool) -> frozenset[int]:
        """`activities`, or those of them for Ecuador."""
        return activities & self.for_ecuador if ecuador else activities

    def tally(self, entry: int, ecuador: bool) -> Tally:
        """The entry's tally: of all its activities, or of those for Ecuador."""
        return (self.ecuador_tallies if ecuador else self.tallies).get(entry) or Tally(0, {}, {})


EMPTY = Index({}, {}, {}, {}, {}, frozenset(), {})


def _tallied(
    tallies: dict[int, Tally], changed: frozenset[int], old: Involvements, new: Involvements,
    *, ecuador: bool,
) -> dict[int, Tally]:
    """`tallies` with the `changed` activities' `old` values taken off and their `new`
    ones added — with `ecuador`, those for Ecuador only, in Ecuador's part; a new
    dictionary, sharing the tallies of the entries left alone."""
    open_: dict[int, tuple[list[int], dict[str, int], dict[str | None, list[int]]]] = {}

    def opened(entry: int) -> tuple[list[int], dict[str, int], dict[str | None, list[int]]]:
        if entry not in open_:
            tally = tallies.get(entry) or Tally(0, {}, {})
            open_[entry] = ([tally.reported], dict(tally.roles),
                            {kind: list(cents) for kind, cents in tally.money.items()})
        return open_[entry]

    for activity in changed:
        for values, sign in ((old, -1), (new, 1)):
            found = values.get(activity)
            if found is None or (ecuador and not found.ecuador):
                continue
            reported, _, money = opened(found.reporter)
            reported[0] += sign
            for flow in found.flows:
                cents = money.setdefault(flow.type, [0, 0, 0])
                for index, value in enumerate(flow.counted(ecuador)):
                    cents[index] += sign * value
            for entry, roles in found.taking_part().items():
                counts = opened(entry)[1]
                for role in roles:
                    counts[role] = counts.get(role, 0) + sign
    result = dict(tallies)
    for entry, (reported, counts, money) in open_.items():
        tally = Tally(reported[0], {role: n for role, n in counts.items() if n},
                      {kind: (c, n, w) for kind, (c, n, w) in money.items() if n})
        if tally.reported or tally.roles:
            result[entry] = tally
        else:
            result.pop(entry, None)
    return result


def current(connection: Connection) -> Involvements:
    """Every live activity's involvement, up to date (see the module)."""
    last_merge = connection.execute(select(func.max(MERGE.c.id))).scalar()
    return INVOLVEMENT.current(connection, last_merge)


def index(kept: Involvements) -> Index:
    """The index of `kept`, kept with it (see `following.derived`)."""
    return derived(kept, "partner-index", Index.of, Index.updated)


def _read(
    connection: Connection, conditions: list[ColumnElement[bool]], basis: int | None,
) -> dict[int, Involvement]:
    """The involvement of the activities meeting `conditions`; `basis` (the last merge)
    only tells when all must be read again."""
    matching = select(ACTIVITY.c.id).where(*conditions)
    # One object per distinct text, pair or tuple, however many rows repeat it: most
    # activities share their participants' roles and their funders.
    seen: dict[Any, Any] = {}

    def shared(value: H) -> H:
        return value if value is None else seen.setdefault(value, value)

    roles: dict[int, list[tuple[int, str]]] = defaultdict(list)
    funding: dict[int, list[tuple[str | None, str | None]]] = defaultdict(list)
    participants = (
        select(PARTICIPANT.c.activity_id, PARTICIPANT.c.organisation_id, PARTICIPANT.c.role,
               PARTICIPANT.c.ref, PARTICIPANT.c.name)
        .where(PARTICIPANT.c.activity_id.in_(matching)).order_by(PARTICIPANT.c.id)
    )
    for activity, entry, role, ref, name in in_batches(connection, participants):
        if entry is not None:
            roles[activity].append(shared((entry, role or "")))
        if role == FUNDING:
            funding[activity].append(shared((trimmed(ref), name)))
    flows: dict[int, list[Flow]] = defaultdict(list)
    for (activity, key), sums in _flows(
            connection, matching, activity_shares(connection, matching)).items():
        kind, provider_ref, provider_name, receiver_ref, receiver_name = map(shared, key)
        cents, transactions, without_rate = sums.whole
        flows[activity].append(Flow(kind, provider_ref, provider_name, receiver_ref,
                                    receiver_name, cents, transactions, without_rate,
                                    shared(sums.part())))
    for_ecuador = set(connection.execute(matching.where(ACTIVITY.c.id.in_(IN_ECUADOR))).scalars())
    activities = select(ACTIVITY.c.id, ACTIVITY.c.iati_identifier, ACTIVITY.c.organisation_id,
                        ACTIVITY.c.reporting_org_ref).where(*conditions)
    return {
        activity: Involvement(
            identifier, reporter, shared(trimmed(reporting_ref)),
            shared(tuple(roles.get(activity, ()))), shared(tuple(funding.get(activity, ()))),
            tuple(flows.get(activity, ())), activity in for_ecuador)
        for activity, identifier, reporter, reporting_ref in in_batches(connection, activities)
    }


FlowKey = tuple[str | None, str | None, str | None, str | None, str | None]


@dataclass(slots=True)
class _Sums:
    """One flow's transactions added up: all of them, and Ecuador's part of them."""

    whole: list[int] = field(default_factory=lambda: [0, 0, 0])
    ecuador: list[int] = field(default_factory=lambda: [0, 0, 0])

    def add(self, cents: int, transactions: int, without_rate: int, *, ecuador: bool) -> None:
        for into in (self.whole, self.ecuador) if ecuador else (self.whole,):
            into[0] += cents
            into[1] += transactions
            into[2] += without_rate

    def part(self) -> Cents:
        cents, transactions, without_rate = self.ecuador
        return (cents, transactions, without_rate)


def _flows(
    connection: Connection, matching: Select[Any], shares: dict[int, Decimal | None],
) -> dict[tuple[int, FlowKey], _Sums]:
    """The transactions of the `matching` activities added up per activity, type, provider
    and receiver (cents, transactions, those without a US value), whole and in Ecuador's
    part (each transaction's, by its own country and its activity's Ecuador `shares`): by
    the database from their stored cents, except the transactions of which Ecuador has a
    part short of the whole (the activity's share of several countries) and those stored
    under another rate series (rare: see `ledger`), added up here one by one."""
    rates = series_version()
    key = (TRANSACTION.c.type, TRANSACTION.c.provider_ref, TRANSACTION.c.provider_name,
           TRANSACTION.c.receiver_ref, TRANSACTION.c.receiver_name)
    joined = TRANSACTION.outerjoin(COUNTRY, COUNTRY.c.transaction_id == TRANSACTION.c.id)
    mine = TRANSACTION.c.activity_id.in_(matching)
    grouped = (
        select(TRANSACTION.c.activity_id, *key, COUNTRY.c.code,
               func.coalesce(func.sum(TRANSACTION.c.usd_cents), 0), func.count(),
               func.count(TRANSACTION.c.usd_cents))
        .select_from(joined).where(mine, TRANSACTION.c.usd_rates == rates)
        .group_by(TRANSACTION.c.activity_id, *key, COUNTRY.c.code)
    )
    sums: dict[tuple[int, FlowKey], _Sums] = defaultdict(_Sums)
    in_part: set[int] = set()  # activities whose share is a part: added up one by one
    for activity, *flow, country, cents, transactions, with_cents in in_batches(
            connection, grouped):
        share = transaction_share(shares.get(activity), country)
        whole = share is not None and share >= HUNDRED
        sums[activity, tuple(flow)].add(cents, transactions, transactions - with_cents,
                                        ecuador=whole)
        if share and not whole:
            in_part.add(activity)
    for chunk in chunks(sorted(in_part)):
        one_by_one = select(TRANSACTION.c.activity_id, *key, TRANSACTION.c.usd_cents).where(
            TRANSACTION.c.activity_id.in_(chunk), TRANSACTION.c.usd_rates == rates,
            TRANSACTION.c.id.not_in(select(COUNTRY.c.transaction_id).where(
                COUNTRY.c.activity_id.in_(chunk), COUNTRY.c.transaction_id.is_not(None))))
        for activity, *flow, cents in connection.execute(one_by_one):
            part = sums[activity, tuple(flow)].ecuador
            part[0] += part_in_cents(cents or 0, shares.get(activity))
            part[1] += 1
            part[2] += int(cents is None)
    others = select(TRANSACTION.c.activity_id, *key, COUNTRY.c.code, TRANSACTION.c.amount,
                    TRANSACTION.c.currency, TRANSACTION.c.value_date, TRANSACTION.c.date
                    ).select_from(joined).where(mine, unconverted(rates))
    for row in in_batches(connection, others):
        cents = in_cents(row.amount, row.currency, row.value_date or row.date)
        found = sums[row[0], tuple(row[1:6])]
        found.add(cents or 0, 1, int(cents is None), ecuador=False)
        share = transaction_share(shares.get(row[0]), row[6])
        if share:
            found.ecuador[0] += part_in_cents(cents or 0, share)
            found.ecuador[1] += 1
            found.ecuador[2] += int(cents is None)
    return sums


# Each live activity's involvement, kept and followed through the read model's events (a
# remap's among them: the views keep each activity's Ecuador share).
INVOLVEMENT: Follower[Involvement, int | None] = Follower(_read)
