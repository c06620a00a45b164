"""Process a started push: each activity checked, then stored or settled, every outcome recorded.

By default each activity that changes is one transaction (its row, version, query-table
rows, partner links, its outcome and the push's counters), so a failure or a killed
process leaves every activity at its old or its new version, and the push record says
which. The activities are taken in windows of a few dozen: the outcomes that write
nothing (rejected, unchanged, stale) are decided and recorded together, in one
transaction per window that locks the window's stored activities. In ``atomic`` mode
the whole file is one transaction, rolled back if any activity is rejected. ``dataset``
scope then marks the publisher's activities absent from the file deleted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from service.db import for_writing, session_scope
from service.identifiers import identifier_key, within_limit
from service.models import Activity, Outcome, PushMode, PushScope, PushStatus
from service.services.push.findings import (
    PushCode,
    identifier_refusal,
    push_finding,
    rejects,
    repeated_identifier,
)
from service.services.push.ownership import Publisher, claims
from service.services.push.partners import PartnerLinks
from service.services.push.reading import Incoming, PushedFile
from service.services.push.records import (
    OutcomeRecord,
    finish_push,
    record_outcome,
    record_outcomes,
)
from service.services.push.storage import (
    Applied,
    locked_states,
    store,
    tombstone,
    unlocked_hashes,
    verdict,
)

Progress = Callable[[int], None]
_ATTEMPTS = 3  # an insert racing another push's insert of the same activity is retried
__all__ = ["Progress", "Publisher", "PushOptions", "PushRun"]


@dataclass(frozen=True, slots=True)
class PushOptions:
    """How to push: `mode`, `scope`, and for PUT the one identifier the file must hold.

    With ``dataset`` scope, `keep` names activities not to delete although the file lacks
    them: those of the publisher's other datasets (a pull sync reads several).
    """

    mode: PushMode = PushMode.default
    scope: PushScope = PushScope.activities
    only: str | None = None
    keep: frozenset[str] = frozenset()


@dataclass
class PushRun:
    """One push being processed: `process` it once."""

    engine: Engine
    push_id: str
    publisher: Publisher
    options: PushOptions
    pushed: PushedFile
    progress: Progress | None
    seen: dict[str, str] = field(default_factory=dict)  # each identifier key: its spelling
    outcomes: list[tuple[Incoming, Applied]] = field(default_factory=list)
    deletions: int = 0
    partners: PartnerLinks = field(default_factory=PartnerLinks)
    connection: Connection | None = None
    # Resuming a push another worker left: the positions whose outcome it recorded.
    done: frozenset[int] = frozenset()

    def process(self) -> None:
        """Every activity of the file, then the push marked completed."""
        if self.options.mode is PushMode.atomic:
            if not self.done:  # an atomic push records its outcomes all at once, or none
                self._process_atomically()
        else:
            self._process_each()
        findings = [finding.as_dict() for finding in self.pushed.file_findings]
        finish_push(
            self.engine, self.push_id, status=PushStatus.completed, findings=findings,
            bytes_read=self.pushed.bytes_read,
        )

    # Default mode: one transaction per activity -------------------------------------

    def _process_each(self) -> None:
        # One connection for the whole push: each transaction begins and ends on it, with
        # no pool checkout (nor PostgreSQL's pre-ping) per activity.
        with for_writing(self.engine).connect() as self.connection:
            for window in self.pushed.windows():
                self._process_window(window)
                self._advance()
            if self.options.scope is PushScope.dataset:
                for activity_id in self._absent():
                    with self._transaction() as session:
                        self._delete(session, activity_id)

    def _process_window(self, window: list[Incoming]) -> None:
        """Record the outcomes of `window` that write nothing (rejected, unchanged, stale)
        together, in one transaction; then store each other activity in its own."""
        window = self._not_done(window)
        if not window:
            return
        self._check_window(window)
        screened = [(incoming, self._screen(incoming)) for incoming in window]
        # Each candidate's stored form and hash are made before the window's locks are taken.
        wanted = [_key(incoming) for incoming, refused in screened
                  if refused is None and incoming.content_hash and incoming.identifier]
        to_store: list[Incoming] = []
        with self._transaction() as session:
            connection = session.connection()
            states = locked_states(connection, wanted)
            claimed = claims(connection, wanted)
            settled: list[OutcomeRecord] = []
            for incoming, applied in screened:
                if applied is None:
                    key = _key(incoming)
                    applied = verdict(connection, states.get(key), incoming,
                                      publisher=self.publisher, claim=claimed.get(key))
                if applied is None:
                    to_store.append(incoming)
                else:
                    settled.append(_outcome(incoming, applied))
            record_outcomes(session, self.push_id, settled, bytes_read=self.pushed.bytes_read)
        for incoming in to_store:
            if not incoming.checked:  # assumed unchanged, but changed since: check it now
                incoming.check()
                refused = self._screen(incoming)
                if refused is not None:
                    with self._transaction() as session:
                        self._record(session, incoming, refused)
                    continue
            self._apply(incoming, absent=_key(incoming) not in states)

    def _not_done(self, window: list[Incoming]) -> list[Incoming]:
        """The activities of `window` without a recorded outcome; the identifiers of the
        others are noted as seen, as if they had just been processed."""
        if not self.done:
            return window
        for incoming in window:
            raw = incoming.raw_identifier
            if incoming.position in self.done and raw and identifier_refusal(raw) is None:
                self.seen.setdefault(identifier_key(raw), raw)
        return [incoming for incoming in window if incoming.position not in self.done]

    def _check_window(self, window: list[Incoming]) -> None:
        """Check each activity of `window`, but those whose XML is their stored version's
        (same received hash): those are assumed unchanged, unread (the locks confirm it)."""
        keys = {incoming.position: identifier_key(incoming.raw_identifier) for incoming in window
                if incoming.raw_identifier and within_limit(incoming.raw_identifier)}
        with self._transaction() as session:
            known = unlocked_hashes(session.connection(), sorted(set(keys.values())),
                                    organisation_id=self.publisher.organisation_id)
        for incoming in window:
            hint = known.get(keys.get(incoming.position, ""))
            if hint is None or hint.received_hash != incoming.received_hash:
                incoming.check()
            else:
                incoming.assume_unchanged(hint.content_hash, hint.findings)

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        """A transaction on the push's connection: committed, or rolled back if it raises."""
        assert self.connection is not None
        with Session(self.connection, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def _apply(self, incoming: Incoming, *, absent: bool) -> None:
        """Store `incoming` in a transaction of its own (see `store` for `absent`)."""
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                with self._transaction() as session:
                    applied = self._store(session, incoming, absent=absent)
                    self._record(session, incoming, applied)
            except IntegrityError:
                self.partners.forget()
                absent = False
                if attempt == _ATTEMPTS:
                    raise
            else:
                self.partners.keep()
                return

    # Rehearsal: what a push would do now, storing nothing -----------------------------

    def rehearse(self) -> list[OutcomeRecord]:
        """Each activity's outcome as a push with these options would decide it now, and
        with ``dataset`` scope the deletions: the same checks and verdicts, no lock taken,
        nothing written. In ``atomic`` mode, one refusal leaves every other activity
        refused too, as the push would."""
        decided: list[tuple[OutcomeRecord, list[dict[str, Any]]]] = []  # and each one's kept
        with session_scope(self.engine) as session:
            for window in self.pushed.windows():
                for incoming in window:
                    incoming.check()
                decided += self._rehearse_window(session, window)
            if self.options.scope is PushScope.dataset:
                for _, identifier, version in self._absent_rows(session):
                    # numbered after the file's activities, as a push numbers them
                    deletion = OutcomeRecord(
                        len(decided) + 1, identifier, Outcome.deleted, version + 1, []
                    )
                    decided.append((deletion, []))
        records = [record for record, _ in decided]
        if self.options.mode is PushMode.atomic and any(
            record.outcome is Outcome.rejected for record in records
        ):
            records = [
                record if record.outcome is Outcome.rejected
                else _aborted(replace(record, findings=kept))
                for record, kept in decided if record.outcome is not Outcome.deleted
            ]
        return records

    def _rehearse_window(
        self, session: Session, window: list[Incoming]
    ) -> list[tuple[OutcomeRecord, list[dict[str, Any]]]]:
        screened = [(incoming, self._screen(incoming)) for incoming in window]
        wanted = [_key(incoming) for incoming, refused in screened
                  if refused is None and incoming.identifier]
        connection = session.connection()
        states = locked_states(connection, wanted, lock=False)
        claimed = claims(connection, wanted)
        decided = []
        for incoming, refused in screened:
            stored = states.get(_key(incoming)) if refused is None else None
            applied = refused or verdict(connection, stored, incoming, publisher=self.publisher,
                                         claim=claimed.get(_key(incoming)))
            if applied is None:
                new = stored is None or stored.deleted_at is not None
                applied = Applied(
                    Outcome.created if new else Outcome.updated,
                    (0 if stored is None else stored.version) + 1, incoming.kept,
                )
            decided.append((_outcome(incoming, applied), incoming.kept))
        return decided

    # Atomic mode: the whole file in one transaction ----------------------------------

    def _process_atomically(self) -> None:
        aborted = False
        try:
            with session_scope(self.engine, write=True) as session:
                aborted = self._apply_all(session)
                if aborted:
                    session.rollback()
                    return
                if self.options.scope is PushScope.dataset:
                    for activity_id in self._absent(session):
                        self._delete(session, activity_id)
                record_outcomes(
                    session, self.push_id, [_outcome(*pair) for pair in self.outcomes],
                    bytes_read=self.pushed.bytes_read,
                )
        finally:
            if aborted:
                self._record_abort()

    def _apply_all(self, session: Session) -> bool:
        """Store each activity until one is rejected; whether one was."""
        failed = False
        for incoming in self.pushed.activities():
            applied = self._screen(incoming)
            if applied is None and not failed:
                applied = self._store_in_savepoint(session, incoming)
            failed = failed or (applied is not None and applied.outcome is Outcome.rejected)
            self.outcomes.append((incoming, applied or Applied(Outcome.rejected)))
            self._advance()
        return failed

    def _store_in_savepoint(self, session: Session, incoming: Incoming) -> Applied:
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                with session.begin_nested():
                    applied = self._store(session, incoming)
            except IntegrityError:
                self.partners.forget()
                if attempt == _ATTEMPTS:
                    raise
            else:
                self.partners.keep()
                return applied
        raise AssertionError("unreachable")

    def _record_abort(self) -> None:
        records = [
            _outcome(incoming, applied)
            if applied.outcome is Outcome.rejected and applied.findings  # refused itself
            else _aborted(_outcome(incoming, Applied(applied.outcome, None, incoming.kept)))
            for incoming, applied in self.outcomes
        ]
        with session_scope(self.engine, write=True) as session:
            record_outcomes(session, self.push_id, records, bytes_read=self.pushed.bytes_read)

    # Shared steps ---------------------------------------------------------------------

    def _screen(self, incoming: Incoming) -> Applied | None:
        """The rejection of `incoming` decided before the store is consulted, if any."""
        kept = incoming.kept
        refusal = self._refusal(incoming)
        if refusal is not None:
            return Applied(Outcome.rejected, None, [*kept, refusal])
        if any(rejects(finding) for finding in incoming.findings):
            return Applied(Outcome.rejected, None, kept)
        return None

    def _refusal(self, incoming: Incoming) -> dict[str, Any] | None:
        identifier, only = incoming.identifier, self.options.only
        refused = identifier_refusal(identifier)
        if refused is not None or not identifier:
            return refused
        key = identifier_key(identifier)
        earlier = self.seen.setdefault(key, identifier)
        if earlier != identifier:
            return repeated_identifier(identifier, earlier)
        if only is not None and (incoming.position > 1 or key != identifier_key(only)):
            return push_finding(
                PushCode.identifier_mismatch if incoming.position == 1
                else PushCode.not_one_activity,
                f"This request replaces activity {only} only; the file must hold exactly "
                "that one activity.",
                activity=identifier, actual=identifier,
            )
        ref = incoming.reporting_org_ref
        if ref not in self.publisher.refs:
            return push_finding(
                PushCode.not_your_activity,
                f"reporting-org/@ref {ref!r} is not an identifier of your organisation "
                f"({', '.join(sorted(self.publisher.refs))}).",
                activity=identifier, actual=ref,
            )
        return None

    def _store(self, session: Session, incoming: Incoming, *, absent: bool = False) -> Applied:
        return store(
            session, incoming, publisher=self.publisher, push_id=self.push_id,
            iati_version=self.pushed.version, partners=self.partners, absent=absent,
        )

    def _record(self, session: Session, incoming: Incoming, applied: Applied) -> None:
        record_outcomes(
            session, self.push_id, [_outcome(incoming, applied)],
            bytes_read=self.pushed.bytes_read,
        )

    def _advance(self) -> None:
        if self.progress is not None:
            self.progress(self.pushed.bytes_read)

    def _absent(self, session: Session | None = None) -> list[int]:
        """The publisher's live activities that the file did not name (nor `keep`)."""
        return [key for key, _, _ in self._absent_rows(session)]

    def _absent_rows(self, session: Session | None = None) -> list[tuple[int, str, int]]:
        """The id, identifier and version of each activity `_absent` names (one without a
        key, set apart by revision 0020, is never in the file)."""
        statement = select(
            Activity.id, Activity.iati_identifier, Activity.identifier_key, Activity.version
        ).where(
            Activity.organisation_id == self.publisher.organisation_id,
            col(Activity.deleted_at).is_(None),
        ).order_by(col(Activity.iati_identifier))
        if session is not None:
            rows = session.exec(statement).all()
        else:
            with session_scope(self.engine) as reading:
                rows = reading.exec(statement).all()
        kept = self.seen.keys() | {identifier_key(named) for named in self.options.keep}
        return [(row_id, identifier, version) for row_id, identifier, key, version in rows
                if key not in kept and row_id]

    def _delete(self, session: Session, activity_id: int) -> None:
        locked = session.exec(
            select(Activity).where(Activity.id == activity_id).with_for_update()
            .execution_options(populate_existing=True)
        ).first()
        if locked is None or locked.deleted_at is not None:
            return  # deleted meanwhile
        version = tombstone(session, locked, push_id=self.push_id)
        self.deletions += 1  # deletions are numbered after the file's activities
        record_outcome(
            session, self.push_id, position=self.pushed.count + self.deletions,
            identifier=locked.iati_identifier, outcome=Outcome.deleted, version=version,
            findings=[], activity_id=locked.id,
        )


def _aborted(record: OutcomeRecord) -> OutcomeRecord:
    """`record`, not refused itself, in an atomic push that another's refusal aborted."""
    abort = push_finding(
        PushCode.atomic_abort, "Not applied: the push is atomic and another activity was rejected.",
        activity=record.identifier,
    )
    return OutcomeRecord(
        record.position, record.identifier, Outcome.rejected, None, [*record.findings, abort]
    )


def _key(incoming: Incoming) -> str:
    """The key of `incoming`'s identifier (one that passed the screening)."""
    return identifier_key(incoming.identifier or "")


def _outcome(incoming: Incoming, applied: Applied) -> OutcomeRecord:
    return OutcomeRecord(
        incoming.position, incoming.identifier, applied.outcome, applied.version,
        applied.findings, applied.activity_id,
    )
