"""Ecuador's classifications as frozen typed tables, loaded from `mappings/data/classifications`.

Each table is a CSV file with at least `code`, `name_es`, `source`, `valid_from` and
`valid_to` (ISO dates, empty for open; both days included). A code may have several rows
over time — the canton of La Concordia is `0808` up to 2021 and `2302` after — so lookups
take the date the figure belongs to. Columns particular to a table (`level`, `parent_code`,
`province_code`, `plan`, `eje_number`, …) are kept in `Code.attributes`.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import cache
from pathlib import Path
from types import MappingProxyType

DATA = Path(__file__).resolve().parent / "data"
_COMMON = frozenset({"code", "name_es", "name_en", "source", "note", "valid_from", "valid_to"})


class Classification(StrEnum):
    """Ecuador's classifications that iati-ec maps onto (the `classification` of a figure)."""

    income_item = "income_item"  # MEF clasificador presupuestario, income side (ítem, 6 digits)
    expenditure_item = "expenditure_item"  # the same clasificador, expenditure side
    fuente = "fuente"  # fuentes de financiamiento
    orientacion = "orientacion"  # catálogo de orientación del gasto
    province = "province"  # INEC DPA, 2 digits
    canton = "canton"  # INEC DPA, 4 digits
    investment_subsector = "investment_subsector"  # Planning: macrosector/sector/subsector
    plan_objective = "plan_objective"  # national development plan objectives
    # Not an Ecuadorian table: the DAC sector as published (5-digit purpose code, or
    # 3-digit category), split like the others so that money can be grouped by it.
    sector = "sector"
    # Attributes of an amount rather than splits (one code per amount): whether it is a
    # grant or a loan (…), and which public budget, if any, its receiver's is.
    instrument = "instrument"
    perimeter = "perimeter"
    # Whether the money goes through the Treasury: a flag the publisher gives on the
    # transaction (IATI's disbursement-channel), never taken for the perimeter.
    disbursement_channel = "disbursement_channel"


# The classifications that are attributes of an amount (one code for the whole amount,
# never a split): they cross with any other in the aggregates.
ATTRIBUTES = frozenset({Classification.instrument, Classification.perimeter,
                        Classification.disbursement_channel})


@dataclass(frozen=True, slots=True)
class TableSpec:
    """Where a classification's table comes from and what it is called."""

    classification: Classification
    file: str
    title_es: str
    title_en: str


SPECS: tuple[TableSpec, ...] = (
    TableSpec(Classification.income_item, "income-items.csv",
              "Clasificador presupuestario de ingresos", "Budget classifier: income"),
    TableSpec(Classification.expenditure_item, "expenditure-items.csv",
              "Clasificador presupuestario de egresos", "Budget classifier: expenditure"),
    TableSpec(Classification.fuente, "fuentes.csv",
              "Fuentes de financiamiento", "Sources of financing"),
    TableSpec(Classification.orientacion, "orientacion-gasto.csv",
              "Catálogo de orientación del gasto", "Expenditure orientation catalogue"),
    TableSpec(Classification.province, "provinces.csv",
              "Provincias (INEC DPA)", "Provinces (INEC DPA)"),
    TableSpec(Classification.canton, "cantons.csv", "Cantones (INEC DPA)", "Cantons (INEC DPA)"),
    TableSpec(Classification.investment_subsector, "investment-sectors.csv",
              "Sectores de inversión pública (Secretaría de Planificación)",
              "Public investment sectors (Planning Secretariat)"),
    TableSpec(Classification.plan_objective, "plan-objectives.csv",
              "Objetivos del Plan Nacional de Desarrollo", "National development plan objectives"),
    TableSpec(Classification.instrument, "instruments.csv",
              "Instrumento financiero", "Financial instrument"),
    TableSpec(Classification.perimeter, "perimeters.csv",
              "Perímetro presupuestario del receptor", "Budget perimeter of the receiver"),
    TableSpec(Classification.disbursement_channel, "disbursement-channels.csv",
              "Canal de desembolso", "Disbursement channel"),
)


@dataclass(frozen=True, slots=True)
class Code:
    """One row of a classification: a code, its names, sources and the dates it is in force."""

    code: str
    name_es: str
    name_en: str | None
    sources: tuple[str, ...]
    valid_from: date | None = None
    valid_to: date | None = None
    note: str | None = None
    attributes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def in_force(self, on: date | None) -> bool:
        """Whether the code is in force on `on` (any code is, when no date is given)."""
        return in_period(self.valid_from, self.valid_to, on)

    @property
    def parent(self) -> str | None:
        return self.attributes.get("parent_code") or None

    @property
    def level(self) -> str | None:
        return self.attributes.get("level") or None


@dataclass(frozen=True)
class Table:
    """A classification's rows, frozen, with lookups by code and date."""

    spec: TableSpec
    rows: tuple[Code, ...]
    version: str  # see `file_version`
    _by_code: Mapping[str, tuple[Code, ...]] = field(repr=False)

    @property
    def classification(self) -> Classification:
        return self.spec.classification

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __iter__(self) -> Iterator[Code]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, code: str, on: date | None = None) -> Code | None:
        """The row of `code` in force on `on` (the latest row when no date is given)."""
        rows = self._by_code.get(code, ())
        in_force = [row for row in rows if row.in_force(on)]
        return in_force[-1] if in_force else None

    def in_force(self, on: date) -> tuple[Code, ...]:
        return tuple(row for row in self.rows if row.in_force(on))


@cache
def table(classification: Classification | str) -> Table:
    """The frozen table of `classification`, read once per process."""
    spec = next(s for s in SPECS if s.classification == Classification(classification))
    path = DATA / "classifications" / spec.file
    content = path.read_bytes()
    rows = tuple(_code(row) for row in csv.DictReader(content.decode("utf-8").splitlines()))
    by_code: dict[str, list[Code]] = {}
    for row in rows:
        by_code.setdefault(row.code, []).append(row)
    return Table(
        spec=spec,
        rows=rows,
        version=file_version(content),
        _by_code=MappingProxyType({code: tuple(found) for code, found in by_code.items()}),
    )


def tables() -> tuple[Table, ...]:
    """Every classification's table."""
    return tuple(table(spec.classification) for spec in SPECS)


def _code(row: dict[str, str]) -> Code:
    return Code(
        code=row["code"].strip(),
        name_es=row["name_es"].strip(),
        name_en=(row.get("name_en") or "").strip() or None,
        sources=tuple(part.strip() for part in row["source"].split(";") if part.strip()),
        valid_from=optional_date(row.get("valid_from")),
        valid_to=optional_date(row.get("valid_to")),
        note=(row.get("note") or "").strip() or None,
        attributes=MappingProxyType({
            key: value.strip() for key, value in row.items()
            if key not in _COMMON and value and value.strip()
        }),
    )


def in_period(valid_from: date | None, valid_to: date | None, on: date | None) -> bool:
    """Whether `on` falls between the two days, both included (None: open; no `on`: yes)."""
    if on is None:
        return True
    return (valid_from is None or valid_from <= on) and (valid_to is None or on <= valid_to)


def optional_date(text: str | None) -> date | None:
    """The ISO date in a data file's cell, or None for an empty one."""
    return date.fromisoformat(text.strip()) if text and text.strip() else None


def file_version(content: bytes) -> str:
    """A data file's version: its SHA-256, shortened; it changes whenever a row does."""
    return hashlib.sha256(content).hexdigest()[:12]
