"""The dashboard's downloads: the API's CSV and IATI XML answers for the same queries,
open to anyone who reads the public pages (the API itself asks for a key). Like the pages,
they hold the activities for Ecuador only, and Ecuador's part of their money (`ecuador`,
whatever the query says). Each CSV takes `format=csv-es` for a spreadsheet set to
Spanish; the aggregates by implementing partner's registry entry name each entry."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from sqlalchemy.engine import Connection

from iati.writer import activity_chunks
from mappings.amounts import Measure
from mappings.lenses import Lens
from service.api.deps import EngineDep
from service.api.filters import FilterDep
from service.api.routes.debt import debt_service_csv
from service.api.routes.effectiveness import Year, scorecard_csv
from service.api.routes.ledger import csv_response
from service.services import query
from service.services.aggregates import Aggregates, GroupBy, aggregate, csv_columns, csv_rows
from service.services.debt import DebtGroupBy
from service.services.debt_summary import debt_summary
from service.services.effectiveness.scorecard import scorecard
from service.services.push.reading import model_of
from service.services.query import ActivityFilter
from service.services.spreadsheets import CsvVariant
from service.services.streaming import streamed
from service.services.traceability import Basis
from service.web import labels

router = APIRouter(prefix="/descargas", include_in_schema=False)
VariantQuery = Annotated[CsvVariant, Query()]


def public_filter(chosen: FilterDep) -> ActivityFilter:
    """The query's filters, within the public pages' scope: the activities for Ecuador."""
    return replace(chosen, ecuador=True)


PublicFilterDep = Annotated[ActivityFilter, Depends(public_filter)]


@router.get("/actividades.csv")
def activities_csv(
    engine: EngineDep, chosen: PublicFilterDep, format: VariantQuery = CsvVariant.csv,
) -> StreamingResponse:
    statement = query.activities_statement(chosen, dialect=engine.dialect.name)
    rows = (query.summary(row, query.FIELDS) for row in streamed(engine, statement))
    return csv_response(query.FIELDS, rows, "actividades.csv", format)


@router.get("/actividades.xml")
def activities_xml(engine: EngineDep, chosen: PublicFilterDep) -> StreamingResponse:
    statement = query.activities_statement(chosen, dialect=engine.dialect.name, document=True)
    models = (model_of(row["document"]) for row in streamed(engine, statement))
    return StreamingResponse(
        activity_chunks(models), media_type="application/xml",
        headers={"Content-Disposition": 'attachment; filename="actividades.xml"'},
    )


@router.get("/agregados.csv")
def aggregates_csv(
    engine: EngineDep, chosen: PublicFilterDep,
    group_by: Annotated[list[GroupBy], Query()] = [],  # noqa: B006
    measure: Annotated[list[Measure], Query()] = [],  # noqa: B006
    year_from: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    year_to: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    basis: Annotated[Basis, Query()] = Basis.net,
    lens: Annotated[Lens | None, Query()] = None,
    format: VariantQuery = CsvVariant.csv,
) -> StreamingResponse:
    with engine.connect() as connection:
        found = aggregate(connection, chosen, group_by=group_by,
                          measures=measure or [Measure.disbursement],
                          year_from=year_from, year_to=year_to, basis=basis, lens=lens)
        named = _entry_names(connection, found)
    columns = [name for column in csv_columns(found)
               for name in ((column, ENTRY_NAME) if column == ENTRY else (column,))]
    rows = ({**row, **_named(row, named)} for row in csv_rows(found))
    return csv_response(columns, rows, "agregados.csv", format)


ENTRY = GroupBy.participating_entry.value
ENTRY_NAME = f"{ENTRY}_name"


def _entry_names(connection: Connection, found: Aggregates) -> dict[int, str] | None:
    """The name each registry entry grouped by is shown by (None: not grouped by entry)."""
    if ENTRY not in found.group_by:
        return None
    ids = {int(str(row.group[ENTRY])) for row in found.rows if row.group[ENTRY] is not None}
    return {entry: name for entry, (name, _) in labels.entries(connection, ids).items()}


def _named(group: dict[str, Any], named: dict[int, str] | None) -> dict[str, Any]:
    if named is None:
        return {}
    entry = group[ENTRY]
    return {ENTRY_NAME: named.get(int(str(entry))) if entry is not None else None}


@router.get("/deuda.csv")
def debt_csv(
    engine: EngineDep, chosen: PublicFilterDep,
    group_by: Annotated[list[DebtGroupBy], Query()] = [],  # noqa: B006
    year_from: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    year_to: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    format: VariantQuery = CsvVariant.csv,
) -> StreamingResponse:
    with engine.connect() as connection:
        found = debt_summary(
            connection, chosen, group_by=group_by or [DebtGroupBy.lender, DebtGroupBy.year],
            year_from=year_from, year_to=year_to,
        )
    return debt_service_csv(found, format, "deuda.csv")


@router.get("/eficacia.csv")
def effectiveness_csv(
    engine: EngineDep, chosen: PublicFilterDep,
    year: Annotated[list[Year], Query()] = [],  # noqa: B006
    format: VariantQuery = CsvVariant.csv,
) -> StreamingResponse:
    with engine.connect() as connection:
        found = scorecard(connection, chosen, years=year)
    return scorecard_csv(found, format, "eficacia.csv")
