"""The duplicate report: pairs of activities that look like one, with a score and the evidence.

Two kinds of pair. `same-identifier`: one identifier reported by two organisations. The
activity table holds each identifier once, so the second organisation's push is refused
(`push.not-your-activity`, or `push.identifier-of-another-organisation` when the identifier
is under the first's prefix); that recorded refusal is the evidence, and the pair scores 1.
`similar` (or `cross-reference`, when one lists the other's identifier as an
other-identifier): two identifiers, within a file, across files or across publishers,
scored by `service.services.coordination.scoring`.

Candidates are found by blocking, never by comparing all pairs: each activity is filed
under its title words (every language, folded), its participating organisations and its
identifiers (own and other-identifiers). A key filed under more than `MAX_BLOCK`
activities says too little and is skipped; two activities become a candidate pair when
they share `MIN_SHARED_KEYS` keys, or any identifier key. Only candidates are scored.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from itertools import combinations

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.engine import Connection

from service.models import Organisation, OrganisationRef, Outcome, Push, PushActivity
from service.services.coordination.decisions import DecisionPublic, Pair, active_decisions
from service.services.coordination.features import Everything, Facts, kept_facts
from service.services.coordination.markers import suffixes
from service.services.coordination.scoring import (
    OWN_PART,
    THRESHOLD,
    WEIGHTS,
    Commonness,
    Evidence,
    cross_reference,
    delivery_chain,
    evidence,
    own_part,
    score,
)
from service.services.following import derived, matching, refiled
from service.services.memo import remembered
from service.services.push.findings import PushCode
from service.services.push.storage import ACTIVITY
from service.services.query import ActivityFilter

MAX_BLOCK = 50
MIN_SHARED_KEYS = 2
FLOW_KEYS = 3  # an activity is filed under its largest transactions
PUSH = Push.__table__  # type: ignore[attr-defined]
PUSH_ACTIVITY = PushActivity.__table__  # type: ignore[attr-defined]
ORGANISATION = Organisation.__table__  # type: ignore[attr-defined]
ORGANISATION_REF = OrganisationRef.__table__  # type: ignore[attr-defined]


class Kind(StrEnum):
    same_identifier = "same-identifier"
    cross_reference = "cross-reference"
    similar = "similar"
    chain = "chain"  # funder and implementer on the delivery chain: not a duplicate


class DecisionState(StrEnum):
    pending = "pending"
    confirmed = "confirmed"
    dismissed = "dismissed"


class Side(BaseModel):
    """One activity of a pair; `stored` is false for a refused push's activity."""

    iati_identifier: str
    reporting_org: str | None = None
    title: str | None = None
    stored: bool = True


class DuplicatePair(BaseModel):
    a: Side
    b: Side
    score: float
    kind: Kind
    evidence: list[Evidence]
    decision: DecisionState = DecisionState.pending
    decided: DecisionPublic | None = None


class DuplicateReport(BaseModel):
    threshold: float
    weights: dict[str, float]
    total: int
    pairs: list[DuplicatePair]


def duplicates(
    connection: Connection, chosen: ActivityFilter, *, min_score: float = THRESHOLD,
    decision: DecisionState | None = None, kind: Kind | None = None, limit: int = 100,
) -> DuplicateReport:
    """The pairs scoring at least `min_score` with a side matching `chosen` (both, in the
    public pages' scope: `ActivityFilter.ecuador`), best first (kept until the store
    changes: see `service.services.memo`)."""
    key = ("duplicates", repr(chosen), min_score, decision, kind, limit)
    return remembered(connection, key, lambda: _duplicates(
        connection, chosen, min_score=min_score, decision=decision, kind=kind, limit=limit))


def _duplicates(
    connection: Connection, chosen: ActivityFilter, *, min_score: float,
    decision: DecisionState | None, kind: Kind | None, limit: int,
) -> DuplicateReport:
    everything = kept_facts(connection)
    chosen_ids = matching(connection, everything, chosen).keys()
    # On the public pages (`ecuador`), another country's activity is not shown beside one
    # for Ecuador: every stored side must match.
    pairs = [
        pair for pair in [*similar_pairs(connection, everything, min_score),
                          *refused_pairs(connection, everything)]
        if (pair[0] <= chosen_ids if chosen.ecuador else pair[0] & chosen_ids)
    ]
    decided = active_decisions(connection)
    shown: list[DuplicatePair] = []
    for _, pair in pairs:
        found = decided.get(Pair.of(pair.a.iati_identifier, pair.b.iati_identifier))
        if found is not None:
            pair.decision, pair.decided = DecisionState(found.verdict.value), found
        if (decision is None or pair.decision is decision) and (kind is None or pair.kind is kind):
            shown.append(pair)
    # Duplicates first, the best first; then the links of the delivery chain.
    shown.sort(key=lambda p: (p.kind is Kind.chain, -p.score, p.a.iati_identifier,
                              p.b.iati_identifier))
    return DuplicateReport(threshold=min_score, weights=WEIGHTS, total=len(shown),
                           pairs=shown[:limit])


@dataclass(frozen=True, slots=True)
class Blocking:
    """The blocking index of every live activity: the activities filed under each key, the
    candidate pairs it gives, and the commonness of titles and organisations."""

    blocks: dict[str, frozenset[int]]
    candidates: list[tuple[int, int]]
    common: Commonness

    @classmethod
    def of(cls, everything: Everything) -> Blocking:
        blocks: dict[str, set[int]] = defaultdict(set)
        for facts in everything.values():
            for key in _keys(facts):
                blocks[key].add(facts.id)
        frozen = {key: frozenset(ids) for key, ids in blocks.items()}
        return cls(frozen, _candidates(frozen), Commonness.of(everything.values()))

    def updated(
        self, old: Everything, new: Everything, changed: frozenset[int],
    ) -> Blocking:
        """The index once the `changed` activities' `old` facts are `new` (or gone): only
        their keys are filed again."""
        blocks = refiled(self.blocks, changed, old, new, _keys)
        return Blocking(blocks, _candidates(blocks), self.common.updated(old, new, changed))


def _keys(facts: Facts) -> set[str]:
    keys = {f"t:{w}" for w in facts.tokens()} | {f"o:{o}" for o in facts.organisations}
    named = (facts.identifier, *facts.other_identifiers, *facts.funded_by_activities,
             *facts.funding_activities)
    # Its largest transactions: a copy reports them too, whatever its title.
    largest = sorted(facts.flows, key=lambda flow: (-abs(flow[2]), flow[0], str(flow[1])))
    keys |= {f"m:{kind}:{day}:{cents}" for kind, day, cents in largest[:FLOW_KEYS]}
    # Its own part, and the ends of its identifier that may be another's own part.
    own = own_part(facts)
    ends = suffixes(facts.identifier, shortest=OWN_PART) | ({own} if own else set())
    return keys | {f"x:{i}" for i in named} | {f"x:{end}" for end in ends}


def blocking(everything: Everything) -> Blocking:
    """The blocking index of `everything`, kept with it (see `following.derived`)."""
    return derived(everything, "blocking", Blocking.of, Blocking.updated)


def candidates(everything: Everything) -> list[tuple[int, int]]:
    """The pairs of activity ids worth scoring (see the module's blocking rule), in order."""
    return blocking(everything).candidates


def _candidates(blocks: dict[str, frozenset[int]]) -> list[tuple[int, int]]:
    shared: Counter[tuple[int, int]] = Counter()
    linked: set[tuple[int, int]] = set()
    for key, ids in blocks.items():
        if len(ids) < 2 or len(ids) > MAX_BLOCK:
            continue
        for pair in combinations(sorted(ids), 2):
            shared[pair] += 1
            if key.startswith("x:"):
                linked.add(pair)
    return sorted(linked | {pair for pair, count in shared.items() if count >= MIN_SHARED_KEYS})


def similar_pairs(
    connection: Connection, everything: Everything, min_score: float
) -> Iterable[tuple[set[int], DuplicatePair]]:
    """The scored candidate pairs at or above `min_score`, with their activities' ids."""
    index = blocking(everything)
    common = index.common
    for one, other in index.candidates:
        a, b = everything[one], everything[other]
        if a.identifier > b.identifier:
            a, b = b, a
        components = evidence(a, b, common)
        crossed, chained = cross_reference(a, b), delivery_chain(a, b)
        components += [found for found in (crossed, chained) if found is not None]
        total = score(components)
        # A link of the chain naming the funder's activity is shown whatever its score.
        if total < min_score and (chained is None or chained.b["named"] != "activity"):
            continue
        kind = (Kind.chain if chained is not None else
                Kind.cross_reference if crossed is not None else Kind.similar)
        yield {a.id, b.id}, DuplicatePair(a=_side(a), b=_side(b), score=total, kind=kind,
                                          evidence=components)


def _side(facts: Facts) -> Side:
    return Side(iati_identifier=facts.identifier, reporting_org=facts.reporting_org,
                title=facts.title)


class Refusal(BaseModel):
    """An organisation's pushes of an identifier that another organisation publishes."""

    organisation_id: int
    organisation: str
    refs: list[str]
    pushes: int
    message: str
    last_push_id: str
    last_received_at: datetime


def refused_pairs(
    connection: Connection, everything: Everything
) -> Iterable[tuple[set[int], DuplicatePair]]:
    """One pair per identifier and organisation whose push of it was refused as another's."""
    for activity, identifier, refusal in _refusals(connection, everything):
        owner = everything[activity]
        pushed = Side(iati_identifier=identifier, reporting_org=", ".join(refusal.refs) or None,
                      stored=False)
        proof = Evidence(
            component="refused-push", a={"reporting_org": owner.reporting_org},
            b=refusal.model_dump(mode="json"), similarity=1.0, contribution=1.0,
        )
        yield {owner.id}, DuplicatePair(a=_side(owner), b=pushed, score=1.0,
                                        kind=Kind.same_identifier, evidence=[proof])


_REFUSED_AS_ANOTHERS = (PushCode.not_your_activity.value,
                        PushCode.identifier_of_another_organisation.value)


def _refusals(
    connection: Connection, live: Collection[int]
) -> list[tuple[int, str, Refusal]]:
    """(the stored activity's id, its identifier, the refusal) for each identifier of a
    `live` activity and each organisation refused it."""
    # The refused outcomes naming another organisation's stored activity are found first,
    # by id alone: joined with their findings, the database carried every refusal's
    # findings through the join (most refusals are of invalid activities, stored by none).
    outcomes = (
        select(PUSH_ACTIVITY.c.id)
        .join_from(PUSH_ACTIVITY, PUSH, PUSH.c.id == PUSH_ACTIVITY.c.push_id)
        .join(ACTIVITY, ACTIVITY.c.iati_identifier == PUSH_ACTIVITY.c.iati_identifier)
        .where(PUSH_ACTIVITY.c.outcome == Outcome.rejected.value,
               ACTIVITY.c.organisation_id != PUSH.c.organisation_id)
    )
    statement = (
        select(ACTIVITY.c.id, PUSH_ACTIVITY.c.iati_identifier, PUSH_ACTIVITY.c.findings,
               PUSH.c.id, PUSH.c.received_at, PUSH.c.organisation_id, ORGANISATION.c.name)
        .join_from(PUSH_ACTIVITY, PUSH, PUSH.c.id == PUSH_ACTIVITY.c.push_id)
        .join(ORGANISATION, ORGANISATION.c.id == PUSH.c.organisation_id)
        .join(ACTIVITY, ACTIVITY.c.iati_identifier == PUSH_ACTIVITY.c.iati_identifier)
        .where(PUSH_ACTIVITY.c.id.in_(outcomes))
        .order_by(PUSH.c.received_at)
    )
    found: dict[tuple[str, int, int], Refusal] = {}
    for activity, identifier, findings, push_id, received_at, organisation_id, name in (
            connection.execute(statement)):
        refused = [f for f in findings or [] if f.get("code") in _REFUSED_AS_ANOTHERS]
        if activity not in live or not refused:
            continue
        key = (identifier, organisation_id, activity)
        earlier = found.get(key)
        found[key] = Refusal(
            organisation_id=organisation_id, organisation=name, refs=[],
            pushes=1 + (earlier.pushes if earlier else 0), message=refused[0].get("message", ""),
            last_push_id=push_id, last_received_at=received_at,
        )
    refs: dict[int, list[str]] = defaultdict(list)
    for organisation_id, ref in connection.execute(select(
            ORGANISATION_REF.c.organisation_id, ORGANISATION_REF.c.ref).order_by(
            ORGANISATION_REF.c.ref)):
        refs[organisation_id].append(ref)
    for (_, organisation_id, _), refusal in found.items():
        refusal.refs = refs[organisation_id]
    return [(activity, identifier, refusal)
            for (identifier, _, activity), refusal in sorted(found.items())]
