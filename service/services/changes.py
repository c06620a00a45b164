"""The change feed: every change of an activity, and of an agreement the ministry records,
in commit order, behind a monotonic cursor.

`log_change` is called by the transaction that changes an activity, as its last write:
it draws the next `seq` from `change_counter`, whose row it keeps locked until the
transaction ends (SQLite's writers take turns anyway), so changes become visible in
`seq` order. `changes_since` pages through them: a client that passes back each page's
`next` cursor sees every change exactly once.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel
from sqlalchemy import Connection, Table, insert, select, update
from sqlmodel import Session

from service.errors import DomainError
from service.models import ActivityChange, ChangeCounter, utcnow
from service.readmodel.clock import record

CHANGE: Table = ActivityChange.__table__  # type: ignore[attr-defined]
COUNTER: Table = ChangeCounter.__table__  # type: ignore[attr-defined]
_NEXT = (
    update(COUNTER).where(COUNTER.c.id == 1).values(value=COUNTER.c.value + 1)
    .returning(COUNTER.c.value)
)
_FIRST = insert(COUNTER).values(id=1, value=1)
_INSERT = insert(CHANGE)


def log_change(
    connection: Connection, *, activity_id: int, iati_identifier: str,
    reporting_org_ref: str | None, version: int, kind: str, push_id: str | None,
) -> int:
    """Log one change in the caller's transaction; its `seq`."""
    return _logged(connection, {
        "activity_id": activity_id, "iati_identifier": iati_identifier,
        "reporting_org_ref": reporting_org_ref, "version": version, "kind": kind,
        "push_id": push_id,
    })


def log_agreement_change(
    connection: Connection, *, agreement_id: int, version: int, kind: str
) -> int:
    """Log one change of an agreement (`kind`: one of `AGREEMENT_KINDS`) in the caller's
    transaction; its `seq`."""
    if kind not in AGREEMENT_KINDS:
        raise ValueError(f"{kind!r} is not a change of an agreement")
    seq = _logged(connection, {"agreement_id": agreement_id, "version": version, "kind": kind})
    # An admin edit the results page shows: the clock moves with it (after the change log,
    # the order every write takes their locks in).
    record(connection, "agreement", details={"agreement_id": agreement_id, "kind": kind})
    return seq


# The kinds of an agreement's changes; an activity's are `created`, `updated`, `deleted`,
# `restored` and `transferred`.
AGREEMENT_KINDS = ("agreement.created", "agreement.updated", "agreement.deleted")


def _logged(connection: Connection, row: dict[str, object]) -> int:
    seq = connection.execute(_NEXT).scalar()
    if seq is None:  # the migration makes the row; without it, the log starts here
        connection.execute(_FIRST)
        seq = 1
    connection.execute(_INSERT, {**row, "seq": seq, "changed_at": utcnow()})
    return int(seq)


class CursorAheadError(DomainError):
    """A cursor beyond the feed's head: no page ever answered it, and following it would
    skip every change made until the head reaches it."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "changes.cursor-ahead"
    title: ClassVar[str] = "The cursor is ahead of the change feed"

    def __init__(self, since: int, head: int) -> None:
        super().__init__(
            f"The feed's last change is {head}; `since` {since} was never a page's `next`. "
            f"Follow the feed from 0, or from the `next` of the last page you read.",
            since=since, head=head,
        )


class ChangePublic(BaseModel):
    """One change: which activity (or agreement: `agreement_id`, no identifier), its
    version now, what happened and when."""

    seq: int
    iati_identifier: str | None
    agreement_id: int | None = None
    reporting_org: str | None
    version: int
    kind: str
    push_id: str | None
    changed_at: datetime


class ChangesPage(BaseModel):
    """Changes after a cursor, oldest first; `next` is the cursor to ask with next time."""

    changes: list[ChangePublic]
    next: str
    more: bool


def changes_since(
    session: Session, since: int, *, limit: int, reporting_org: str | None = None
) -> ChangesPage:
    """Up to `limit` changes with a `seq` above `since`, in `seq` order."""
    statement = select(CHANGE).where(CHANGE.c.seq > since)
    if reporting_org is not None:
        statement = statement.where(CHANGE.c.reporting_org_ref == reporting_org)
    rows = session.connection().execute(
        statement.order_by(CHANGE.c.seq).limit(limit + 1)
    ).mappings().all()
    page = [
        ChangePublic(
            seq=row["seq"], iati_identifier=row["iati_identifier"],
            agreement_id=row["agreement_id"],
            reporting_org=row["reporting_org_ref"], version=row["version"], kind=row["kind"],
            push_id=row["push_id"], changed_at=row["changed_at"],
        )
        for row in rows[:limit]
    ]
    if not page and since > (head := _head(session)):
        raise CursorAheadError(since, head)
    last = page[-1].seq if page else since
    return ChangesPage(changes=page, next=str(last), more=len(rows) > limit)


def _head(session: Session) -> int:
    """The last change's `seq` (0 before any)."""
    value = session.connection().execute(select(COUNTER.c.value).where(COUNTER.c.id == 1))
    return int(value.scalar() or 0)
