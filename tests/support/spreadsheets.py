"""CSV downloads read as a spreadsheet reads them: the byte-order mark, then cells that are
numbers by the rules of the spreadsheet's language (LibreOffice's and Excel's: an optional
minus, digits in groups of three with the thousands separator or none, and an optional
decimal part after the decimal separator) and text otherwise."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

BOM = "\ufeff"
# (delimiter, thousands separator, decimal separator) of a spreadsheet set to each language.
LOCALES = {"en": (",", ",", "."), "es": (";", ".", ",")}


def without_bom(text: str) -> str:
    """`text` of a CSV download, which must begin with the UTF-8 byte-order mark."""
    assert text.startswith(BOM), f"no byte-order mark: {text[:40]!r}"
    return text.removeprefix(BOM)


def spreadsheet_rows(body: bytes, lang: str) -> list[dict[str, str]]:
    """The rows of a CSV download opened as UTF-8 (the byte-order mark says so) by a
    spreadsheet set to `lang`, each a mapping of header to cell text."""
    delimiter = LOCALES[lang][0]
    assert body.startswith(BOM.encode()), "no byte-order mark"
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig")), delimiter=delimiter))


def spreadsheet_number(cell: str, lang: str) -> Decimal | None:
    """The number a spreadsheet set to `lang` reads in `cell` (None: it reads text)."""
    _, thousands, decimal = LOCALES[lang]
    digits = rf"(\d{{1,3}}(\{thousands}\d{{3}})+|\d+)"
    match = re.fullmatch(rf"(-?){digits}(\{decimal}\d+)?", cell)
    if match is None:
        return None
    whole = match.group(2).replace(thousands, "")
    fraction = (match.group(4) or "").replace(decimal, ".")
    return Decimal(match.group(1) + whole + fraction)
