"""The mappings as the ministry sees and decides them: tables, crosswalks, overrides.

The crosswalk files are the reviewed defaults. The ministry overrides the rows of a key
(`put_override`: all its rows, checked like a file's, targets in their table), or reverts
a key to the file's rows (`revert_override`). Each decision is a new `MappingOverride`
that supersedes the key's previous one, recorded with the organisation and key that made
it; none is ever changed or deleted. The active overrides (`active_overrides`) apply to
every view computed after them, whose mapping version therefore changes:
`iati-ec remap` computes the views of the new version, and the earlier views stay.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, Field, WithJsonSchema
from sqlalchemy import Connection, select
from sqlmodel import Session, col
from sqlmodel import select as sqlmodel_select

from mappings.crosswalks import (
    PUBLISHER_SECTOR,
    Crosswalk,
    Overrides,
    Row,
    Status,
    check_row,
    crosswalk,
    crosswalk_names,
    file_crosswalk,
    overridden,
    target_problem,
    target_table,
)
from mappings.engine import mapping_version
from mappings.sectors import DAC_VOCABULARIES
from mappings.tables import optional_date, tables
from service.errors import DomainError
from service.models import MappingOverride, utcnow
from service.readmodel.clock import record
from service.services.keys import Principal

OVERRIDE = MappingOverride.__table__  # type: ignore[attr-defined]


class CrosswalkNotFoundError(DomainError):
    status: ClassVar[int] = 404
    code: ClassVar[str] = "mapping.crosswalk-not-found"
    title: ClassVar[str] = "Unknown crosswalk"


class OverrideRejectedError(DomainError):
    status: ClassVar[int] = 422
    code: ClassVar[str] = "mapping.override-rejected"
    title: ClassVar[str] = "Override rejected"


# A row's share of its key, in per cent, above 0 and at most 100: a JSON number, or a
# decimal as the answers write it ("40.00"); text in any other form is refused, so that the
# OpenAPI document can state exactly what is taken.
SHARE_TEXT = r"^(?:0*[1-9][0-9]?(?:\.[0-9]+)?|0+\.[0-9]*[1-9][0-9]*|0*100(?:\.0+)?)$"


def _share_text(given: object) -> object:
    if isinstance(given, str) and not re.fullmatch(SHARE_TEXT, given):
        raise ValueError("a share is a number above 0 and at most 100, or its decimal text")
    return given


Share = Annotated[
    Decimal, BeforeValidator(_share_text), Field(gt=0, le=100),
    WithJsonSchema({"anyOf": [{"type": "number", "exclusiveMinimum": 0, "maximum": 100},
                              {"type": "string", "pattern": SHARE_TEXT}]}, mode="validation"),
]


class RowIn(BaseModel):
    """One row of a key, as the ministry decides it."""

    target: str | None = None
    status: Status
    rationale: str | None = None
    source: str | None = None
    share: Share | None = None
    valid_from: str | None = Field(default=None, description="ISO date")
    valid_to: str | None = Field(default=None, description="ISO date")


class OverrideIn(BaseModel):
    rows: list[RowIn] = Field(min_length=1)
    note: str | None = None


class RowPublic(RowIn):
    key: list[str]
    origin: str  # "file" or "override"


class DecisionPublic(BaseModel):
    """One override of a key: its rows (none: reverted to the file's), who and when."""

    id: int
    rows: list[dict[str, Any]]
    organisation_id: int
    api_key_id: int | None
    note: str | None
    created_at: datetime
    superseded_at: datetime | None


class KeyPublic(BaseModel):
    crosswalk: str
    key: list[str]
    rows: list[RowPublic]
    history: list[DecisionPublic]
    mapping_version: str


class CrosswalkPublic(BaseModel):
    name: str
    key_columns: list[str]
    target_tables: list[str]
    version: str
    rows: list[RowPublic]


class MappingsPublic(BaseModel):
    mapping_version: str
    tables: dict[str, str]
    crosswalks: dict[str, str]
    overridden_keys: int


def active_overrides(connection: Connection) -> Overrides | None:
    """The overrides in effect now (None when there are none)."""
    found = connection.execute(
        select(OVERRIDE.c.crosswalk, OVERRIDE.c.key, OVERRIDE.c.rows)
        .where(OVERRIDE.c.superseded_at.is_(None)).order_by(OVERRIDE.c.id)
    ).all()
    if not found:
        return None
    rows: dict[str, dict[tuple[str, ...], tuple[Row, ...]]] = {}
    for name, key, decided in found:
        if decided:  # a reversion has no rows: the file's apply
            rows.setdefault(name, {})[tuple(key)] = tuple(_row(tuple(key), r) for r in decided)
    canonical = json.dumps([list(item) for item in found], sort_keys=True, default=str)
    return Overrides(rows, hashlib.sha256(canonical.encode()).hexdigest()[:12])


def summary(session: Session) -> MappingsPublic:
    """The versions of every table and crosswalk, and the mapping version, overrides included."""
    overrides = active_overrides(session.connection())
    with overridden(overrides):
        return MappingsPublic(
            mapping_version=mapping_version(),
            tables={str(t.classification): t.version for t in tables()},
            crosswalks={name: crosswalk(name).version for name in crosswalk_names()},
            overridden_keys=0 if overrides is None else sum(
                len(keys) for keys in overrides.rows.values()),
        )


def crosswalk_public(session: Session, name: str) -> CrosswalkPublic:
    """A crosswalk's rows in effect, each saying whether it is the file's or an override."""
    base = _file(name)
    overrides = active_overrides(session.connection())
    with overridden(overrides):
        walk = crosswalk(name)
        overridden_keys = set() if overrides is None else set(overrides.rows.get(name, {}))
        return CrosswalkPublic(
            name=name, key_columns=list(walk.key_columns), version=walk.version,
            target_tables=sorted({str(target_table(walk, row.key)) for row in base}),
            rows=[_public(row, "override" if row.key in overridden_keys else "file")
                  for row in walk],
        )


def key_public(session: Session, name: str, key: tuple[str, ...]) -> KeyPublic:
    """A key's rows in effect and every decision taken on it, oldest first."""
    _key_of(_file(name), key)
    with overridden(active_overrides(session.connection())):
        walk = crosswalk(name)
        decisions = session.exec(
            sqlmodel_select(MappingOverride).where(MappingOverride.crosswalk == name)
            .order_by(col(MappingOverride.id))
        ).all()
        history = [_decision(d) for d in decisions if tuple(d.key) == key]
        origin = "override" if history and history[-1].rows else "file"
        return KeyPublic(
            crosswalk=name, key=list(key), history=history, mapping_version=mapping_version(),
            rows=[_public(row, origin) for row in walk.lookup(*key)],
        )


def put_override(
    session: Session, principal: Principal, name: str, key: tuple[str, ...], body: OverrideIn
) -> KeyPublic:
    """Replace the key's rows by `body`'s (checked), recorded as the principal's decision."""
    walk = _file(name)
    _key_of(walk, key)
    rows = [_checked(walk, key, index, row) for index, row in enumerate(body.rows, start=1)]
    shares = [row.share for row in rows]
    if len(rows) > 1 and sum((s or Decimal(0) for s in shares), Decimal(0)) != 100:
        raise OverrideRejectedError(
            "Several rows for one key split it: give each a share, the shares summing to 100.",
            crosswalk=name, key=list(key),
        )
    _decide(session, principal, name, key, [r.model_dump(mode="json") for r in body.rows],
            body.note)
    return key_public(session, name, key)


def revert_override(
    session: Session, principal: Principal, name: str, key: tuple[str, ...], note: str | None
) -> KeyPublic:
    """The key back to the file's rows, recorded as the principal's decision."""
    _key_of(_file(name), key)
    _decide(session, principal, name, key, [], note)
    return key_public(session, name, key)


def _decide(
    session: Session, principal: Principal, name: str, key: tuple[str, ...],
    rows: list[dict[str, Any]], note: str | None,
) -> None:
    now = utcnow()
    for previous in session.exec(
        sqlmodel_select(MappingOverride).where(
            MappingOverride.crosswalk == name, col(MappingOverride.superseded_at).is_(None)
        )
    ).all():
        if tuple(previous.key) == key:
            previous.superseded_at = now
            session.add(previous)
    session.add(MappingOverride(
        crosswalk=name, key=list(key), rows=rows, organisation_id=principal.organisation_id,
        api_key_id=principal.api_key_id, note=note, created_at=now,
    ))
    session.flush()
    record(session.connection(), "mapping-override", details={"crosswalk": name})
    session.commit()


def _file(name: str) -> Crosswalk:
    if name not in crosswalk_names():
        raise CrosswalkNotFoundError(
            f"No crosswalk {name!r}; the crosswalks are: {', '.join(crosswalk_names())}.",
            crosswalk=name,
        )
    return file_crosswalk(name)


def _key_of(walk: Crosswalk, key: tuple[str, ...]) -> None:
    if len(key) != len(walk.key_columns) or not all(key):
        raise OverrideRejectedError(
            f"A key of {walk.name} has {len(walk.key_columns)} parts "
            f"({'/'.join(walk.key_columns)}); got {'/'.join(key) or 'none'}.",
            crosswalk=walk.name, key=list(key),
        )
    if walk.name != PUBLISHER_SECTOR and "sector_vocabulary" in walk.key_columns:
        vocabulary = key[walk.key_columns.index("sector_vocabulary")]
        if vocabulary not in DAC_VOCABULARIES:
            code = key[walk.key_columns.index("sector_code")]
            raise OverrideRejectedError(
                f"Sector vocabulary {vocabulary} is a publisher's own, not DAC's: the engine "
                f"reads {walk.name} for DAC codes only. Map the publisher's code to a DAC "
                f"code instead: PUT /api/v1/mappings/crosswalks/{PUBLISHER_SECTOR}/keys/"
                f"<publisher's reporting-org ref>/{vocabulary}/{code}.",
                crosswalk=walk.name, key=list(key),
            )


def _checked(walk: Crosswalk, key: tuple[str, ...], index: int, given: RowIn) -> Row:
    try:
        row = _row(key, given.model_dump(mode="json"))
    except ValueError as error:
        raise OverrideRejectedError(f"Row {index}: {error}", crosswalk=walk.name) from None
    problem = check_row(row)
    if problem is None and row.target is not None:
        problem = target_problem(walk, key, row.target)
    if problem is not None:
        raise OverrideRejectedError(f"Row {index}: {problem}.", crosswalk=walk.name,
                                    key=list(key))
    return row


def _row(key: tuple[str, ...], decided: dict[str, Any]) -> Row:
    share = decided.get("share")
    return Row(
        key=key, target=decided.get("target") or None, status=Status(decided["status"]),
        rationale=decided.get("rationale") or None, source=decided.get("source") or None,
        valid_from=optional_date(decided.get("valid_from")),
        valid_to=optional_date(decided.get("valid_to")),
        share=Decimal(str(share)) if share is not None else None,
    )


def _public(row: Row, origin: str) -> RowPublic:
    return RowPublic(
        key=list(row.key), target=row.target, status=row.status, rationale=row.rationale,
        source=row.source, share=row.share, origin=origin,
        valid_from=row.valid_from.isoformat() if row.valid_from else None,
        valid_to=row.valid_to.isoformat() if row.valid_to else None,
    )


def _decision(decision: MappingOverride) -> DecisionPublic:
    assert decision.id is not None
    return DecisionPublic(
        id=decision.id, rows=decision.rows, organisation_id=decision.organisation_id,
        api_key_id=decision.api_key_id, note=decision.note, created_at=decision.created_at,
        superseded_at=decision.superseded_at,
    )
