"""Every CSV download opens in a spreadsheet with the amounts of the JSON API to the cent:
`csv` (comma, decimal point) in one set to English, `csv-es` (semicolon, decimal comma,
Spanish headers) in one set to Spanish; both UTF-8 with a byte-order mark."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest

from service.services.aggregates import GroupBy
from service.services.budget.export import COLUMNS as EXPORT_COLUMNS
from service.services.debt import DEBT_SERVICE_COLUMNS
from service.services.ledger import BUDGET_COLUMNS, TRANSACTION_COLUMNS
from service.services.query import FIELDS
from service.services.results.listing import RESULT_COLUMNS
from service.services.spreadsheet_headers import SPANISH_HEADERS
from service.services.spreadsheets import CsvVariant, csv_chunks
from tests.support.loads import Loaded
from tests.support.publishing import Api, every_page
from tests.support.spreadsheets import BOM, spreadsheet_number, spreadsheet_rows

AGGREGATE_COLUMNS = (*(group.value for group in GroupBy), "amount_usd", "activities",
                     "placeholder")
DOWNLOADS = (FIELDS, TRANSACTION_COLUMNS, BUDGET_COLUMNS, RESULT_COLUMNS, EXPORT_COLUMNS,
             AGGREGATE_COLUMNS, DEBT_SERVICE_COLUMNS)


@pytest.mark.parametrize("columns", DOWNLOADS)
def test_every_column_of_every_download_has_its_own_spanish_header(
    columns: tuple[str, ...],
) -> None:
    headers = [SPANISH_HEADERS[column] for column in columns]
    assert len(set(headers)) == len(headers)


def test_cells_are_written_as_each_spreadsheet_reads_them() -> None:
    row = [Decimal("-1234567.89"), Decimal("1E+3"), True, None, "a;b", "2024-03-05"]
    plain = "".join(csv_chunks(["value", "value_usd", "humanitarian", "ref", "aid_type",
                                "value_date"], [row]))
    spanish = "".join(csv_chunks(["value", "value_usd", "humanitarian", "ref", "aid_type",
                                  "value_date"], [row], CsvVariant.csv_es))
    assert plain == f"{BOM}value,value_usd,humanitarian,ref,aid_type,value_date\r\n" \
        "-1234567.89,1000,true,,a;b,2024-03-05\r\n"
    assert spanish.splitlines()[1] == '-1234567,89;1000;VERDADERO;;"a;b";2024-03-05'
    [read] = spreadsheet_rows(spanish.encode(), "es")
    assert spreadsheet_number(read["Valor"], "es") == Decimal("-1234567.89")
    # The API's variant is what a Spanish spreadsheet misreads: no number, or another one.
    assert spreadsheet_number("1234.56", "es") is None
    assert spreadsheet_number("1.234", "es") == 1234


def test_text_a_spreadsheet_would_run_is_kept_as_text_in_the_spanish_variant() -> None:
    """A publisher's text that starts like a formula reaches a spreadsheet as text in
    `csv-es`; `csv`, read by programs, keeps it exactly as published."""
    texts = ["=HYPERLINK(\"http://example.org\",\"x\")", "+1", "-2+3", "@SUM(A1)",
             "\tcmd", "\rcmd", "Agua potable", "2024-03-05", "a=b"]
    rows = [[text] for text in texts]
    plain = list(csv.reader(io.StringIO("".join(csv_chunks(["title"], rows))[1:], newline="")))
    spanish = list(csv.reader(io.StringIO(
        "".join(csv_chunks(["title"], rows, CsvVariant.csv_es))[1:], newline=""), delimiter=";"))
    assert [row[0] for row in plain[1:]] == texts  # "\rcmd" quoted: its row stays whole
    assert [row[0] for row in spanish[1:]] == [
        "'=HYPERLINK(\"http://example.org\",\"x\")", "'+1", "'-2+3", "'@SUM(A1)", "'\tcmd",
        "'\rcmd", "Agua potable", "2024-03-05", "a=b"]


def _download(api: Api, key: str | None, path: str, variant: str, **params: Any) -> bytes:
    answer = api.request("GET", path, key=key, params={**params, "format": variant})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    suffix = "-es.csv" if variant == "csv-es" else ".csv"
    assert answer.headers["content-disposition"].endswith(f'{suffix}"')
    return answer.content


def _amounts(body: bytes, lang: str, columns: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """`columns` of each row as a spreadsheet set to `lang` reads them (numbers as such)."""
    named = [SPANISH_HEADERS[c] if lang == "es" else c for c in columns]
    return [tuple(spreadsheet_number(row[name], lang) if row[name] else None for name in named)
            for row in spreadsheet_rows(body, lang)]


def _exact(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> list[tuple[Any, ...]]:
    return [tuple(None if row[c] is None else Decimal(str(row[c])) for c in columns)
            for row in rows]


@pytest.mark.reads_only
@pytest.mark.parametrize(("variant", "lang"), [("csv", "en"), ("csv-es", "es")])
def test_transactions_budgets_and_results_open_with_the_apis_numbers(
    loaded: Loaded, variant: str, lang: str,
) -> None:
    api, key, _ = loaded
    for path, name, columns in (
        ("/api/v1/transactions", "transactions", ("value", "value_usd")),
        ("/api/v1/budgets", "budgets", ("value", "value_usd")),
        ("/api/v1/results", "results", ("target", "actual", "progress_percent")),
    ):
        as_json = every_page(api, key, path, name, limit=1000)
        body = _download(api, key, path, variant)
        assert _amounts(body, lang, columns) == _exact(as_json, columns)
    spanish = spreadsheet_rows(_download(api, key, "/api/v1/transactions", "csv-es"), "es")
    assert {row["Humanitaria"] for row in spanish} <= {"VERDADERO", "FALSO", ""}
    assert all(len(row["Fecha de la transacción"]) in (0, 10) for row in spanish)


@pytest.mark.reads_only
@pytest.mark.parametrize(("variant", "lang"), [("csv", "en"), ("csv-es", "es")])
def test_the_budget_export_and_aggregates_open_with_the_apis_amounts(
    loaded: Loaded, variant: str, lang: str,
) -> None:
    api, key, _ = loaded
    exported = api.request("GET", "/api/v1/exports/budget.json", key=key,
                           params={"classification": "province"}).json()
    body = _download(api, key, "/api/v1/exports/budget.csv", variant, classification="province")
    columns = ("amount_usd", "original_amount", "rate")
    assert _amounts(body, lang, columns) == _exact(exported, columns)

    params = {"group_by": ["reporting_org", "year"], "measure": "disbursement"}
    found = api.request("GET", "/api/v1/aggregates", key=key, params=params).json()
    body = _download(api, key, "/api/v1/aggregates", variant, **params)
    assert _amounts(body, lang, ("amount_usd",)) == _exact(found["rows"], ("amount_usd",))
    assert sum(amount for (amount,) in _amounts(body, lang, ("amount_usd",))) == Decimal(
        found["total_usd"])

    public = _download(api, None, "/descargas/agregados.csv", variant, **params)
    assert _amounts(public, lang, ("amount_usd",)) == _exact(found["rows"], ("amount_usd",))
    listed = spreadsheet_rows(_download(api, None, "/descargas/actividades.csv", variant), lang)
    assert len(listed) == len(every_page(api, key, limit=1000))
