"""Every CSV download, written once: UTF-8 with a byte-order mark, in the API's variant or
in one that a spreadsheet set to Spanish opens as it is meant.

- `csv`: comma-separated, the API's column names, exact decimals with a point.
- `csv-es`: semicolon-separated, Spanish headers, exact decimals with a comma and no
  thousands separator, booleans as ``VERDADERO`` and ``FALSO``.

Both write dates as ISO 8601 (``2024-03-05``): Excel and LibreOffice read that form as a
date whatever their language, where ``05/03/2024`` would be the 3rd of May to one set to
English. The byte-order mark tells a spreadsheet the text is UTF-8, so that accents are
not garbled. Text is written as published: a value is never rounded or reworded — except
that in `csv-es`, the variant made to be opened in a spreadsheet, a text cell that a
spreadsheet would run as a formula (one starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return: a publisher's title such as ``=HYPERLINK(…)``) is written with an apostrophe
before it, which the spreadsheet shows as text and does not display. `csv` keeps every text
exactly as published, for programs.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from service.services.spreadsheet_headers import SPANISH_HEADERS

CHUNK = 1 << 16
BOM = "\ufeff"
# What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class CsvVariant(StrEnum):
    csv = "csv"
    csv_es = "csv-es"  # for a spreadsheet set to Spanish


@dataclass(frozen=True, slots=True)
class _Dialect:
    delimiter: str
    decimal: str
    true: str
    false: str
    spanish: bool


_DIALECTS = {
    CsvVariant.csv: _Dialect(",", ".", "true", "false", spanish=False),
    CsvVariant.csv_es: _Dialect(";", ",", "VERDADERO", "FALSO", spanish=True),
}


def csv_chunks(
    header: Sequence[str], rows: Iterable[Sequence[Any]],
    variant: CsvVariant = CsvVariant.csv,
) -> Iterator[str]:
    """A byte-order mark and one header row, then `rows` (None as an empty cell), in
    chunks of about `CHUNK` characters, as `variant` writes them."""
    dialect = _DIALECTS[variant]
    buffer = io.StringIO()
    buffer.write(BOM)
    # Rows end with CR LF (RFC 4180), so that a text holding either is quoted: with "\n"
    # alone, a bare carriage return in a publisher's text was written unquoted and split
    # its row in two for every reader.
    writer = csv.writer(buffer, delimiter=dialect.delimiter, lineterminator="\r\n")
    writer.writerow([spanish_header(name) for name in header] if dialect.spanish else header)
    for row in rows:
        writer.writerow([_cell(value, dialect) for value in row])
        if buffer.tell() > CHUNK:
            yield _drain(buffer)
    yield _drain(buffer)


def spanish_header(column: str) -> str:
    """The Spanish header of `column` (every column of every CSV has one; a test checks)."""
    return SPANISH_HEADERS[column]


def filename(name: str, variant: CsvVariant) -> str:
    """The download's file name: ``budgets.csv``, or ``budgets-es.csv`` for `csv-es`."""
    if variant is CsvVariant.csv:
        return name
    stem, dot, extension = name.rpartition(".")
    return f"{stem}-es{dot}{extension}" if dot else f"{name}-es"


def _cell(value: Any, dialect: _Dialect) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return dialect.true if value else dialect.false
    if isinstance(value, Decimal):
        # Fixed-point, never an exponent (1E+3), which no spreadsheet reads as money.
        written = format(value, "f")
        return written.replace(".", dialect.decimal)
    if isinstance(value, float):
        return repr(value).replace(".", dialect.decimal)
    if dialect.spanish and isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
