"""The dashboard's downloads: the API's CSV and IATI XML answers for the same queries,
open to anyone who reads the public pages (the API itself asks for a key). Each CSV takes
`format=csv-es` for a spreadsheet set to Spanish."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from iati.writer import activity_chunks
from mappings.amounts import Measure
from service.api.deps import EngineDep
from service.api.filters import FilterDep
from service.api.routes.debt import debt_service_csv
from service.api.routes.ledger import csv_response
from service.services import query
from service.services.aggregates import GroupBy, aggregate, csv_columns, csv_rows
from service.services.debt import DebtGroupBy
from service.services.debt_summary import debt_summary
from service.services.push.reading import model_of
from service.services.spreadsheets import CsvVariant
from service.services.streaming import streamed
from service.services.traceability import Basis

router = APIRouter(prefix="/descargas", include_in_schema=False)
VariantQuery = Annotated[CsvVariant, Query()]


@router.get("/actividades.csv")
def activities_csv(
    engine: EngineDep, chosen: FilterDep, format: VariantQuery = CsvVariant.csv,
) -> StreamingResponse:
    statement = query.activities_statement(chosen, dialect=engine.dialect.name)
    rows = (query.summary(row, query.FIELDS) for row in streamed(engine, statement))
    return csv_response(query.FIELDS, rows, "actividades.csv", format)


@router.get("/actividades.xml")
def activities_xml(engine: EngineDep, chosen: FilterDep) -> StreamingResponse:
    statement = query.activities_statement(chosen, dialect=engine.dialect.name, document=True)
    models = (model_of(row["document"]) for row in streamed(engine, statement))
    return StreamingResponse(
        activity_chunks(models), media_type="application/xml",
        headers={"Content-Disposition": 'attachment; filename="actividades.xml"'},
    )


@router.get("/agregados.csv")
def aggregates_csv(
    engine: EngineDep, chosen: FilterDep,
    group_by: Annotated[list[GroupBy], Query()] = [],  # noqa: B006
    measure: Annotated[list[Measure], Query()] = [],  # noqa: B006
    year_from: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    year_to: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    basis: Annotated[Basis, Query()] = Basis.net,
    format: VariantQuery = CsvVariant.csv,
) -> StreamingResponse:
    with engine.connect() as connection:
        found = aggregate(connection, chosen, group_by=group_by,
                          measures=measure or [Measure.disbursement],
                          year_from=year_from, year_to=year_to, basis=basis)
    return csv_response(csv_columns(found), csv_rows(found), "agregados.csv", format)


@router.get("/deuda.csv")
def debt_csv(
    engine: EngineDep, chosen: FilterDep,
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
