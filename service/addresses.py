"""The canonical API address of an activity and of its parts, with the identifier in the
query string, so that no identifier, however it ends, reads as a part of another."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote, urlencode

ACTIVITY_PATH = "/api/v1/activity"
IDENTIFIER_PARAMETER = "iati_identifier"


def activity_url(
    identifier: str, part: str = "", *, query: Iterable[tuple[str, str]] = (),
) -> str:
    """The address of activity `identifier`, or of its `part` (`versions`, `versions/3`,
    `links`, `budget-view`), with the further `query` parameters."""
    path = f"{ACTIVITY_PATH}/{part}" if part else ACTIVITY_PATH
    # `/` needs no escape in a query; every other reserved character is escaped.
    pairs = [(IDENTIFIER_PARAMETER, identifier), *query]
    return f"{path}?{urlencode(pairs, safe='/', quote_via=quote)}"
