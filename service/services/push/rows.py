"""Write an activity's query-table rows with SQLAlchemy Core: one multi-row INSERT per table.

The rows come from `service.projection.query_rows`. Parent rows (transactions, results,
indicators) are inserted before their children, with their ids known by then, so that
each child's `ParentRow` becomes its parent's id. The statements are built once, so
that SQLAlchemy compiles each once per process.

An indexed text value (a code, an organisation or activity identifier) longer than
`IDENTIFIER_LIMIT` bytes is none that exists, and larger than PostgreSQL's index takes:
it is left out of the query tables (a link to such an activity, the row), as on SQLite;
the activity's document keeps it as published.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, Insert, Select, Table, bindparam, delete, func, insert, select
from sqlmodel.sql.sqltypes import AutoString

from service.identifiers import within_limit
from service.models import QUERY_TABLES
from service.projection import ParentRow, QueryRows, Row


def _table(name: str) -> Table:
    table: Table = QueryRows.MODELS[name].__table__  # type: ignore[attr-defined]
    return table


def _new_ids(table: Table) -> Select[Any]:
    """PostgreSQL: ``:count`` new ids from the sequence of `table`'s id column."""
    sequence = func.pg_get_serial_sequence(table.name, "id")
    return select(func.nextval(sequence)).select_from(
        func.generate_series(1, bindparam("count"))
    )


def indexed_text(table: Table) -> dict[str, bool]:
    """The text columns of `table`'s indexes, each with whether it may be null."""
    return {column.name: bool(column.nullable) for index in table.indexes
            for column in index.columns if isinstance(column.type, sa.String | AutoString)}


def indexable(row: dict[str, Any], columns: dict[str, bool]) -> dict[str, Any] | None:
    """`row` with each over-long value of the indexed text `columns` left out (null); None
    if one of them may not be null."""
    for name, nullable in columns.items():
        value = row.get(name)
        if isinstance(value, str) and not within_limit(value):
            if not nullable:
                return None
            row[name] = None
    return row


_INSERT: dict[str, Insert] = {name: insert(_table(name)) for name in QueryRows.MODELS}
_INDEXED = {name: indexed_text(_table(name)) for name in QueryRows.MODELS}
_INSERT_RETURNING: dict[str, Insert] = {
    name: insert(_table(name)).returning(_table(name).c.id, sort_by_parameter_order=True)
    for name in QueryRows.MODELS
}
_NEW_IDS = {name: _new_ids(_table(name)) for name in QueryRows.MODELS}
# Children first: the order in which an activity's rows can be deleted.
_DELETE = [
    delete(table).where(table.c.activity_id == bindparam("activity"))
    for table in (model.__table__ for model in QUERY_TABLES)  # type: ignore[attr-defined]
]


def insert_rows(connection: Connection, activity_id: int, rows: QueryRows) -> None:
    """Insert the activity's query-table rows (in the caller's transaction)."""
    ids: dict[str, list[int]] = {}
    parents = rows.parents()
    for name, _, values in rows.by_table():
        resolved = [kept for row in values
                    if (kept := indexable(_resolved(row, activity_id, ids), _INDEXED[name]))]
        # Only a leaf's row is left out whole (a link's target may not be null).
        assert name not in parents or len(resolved) == len(values)
        if not resolved:
            continue
        if name not in parents:
            connection.execute(_INSERT[name], resolved)
        elif connection.dialect.name == "postgresql":
            # Ids from the table's sequence first; the rows then go as one pipelined
            # executemany of a prepared statement. (RETURNING them would send a new, long
            # statement each time, which the driver parses anew.)
            found = connection.execute(_NEW_IDS[name], {"count": len(resolved)}).scalars()
            ids[name] = list(found)
            for row, key in zip(resolved, ids[name], strict=True):
                row["id"] = key
            connection.execute(_INSERT[name], resolved)
        else:
            ids[name] = list(connection.execute(_INSERT_RETURNING[name], resolved).scalars())


def delete_rows(connection: Connection, activity_id: int) -> None:
    """Delete the activity's rows from every query table, children first."""
    for statement in _DELETE:
        connection.execute(statement, {"activity": activity_id})


def _resolved(row: Row, activity_id: int, ids: dict[str, list[int]]) -> Row:
    values = {
        key: ids[value.table][value.index] if isinstance(value, ParentRow) else value
        for key, value in row.items()
    }
    values["activity_id"] = activity_id
    return values
