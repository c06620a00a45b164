"""Crosswalks from IATI codes to Ecuador's classifications, as reviewed data.

Each crosswalk is a CSV file in `mappings/data/crosswalks/` whose key columns name the
IATI side (`sector_code`, `finance_type`, …) and whose other columns are always:

- `target`: the Ecuadorian code (empty when the row says why nothing is mapped);
- `status`: `verified` (from an official source, named in `source`), `proposed` (a reasoned
  judgment, explained in `rationale`, for the ministry to review) or `unmapped` (nothing
  fits, `rationale` says why);
- `rationale`, `source`, and `valid_from` / `valid_to` (ISO dates, empty for open).

A key may have several rows (different dates, or a split between targets given by an
optional `share` column in percent). Rows are never guessed at run time: a key without a
row is reported as unmapped by the engine.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import cache, lru_cache
from pathlib import Path
from types import MappingProxyType

from iati.codelists import load_codelist
from mappings.tables import Classification, file_version, in_period, optional_date, table

DATA = Path(__file__).resolve().parent / "data" / "crosswalks"
_COMMON = ("target", "status", "rationale", "source", "valid_from", "valid_to", "share")


class Status(StrEnum):
    verified = "verified"
    proposed = "proposed"
    unmapped = "unmapped"
    # Not in crosswalk files: the donor published the Ecuadorian code itself
    # (country-budget-items), which takes precedence over any crosswalk.
    published = "published"
    # Not in crosswalk files: the classification does not apply to the amount (income
    # ítems and fuentes of money that never enters a public budget). Its figure has the
    # code `NOT_APPLICABLE`, and counts neither as mapped nor as unmapped.
    not_applicable = "not-applicable"


NOT_APPLICABLE = "n/a"


class CrosswalkError(ValueError):
    """A crosswalk file that breaks the rules above (raised when it is loaded)."""


@dataclass(frozen=True, slots=True)
class Row:
    """One reviewed correspondence: the IATI key, its Ecuadorian target and why."""

    key: tuple[str, ...]
    target: str | None
    status: Status
    rationale: str | None
    source: str | None
    valid_from: date | None = None
    valid_to: date | None = None
    share: Decimal | None = None  # percent of the key's amount, when it is split
    line: int = 0

    def in_force(self, on: date | None) -> bool:
        return in_period(self.valid_from, self.valid_to, on)


@dataclass(frozen=True)
class Crosswalk:
    """A crosswalk file's rows, frozen, looked up by key and date."""

    name: str
    key_columns: tuple[str, ...]
    rows: tuple[Row, ...]
    version: str  # see `mappings.tables.file_version`
    _by_key: Mapping[tuple[str, ...], tuple[Row, ...]] = field(repr=False)

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def keys(self) -> frozenset[tuple[str, ...]]:
        return frozenset(self._by_key)

    def lookup(self, *key: str, on: date | None = None) -> tuple[Row, ...]:
        """The rows of `key` in force on `on` (empty when the key has no row)."""
        return tuple(row for row in self._by_key.get(key, ()) if row.in_force(on))


def crosswalk(name: str) -> Crosswalk:
    """The crosswalk `name`: its file's rows, with the overrides in effect (see `Overrides`)."""
    base = file_crosswalk(name)
    overrides = _OVERRIDES.get()
    if overrides is None or name not in overrides.rows:
        return base
    return _with_overrides(name, overrides)


@cache
def file_crosswalk(name: str) -> Crosswalk:
    """The crosswalk `mappings/data/crosswalks/<name>.csv`, read and checked once."""
    path = DATA / f"{name}.csv"
    content = path.read_bytes()
    reader = csv.DictReader(content.decode("utf-8").splitlines())
    columns = tuple(reader.fieldnames or ())
    missing = {"target", "status", "rationale", "source"} - set(columns)
    if missing:
        raise CrosswalkError(f"{path.name}: missing columns {sorted(missing)}")
    key_columns = tuple(column for column in columns if column not in _COMMON)
    rows = tuple(
        _row(record, key_columns, path.name, line) for line, record in enumerate(reader, start=2)
    )
    by_key: dict[tuple[str, ...], list[Row]] = {}
    for row in rows:
        by_key.setdefault(row.key, []).append(row)
    return Crosswalk(
        name=name,
        key_columns=key_columns,
        rows=rows,
        version=file_version(content),
        _by_key=MappingProxyType({key: tuple(found) for key, found in by_key.items()}),
    )


@dataclass(frozen=True, eq=False)
class Overrides:
    """Rows that replace a crosswalk's rows for some keys: the ministry's decisions.

    `rows` holds, per crosswalk name, the rows of each overridden key (all of that key's
    rows: a key is overridden as a whole). `digest` identifies the set — two sets with
    the same digest are the same — so that the crosswalks' versions, and the views'
    mapping version, change with it.
    """

    rows: Mapping[str, Mapping[tuple[str, ...], tuple[Row, ...]]]
    digest: str

    def __hash__(self) -> int:
        return hash(self.digest)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Overrides) and other.digest == self.digest


_OVERRIDES: ContextVar[Overrides | None] = ContextVar("crosswalk_overrides", default=None)


@contextmanager
def overridden(overrides: Overrides | None) -> Iterator[None]:
    """Within the block, `crosswalk` gives the crosswalks with `overrides` applied."""
    token = _OVERRIDES.set(overrides if overrides is not None and overrides.rows else None)
    try:
        yield
    finally:
        _OVERRIDES.reset(token)


def overrides_digest() -> str:
    """The digest of the overrides in effect ("" when none)."""
    overrides = _OVERRIDES.get()
    return "" if overrides is None else overrides.digest


def check_row(row: Row) -> str | None:
    """What is wrong with `row` by the crosswalk rules (None: nothing)."""
    return _problem(row)


@lru_cache(maxsize=64)
def _with_overrides(name: str, overrides: Overrides) -> Crosswalk:
    base = file_crosswalk(name)
    by_key = {**base._by_key, **overrides.rows[name]}
    return Crosswalk(
        name=name, key_columns=base.key_columns,
        rows=tuple(row for rows in by_key.values() for row in rows),
        version=file_version(f"{base.version}:{overrides.digest}".encode()),
        _by_key=MappingProxyType(by_key),
    )


# Publishers' own sector codes (vocabularies 98, 99 and any other not DAC's), keyed by the
# publisher: their targets are DAC codes, 5-digit purpose codes or 3-digit categories.
PUBLISHER_SECTOR = "publisher-sector"
PUBLISHER_POLICY_MARKER = "publisher-policy-marker"  # targets: DAC policy markers (1–12)
# The Ecuadorian table each crosswalk's targets are codes of (the names crosswalk's,
# by its `level` column).
TARGET_TABLES: Mapping[str, Classification] = MappingProxyType({
    "aid-type-income-naturaleza": Classification.income_item,
    "finance-income-subgroup": Classification.income_item,
    "finance-category-instrument": Classification.instrument,
    "finance-type-fuente": Classification.fuente,
    "flow-type-fuente": Classification.fuente,
    "organisation-type-income-item": Classification.income_item,
    "organisation-type-debt-service": Classification.expenditure_item,
    "policy-marker-orientacion": Classification.orientacion,
    "sector-investment-subsector": Classification.investment_subsector,
    "sector-plan-objective": Classification.plan_objective,
    "sdg-plan-objective": Classification.plan_objective,
    "geo-iso3166-2": Classification.province,
    PUBLISHER_SECTOR: Classification.sector,
    PUBLISHER_POLICY_MARKER: Classification.orientacion,  # through policy-marker-orientacion
})
_BY_LEVEL = {"province": Classification.province, "canton": Classification.canton}


def target_table(walk: Crosswalk, key: tuple[str, ...]) -> Classification:
    """The classification whose code a target of `walk` for `key` must be."""
    if "level" in walk.key_columns:
        return _BY_LEVEL[key[walk.key_columns.index("level")]]
    return TARGET_TABLES[walk.name]


def target_problem(walk: Crosswalk, key: tuple[str, ...], target: str) -> str | None:
    """What is wrong with `target` as a target of `walk` for `key` (None: nothing)."""
    if walk.name == PUBLISHER_SECTOR:
        codelist = {5: "Sector", 3: "SectorCategory"}.get(len(target))
        item = None if codelist is None else load_codelist(codelist).get(target)
        if item is None or item.withdrawn:
            return f"{target} is not a DAC 5-digit sector nor a 3-digit category in use"
        return None
    if walk.name == PUBLISHER_POLICY_MARKER:
        marker = load_codelist("PolicyMarker").get(target)
        return None if marker is not None else f"{target} is not a DAC policy marker code"
    where = table(target_table(walk, key))
    return None if target in where else f"{target} is not a code of {where.spec.title_en}"


def crosswalk_names() -> tuple[str, ...]:
    return tuple(sorted(path.stem for path in DATA.glob("*.csv")))


def _row(record: dict[str, str], key_columns: tuple[str, ...], file: str, line: int) -> Row:
    def text(column: str) -> str | None:
        return (record.get(column) or "").strip() or None

    try:
        status = Status(text("status") or "")
    except ValueError:
        raise CrosswalkError(
            f"{file}:{line}: status must be verified, proposed or unmapped"
        ) from None
    row = Row(
        key=tuple((record.get(column) or "").strip() for column in key_columns),
        target=text("target"),
        status=status,
        rationale=text("rationale"),
        source=text("source"),
        valid_from=optional_date(text("valid_from")),
        valid_to=optional_date(text("valid_to")),
        share=Decimal(share) if (share := text("share")) else None,
        line=line,
    )
    problem = _problem(row)
    if problem:
        raise CrosswalkError(f"{file}:{line}: {problem}")
    return row


def _problem(row: Row) -> str | None:
    if row.status in (Status.published, Status.not_applicable):
        return f"`{row.status}` is not for crosswalk rows"
    if row.status is Status.unmapped:
        if row.target:
            return "an unmapped row has no target"
        return None if row.rationale else "an unmapped row says why (rationale)"
    if not row.target:
        return f"a {row.status} row needs a target"
    if row.status is Status.verified and not row.source:
        return "a verified row names its source"
    if row.status is Status.proposed and not row.rationale:
        return "a proposed row gives its rationale"
    return None


@dataclass(frozen=True, slots=True)
class Resolution:
    """Where (part of) an amount goes in one Ecuadorian classification, and why.

    `code` is None when nothing is mapped (`reason` then says why, for the review list).
    `share` is the percentage of the amount that goes to `code`; the resolutions of one
    value for one classification sum to 100. `rule` names the rule and row that decided,
    e.g. ``crosswalk sector-investment-subsector 1/12220 (proposed)``; `version` the
    table or crosswalk version it came from.
    """

    code: str | None
    share: Decimal
    rule: str
    status: Status
    version: str
    reason: str | None = None


def resolved(walk: Crosswalk, row: Row, share: Decimal = Decimal(100)) -> Resolution:
    """The resolution a crosswalk row gives (its own share, if it splits the key)."""
    rule = f"crosswalk {walk.name} {'/'.join(row.key)} ({row.status})"
    return Resolution(
        code=row.target,
        share=share if row.share is None else share * row.share / 100,
        rule=rule,
        status=row.status,
        version=walk.version,
        reason=row.rationale if row.status is Status.unmapped else None,
    )


def not_applicable(reason: str, *, rule: str, version: str = "") -> Resolution:
    """A whole amount to which the classification does not apply, and why."""
    return Resolution(NOT_APPLICABLE, Decimal(100), rule, Status.not_applicable, version,
                      reason)


def unmapped(reason: str, *, rule: str, version: str = "") -> Resolution:
    """A whole amount that no row maps: it goes to the review list with `reason`."""
    return Resolution(None, Decimal(100), rule, Status.unmapped, version, reason)
