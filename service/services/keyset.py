"""Keyset pages of the transaction and budget lists in a chosen order, with opaque cursors.

A page ends at its last row's sort value and row id; the next page starts strictly after
that pair, so rows written meanwhile never shift a page, and none is seen twice. Rows
without the sort value (an undated transaction, say) sort as the earliest value: first
in ascending order, last in descending order.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Column, ColumnElement, Date, and_, func, literal, or_

from service.services.query import BadCursorError, cursor_value
from service.services.query import row_id as is_row_id

NO_DATE = date(1, 1, 1)


@dataclass(frozen=True)
class Order:
    """One list's order: `key` (None: the stored order, by `row_id` alone), then `row_id`."""

    kind: str  # which list the cursor belongs to
    sort: str  # the sort's name, as asked for
    row_id: Column[Any]
    key: ColumnElement[Any] | None = None
    descending: bool = False
    dated: bool = False  # the key is a date (nulls sort as NO_DATE)

    @property
    def value(self) -> ColumnElement[Any] | None:
        """The sort value as selected, labelled `sort_key`."""
        if self.key is None:
            return None
        key = func.coalesce(self.key, literal(NO_DATE, Date)) if self.dated else self.key
        return key.label("sort_key")

    def order_by(self) -> list[ColumnElement[Any]]:
        columns = [self.row_id] if self.value is None else [self.value, self.row_id]
        return [column.desc() if self.descending else column.asc() for column in columns]

    def after(self, cursor: str) -> ColumnElement[bool]:
        """The rows after the one that `cursor` names."""
        value, row_id = self._decode(cursor)
        value_column = self.value
        if value_column is None:
            return self.row_id > row_id
        key = value_column.element  # the expression under its label
        if self.descending:
            return or_(key < value, and_(key == value, self.row_id < row_id))
        return or_(key > value, and_(key == value, self.row_id > row_id))

    def cursor(self, row: Any) -> str:
        """The cursor of the page that ends with `row` (which has `sort_key` if sorted)."""
        value = row["sort_key"] if self.key is not None else None
        shown = value.isoformat() if isinstance(value, date) else value
        raw = json.dumps([self.kind, self.sort, shown, row["id"]]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def _decode(self, cursor: str) -> tuple[Any, int]:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            kind, sort, value, row_id = json.loads(raw)
            if (kind, sort) != (self.kind, self.sort) or not cursor_value(value) \
                    or not is_row_id(row_id):
                raise ValueError(kind)
            if self.dated:
                value = date.fromisoformat(value)
        except (ValueError, TypeError, RecursionError):
            raise BadCursorError(
                f"This cursor was not made by the {self.kind} list in this order; start "
                "again without one and pass each page's next_cursor back unchanged.",
                cursor=cursor,
            ) from None
        return value, row_id
