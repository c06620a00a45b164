"""Reconciling the registry: candidate pairs of entries that look like one organisation,
and the ministry's recorded decisions merging them — never an automatic merge.

A pair is a candidate when the two entries share evidence that a person can check:
- `same-name`: a name of each is the same once accents, case, punctuation and spacing are
  set aside ("Fundación ESQUEL" and "fundacion esquel");
- `same-ruc`: the same Ecuadorian RUC (13 digits ending in 001) appears in an identifier
  or a name of each ("EC-RUC-1790012345001" and "… RUC 1790012345001");
- `same-entity`: an Ecuadorian identifier or a name of each is one entity of the catalogue
  of Ecuadorian entities ("MINISTERIO DE ECONOMIA Y FINANZAS" and "MEF"), names read only
  for entries without a foreign identifier. Pushes link such spellings to one entry
  (`link_partners`); this finds the entries registered apart before they did.

Merging moves the merged entry's identifiers, the identifier prefixes it owns, names and
roles, and its mentions in activities (participating-orgs), to the entry it is merged
into; the merged entry stays, empty, pointing at it (`merged_into_id`), and the decision
records who, when, why, the evidence and what moved. An entry that publishes (owns
activities, pushes, keys or webhooks) can be merged into, never away, so that no key
changes hands silently.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from datetime import datetime
from itertools import combinations
from typing import Any, ClassVar

from pydantic import BaseModel
from sqlalchemy import Table, exists, or_, select, update
from sqlmodel import Session

from mappings.perimeter import entity
from service.errors import DomainError
from service.models import (
    Activity,
    ApiKey,
    IdentifierPrefix,
    Organisation,
    OrganisationMerge,
    OrganisationRef,
    ParticipatingOrg,
    Push,
    Webhook,
)
from service.readmodel.clock import record as record_event
from service.services.keys import Principal
from service.services.placeholders import placeholder_name

ORGANISATION: Table = Organisation.__table__  # type: ignore[attr-defined]
ORG_REF: Table = OrganisationRef.__table__  # type: ignore[attr-defined]
MERGE: Table = OrganisationMerge.__table__  # type: ignore[attr-defined]
PARTICIPANT: Table = ParticipatingOrg.__table__  # type: ignore[attr-defined]
PREFIX: Table = IdentifierPrefix.__table__  # type: ignore[attr-defined]
RUC = re.compile(r"(?<!\d)(\d{10}001)(?!\d)")


class MergeError(DomainError):
    status: ClassVar[int] = 409
    code: ClassVar[str] = "organisation.cannot-merge"
    title: ClassVar[str] = "These organisations cannot be merged"


class Evidence(BaseModel):
    kind: str  # same-name | same-ruc | same-entity
    value: str
    left: str  # where each entry shows it: a name or an identifier
    right: str


class EntrySummary(BaseModel):
    id: int
    name: str
    refs: list[str]


class MergeCandidate(BaseModel):
    left: EntrySummary
    right: EntrySummary
    evidence: list[Evidence]


class MergePublic(BaseModel):
    id: int
    merged_id: int
    into_id: int
    name: str
    refs: list[str]
    names: list[dict[str, Any]]
    reason: str
    evidence: list[Evidence]
    decided_by: str
    decided_at: datetime


def folded(text: str) -> str:
    """`text` without accents, case, punctuation or repeated spaces."""
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    )
    return " ".join(re.sub(r"[^\w]+", " ", plain.casefold()).split())


def merge_candidates(session: Session) -> list[MergeCandidate]:
    """Every pair of live entries sharing a folded name, a RUC or a catalogue entity, with
    the evidence."""
    entries = _entries(session)
    keyed: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
    for entry_id, (name, names, refs) in entries.items():
        for text in dict.fromkeys([name, *names]):
            if folded(text) and not placeholder_name(text):  # "nan" names no one
                keyed["same-name", folded(text)].append((entry_id, text))
        for source in dict.fromkeys([*refs, name, *names]):
            for ruc in RUC.findall(source):
                keyed["same-ruc", ruc].append((entry_id, source))
        for source, found in _entities(name, names, refs):
            keyed["same-entity", found].append((entry_id, source))
    pairs: dict[tuple[int, int], list[Evidence]] = defaultdict(list)
    for (kind, value), seen in sorted(keyed.items()):
        first_by_entry = dict(reversed(seen))
        for (a, shown_a), (b, shown_b) in combinations(sorted(first_by_entry.items()), 2):
            pairs[a, b].append(Evidence(kind=kind, value=value, left=shown_a, right=shown_b))
    return [
        MergeCandidate(left=_summary(a, entries[a]), right=_summary(b, entries[b]),
                       evidence=evidence)
        for (a, b), evidence in sorted(pairs.items())
    ]


def merge(
    session: Session, principal: Principal, *, merged: Organisation, into: Organisation,
    reason: str,
) -> MergePublic:
    """Record the decision that `merged` is `into`, and move what it holds (see module)."""
    assert merged.id is not None
    assert into.id is not None
    _check(session, merged, into)
    connection = session.connection()
    refs = list(connection.execute(
        select(ORG_REF.c.ref).where(ORG_REF.c.organisation_id == merged.id)
        .order_by(ORG_REF.c.id)
    ).scalars())
    evidence = next(
        (c.evidence for c in merge_candidates(session)
         if {c.left.id, c.right.id} == {merged.id, into.id}), [],
    )
    record = OrganisationMerge(
        merged_id=merged.id, into_id=into.id, name=merged.name, refs=refs,
        names=list(merged.names), reason=reason,
        evidence=[e.model_dump() for e in evidence],
        decided_by_key_id=principal.api_key_id,
        decided_by=", ".join(sorted(principal.refs)) or f"organisation {principal.organisation_id}",
    )
    session.add(record)
    for table in (ORG_REF, PREFIX):  # its identifiers, and the prefixes it owns
        connection.execute(update(table).where(table.c.organisation_id == merged.id)
                           .values(organisation_id=into.id))
    moved = connection.execute(select(PARTICIPANT.c.activity_id).distinct().where(
        PARTICIPANT.c.organisation_id == merged.id)).scalars().all()
    connection.execute(update(PARTICIPANT).where(PARTICIPANT.c.organisation_id == merged.id)
                    .values(organisation_id=into.id))
    known = {(n.get("text"), n.get("lang")) for n in into.names}
    into.names = [*into.names, *(n for n in merged.names
                                 if (n.get("text"), n.get("lang")) not in known)]
    into.roles = [*into.roles, *(r for r in merged.roles if r not in into.roles)]
    into.type = into.type or merged.type
    merged.names, merged.roles, merged.merged_into_id = [], [], into.id
    session.add_all([into, merged])
    session.flush()
    record_event(connection, "merge", activities=moved,
                 details={"merged": merged.id, "into": into.id})
    return merge_public(record)


def merges(session: Session) -> list[MergePublic]:
    """Every recorded merge, the latest first."""
    ids = session.connection().execute(
        select(MERGE.c.id).order_by(MERGE.c.decided_at.desc(), MERGE.c.id.desc())
    ).scalars()
    return [merge_public(session.get_one(OrganisationMerge, merge_id)) for merge_id in ids]


def merge_public(record: OrganisationMerge) -> MergePublic:
    assert record.id is not None
    return MergePublic(
        id=record.id, merged_id=record.merged_id, into_id=record.into_id, name=record.name,
        refs=record.refs, names=record.names, reason=record.reason,
        evidence=[Evidence.model_validate(e) for e in record.evidence],
        decided_by=record.decided_by, decided_at=record.decided_at,
    )


def _check(session: Session, merged: Organisation, into: Organisation) -> None:
    if merged.id == into.id:
        raise MergeError("An organisation cannot be merged into itself.", organisation=merged.id)
    for entry in (merged, into):
        if entry.merged_into_id is not None:
            raise MergeError(
                f"{entry.name!r} was merged into organisation {entry.merged_into_id} already; "
                "merge with that one.", organisation=entry.id,
            )
    publishes = session.connection().execute(select(or_(*(
        exists().where(table.c.organisation_id == merged.id)
        for table in (_table(Activity), _table(Push), _table(ApiKey), _table(Webhook))
    )))).scalar_one()
    if publishes:
        raise MergeError(
            f"{merged.name!r} publishes (it has activities, pushes, keys or webhooks), so it "
            "can only be merged into: merge the other organisation into it instead.",
            organisation=merged.id,
        )


def _entries(session: Session) -> dict[int, tuple[str, list[str], list[str]]]:
    refs: dict[int, list[str]] = defaultdict(list)
    for organisation_id, ref in session.connection().execute(
        select(ORG_REF.c.organisation_id, ORG_REF.c.ref).order_by(ORG_REF.c.id)
    ):
        refs[organisation_id].append(ref)
    rows = session.connection().execute(
        select(ORGANISATION.c.id, ORGANISATION.c.name, ORGANISATION.c.names)
        .where(ORGANISATION.c.merged_into_id.is_(None)).order_by(ORGANISATION.c.id)
    )
    return {
        row.id: (row.name, [str(n.get("text") or "") for n in row.names or []], refs[row.id])
        for row in rows
    }


def _entities(name: str, names: list[str], refs: list[str]) -> list[tuple[str, str]]:
    """(where the entry shows it, official name) of each catalogue entity it is."""
    ecuadorian = [ref for ref in refs if ref.strip().upper().startswith("EC-")]
    sources = [(ref, entity(ref, None)) for ref in ecuadorian]
    if len(ecuadorian) == len(refs):
        sources += [(text, entity(None, text)) for text in dict.fromkeys([name, *names])]
    return [(source, found.name) for source, found in sources if found is not None]


def _summary(entry_id: int, entry: tuple[str, list[str], list[str]]) -> EntrySummary:
    return EntrySummary(id=entry_id, name=entry[0], refs=entry[2])


def _table(model: type[Any]) -> Table:
    return model.__table__  # type: ignore[no-any-return]


__all__ = ["MergeCandidate", "MergeError", "MergePublic", "folded", "merge",
           "merge_candidates", "merges"]
