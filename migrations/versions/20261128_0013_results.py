"""Keep all of IATI's result model in the query tables: results' and indicators' reference
codes and document links, indicators' aggregation status and baselines, periods' order, and
the targets' and actuals' document links.

Filled for the activities already stored from their stored documents, matching each row by
its position (result; indicator within its result; period within its indicator, in the
order the rows were written, which is file order). The JSON is written here rather than by
`service.projection`, so that this revision keeps working when the projection grows.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 15:50:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
LISTS = {
    "result": ("reference_codes", "document_links"),
    "indicator": ("reference_codes", "baselines", "document_links"),
}
ACTIVITY = sa.table("activity", sa.column("id", sa.Integer()), sa.column("document", JSON_DOCUMENT))
RESULT = sa.table(
    "result", sa.column("id", sa.Integer()), sa.column("activity_id", sa.Integer()),
    sa.column("position", sa.Integer()),
    *(sa.column(name, JSON_DOCUMENT) for name in LISTS["result"]),
)
INDICATOR = sa.table(
    "indicator", sa.column("id", sa.Integer()), sa.column("result_id", sa.Integer()),
    sa.column("position", sa.Integer()), sa.column("aggregation_status", sa.Boolean()),
    *(sa.column(name, JSON_DOCUMENT) for name in LISTS["indicator"]),
)
PERIOD = sa.table(
    "indicator_period", sa.column("id", sa.Integer()), sa.column("indicator_id", sa.Integer()),
    sa.column("position", sa.Integer()), sa.column("targets", JSON_DOCUMENT),
    sa.column("actuals", JSON_DOCUMENT),
)


def upgrade() -> None:
    for table, names in LISTS.items():
        with op.batch_alter_table(table) as batch_op:
            for name in names:
                batch_op.add_column(sa.Column(name, JSON_DOCUMENT, nullable=True))
            if table == "indicator":
                batch_op.add_column(sa.Column("aggregation_status", sa.Boolean(), nullable=True))
    with op.batch_alter_table("indicator_period") as batch_op:
        batch_op.add_column(sa.Column("position", sa.Integer(), nullable=True))
    _backfill(op.get_bind())
    for table, names in LISTS.items():
        with op.batch_alter_table(table) as batch_op:
            for name in names:
                batch_op.alter_column(name, existing_type=JSON_DOCUMENT, nullable=False)
    with op.batch_alter_table("indicator_period") as batch_op:
        batch_op.alter_column("position", existing_type=sa.Integer(), nullable=False)


def _backfill(connection: sa.Connection) -> None:
    with_results = sa.select(RESULT.c.activity_id).distinct()
    documents = connection.execute(
        sa.select(ACTIVITY.c.id, ACTIVITY.c.document).where(ACTIVITY.c.id.in_(with_results))
    ).all()
    for activity_id, document in documents:
        results = (document or {}).get("results") or []
        stored = connection.execute(
            sa.select(RESULT.c.id, RESULT.c.position).where(RESULT.c.activity_id == activity_id)
        ).all()
        for result_id, position in stored:
            found = results[position - 1] if 0 < position <= len(results) else {}
            connection.execute(RESULT.update().where(RESULT.c.id == result_id).values(
                reference_codes=[_pick(ref, "code", "vocabulary", "vocabulary_uri")
                                 for ref in found.get("references") or []],
                document_links=_links(found),
            ))
            _indicators(connection, result_id, found.get("indicators") or [])
    # Rows whose document could not be matched still get their (empty) lists and order.
    for table, names in LISTS.items():
        for name in names:
            column = RESULT.c[name] if table == "result" else INDICATOR.c[name]
            connection.execute(column.table.update().where(column.is_(None)).values({name: []}))
    _number_periods(connection, None)


def _indicators(connection: sa.Connection, result_id: int, indicators: list[Any]) -> None:
    stored = connection.execute(
        sa.select(INDICATOR.c.id, INDICATOR.c.position).where(INDICATOR.c.result_id == result_id)
    ).all()
    for indicator_id, position in stored:
        found = indicators[position - 1] if 0 < position <= len(indicators) else {}
        flag = found.get("aggregation_status")
        connection.execute(INDICATOR.update().where(INDICATOR.c.id == indicator_id).values(
            aggregation_status=None if flag is None else bool(int(flag)),
            reference_codes=[_pick(ref, "vocabulary", "code", "indicator_uri")
                             for ref in found.get("references") or []],
            baselines=[_baseline(item) for item in found.get("baselines") or []],
            document_links=_links(found),
        ))
        _number_periods(connection, indicator_id, found.get("periods") or [])


def _number_periods(
    connection: sa.Connection, indicator_id: int | None, periods: list[Any] | None = None
) -> None:
    """Each period's position (and its values' document links); with no `indicator_id`,
    the periods still unnumbered."""
    chosen = (PERIOD.c.position.is_(None) if indicator_id is None
              else PERIOD.c.indicator_id == indicator_id)
    stored = connection.execute(
        sa.select(PERIOD.c.id, PERIOD.c.indicator_id, PERIOD.c.targets, PERIOD.c.actuals)
        .where(chosen).order_by(PERIOD.c.indicator_id, PERIOD.c.id)
    ).all()
    numbers: dict[int, int] = {}
    for period_id, owner, targets, actuals in stored:
        numbers[owner] = numbers.get(owner, 0) + 1
        found = (periods or [])[numbers[owner] - 1] if numbers[owner] <= len(periods or []) else {}
        connection.execute(PERIOD.update().where(PERIOD.c.id == period_id).values(
            position=numbers[owner],
            targets=_linked_values(targets or [], found.get("targets") or []),
            actuals=_linked_values(actuals or [], found.get("actuals") or []),
        ))


def _linked_values(stored: list[Any], published: list[Any]) -> list[Any]:
    """The stored targets (or actuals) with the document links of the published ones."""
    values = []
    for number, value in enumerate(stored):
        links = _links(published[number]) if number < len(published) else []
        values.append({**value, **({"document_links": links} if links else {})})
    return values


def _baseline(item: dict[str, Any]) -> dict[str, Any]:
    return _compact(
        year=item.get("year"), iso_date=_date(item.get("iso_date")), value=item.get("value"),
        comment=_text(item.get("comment")),
        locations=[p["ref"] for p in item.get("locations") or [] if p.get("ref") is not None],
        dimensions=[_pick(d, "name", "value") for d in item.get("dimensions") or []],
        document_links=_links(item),
    )


def _links(element: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        _compact(
            url=link.get("url"), format=link.get("format"), title=_text(link.get("title")),
            categories=[c["code"] for c in link.get("categories") or [] if c.get("code")],
            languages=[c["code"] for c in link.get("languages") or [] if c.get("code")],
            document_date=_date((link.get("document_date") or {}).get("iso_date")),
        )
        for link in element.get("document_links") or []
    ]


def _text(narratives: dict[str, Any] | None) -> str | None:
    found = (narratives or {}).get("narratives") or []
    return found[0].get("text") if found else None


def _date(text: Any) -> str | None:
    return str(text)[:10] if text else None


def _pick(item: dict[str, Any], *names: str) -> dict[str, Any]:
    return _compact(**{name: item.get(name) for name in names})


def _compact(**values: Any) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None and value != []}


def downgrade() -> None:
    with op.batch_alter_table("indicator_period") as batch_op:
        batch_op.drop_column("position")
    for table, names in reversed(LISTS.items()):
        with op.batch_alter_table(table) as batch_op:
            if table == "indicator":
                batch_op.drop_column("aggregation_status")
            for name in reversed(names):
                batch_op.drop_column(name)
