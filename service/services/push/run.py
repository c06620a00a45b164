"""Push a file: check each activity, store it in its own transaction, record every outcome.

By default each activity is one transaction (its row, version, query-table rows, partner
links, its outcome and the push's counters), so a failure or a killed process leaves
every activity at its old or its new version, and the push record says which. In
``atomic`` mode the whole file is one transaction, rolled back if any activity is
rejected. ``dataset`` scope then marks the publisher's activities absent from the file
deleted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from iati.errors import IatiInputError
from service.db import session_scope
from service.errors import DomainError
from service.models import Activity, Outcome, Push, PushMode, PushScope, PushStatus
from service.services.push.findings import PushCode, push_finding, rejects, reported
from service.services.push.intake import ReceivedFile
from service.services.push.reading import Incoming, PushedFile
from service.services.push.records import (
    PushPublic,
    finish_push,
    push_document,
    record_outcome,
)
from service.services.push.storage import Applied, store, tombstone

Progress = Callable[[int], None]
_ATTEMPTS = 3  # an insert racing another push's insert of the same activity is retried


@dataclass(frozen=True, slots=True)
class Publisher:
    """Who pushes: the organisation, its IATI identifiers, and the key used (if any)."""

    organisation_id: int
    refs: frozenset[str]
    api_key_id: int | None = None


@dataclass(frozen=True, slots=True)
class PushOptions:
    """How to push: `mode`, `scope`, and for PUT the one identifier the file must hold."""

    mode: PushMode = PushMode.default
    scope: PushScope = PushScope.activities
    only: str | None = None


class UnreadableFileError(DomainError):
    """The file cannot be read as IATI XML; the push is recorded as failed."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = "input.unreadable"
    title: ClassVar[str] = "The input is not readable IATI XML"

    def __init__(self, error: IatiInputError, *, push_id: str) -> None:
        extra: dict[str, Any] = {"push_id": push_id}
        if error.line is not None:
            extra["line"] = error.line
        super().__init__(error.message, **extra)
        # The problem carries the reader's own code (input.not-xml, input.not-iati, …).
        self.code = error.code  # type: ignore[misc]


class NotOneActivityError(DomainError):
    """A PUT body must hold exactly the activity of its URL."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = PushCode.not_one_activity.value
    title: ClassVar[str] = "The file must hold exactly this activity"


def start_push(
    engine: Engine, *, publisher: Publisher, received: ReceivedFile, options: PushOptions
) -> str:
    """Record a new running push of `received`; its id."""
    push = Push(
        organisation_id=publisher.organisation_id, api_key_id=publisher.api_key_id,
        mode=options.mode, scope=options.scope, sha256=received.sha256,
        size_bytes=received.size,
    )
    with session_scope(engine, write=True) as session:
        session.add(push)
    return push.id


def push_file(
    engine: Engine, *, publisher: Publisher, received: ReceivedFile,
    options: PushOptions | None = None, max_bytes: int, today: date | None = None,
    progress: Progress | None = None,
) -> PushPublic:
    """Push `received` for `publisher`: the push document once every activity is done."""
    chosen = options or PushOptions()
    push_id = start_push(engine, publisher=publisher, received=received, options=chosen)
    return run_push(
        engine, push_id, publisher=publisher, received=received, options=chosen,
        max_bytes=max_bytes, today=today, progress=progress,
    )


def run_push(
    engine: Engine, push_id: str, *, publisher: Publisher, received: ReceivedFile,
    options: PushOptions, max_bytes: int, today: date | None = None,
    progress: Progress | None = None,
) -> PushPublic:
    """Process the started push `push_id` (see `start_push`); its document at the end.

    Raises `UnreadableFileError` (the push then failed) if the file is not IATI XML.
    """
    pushed = PushedFile(received.path, today or datetime.now(UTC).date(), max_bytes)
    run = _Run(engine, push_id, publisher, options, pushed, progress)
    try:
        with _recorded_failure(engine, push_id):
            run.process()
    except IatiInputError as error:
        raise UnreadableFileError(error, push_id=push_id) from None
    with session_scope(engine) as session:
        document = push_document(session, push_id)
    if options.only is not None and document.activities_seen == 0:
        raise NotOneActivityError(
            f"The file holds no activity; send the one activity {options.only}.",
            push_id=push_id,
        )
    return document


@contextmanager
def _recorded_failure(engine: Engine, push_id: str) -> Iterator[None]:
    """Mark the push failed, with a finding saying why, if processing raises."""
    try:
        yield
    except IatiInputError as error:
        finding = {**error.as_dict(), "severity": "critical", "stage": "read"}
        finish_push(engine, push_id, status=PushStatus.failed, findings=[finding])
        raise
    except BaseException as error:
        finding = {
            "code": "push.internal-error", "severity": "critical", "stage": "push",
            "message": f"The push stopped on an internal error ({type(error).__name__}).",
        }
        finish_push(engine, push_id, status=PushStatus.failed, findings=[finding])
        raise


@dataclass
class _Run:
    """One push being processed."""

    engine: Engine
    push_id: str
    publisher: Publisher
    options: PushOptions
    pushed: PushedFile
    progress: Progress | None
    seen: set[str] = field(default_factory=set)
    outcomes: list[tuple[Incoming, Applied]] = field(default_factory=list)
    deletions: int = 0

    def process(self) -> None:
        if self.options.mode is PushMode.atomic:
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
        for incoming in self.pushed.activities():
            refused = self._screen(incoming)
            if refused is not None:
                with session_scope(self.engine, write=True) as session:
                    self._record(session, incoming, refused)
            else:
                self._apply(incoming)
            self._advance()
        if self.options.scope is PushScope.dataset:
            for activity_id in self._absent():
                with session_scope(self.engine, write=True) as session:
                    self._delete(session, activity_id)

    def _apply(self, incoming: Incoming) -> None:
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                with session_scope(self.engine, write=True) as session:
                    applied = self._store(session, incoming)
                    self._record(session, incoming, applied)
                return
            except IntegrityError:
                if attempt == _ATTEMPTS:
                    raise

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
                for incoming, applied in self.outcomes:
                    self._record(session, incoming, applied)
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
                    return self._store(session, incoming)
            except IntegrityError:
                if attempt == _ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    def _record_abort(self) -> None:
        with session_scope(self.engine, write=True) as session:
            for incoming, applied in self.outcomes:
                if applied.outcome is not Outcome.rejected or not applied.findings:
                    applied = Applied(Outcome.rejected, None, [
                        *reported(incoming.findings),
                        push_finding(
                            PushCode.atomic_abort,
                            "Not applied: the push is atomic and another activity was "
                            "rejected.",
                            activity=incoming.identifier,
                        ),
                    ])
                self._record(session, incoming, applied)

    # Shared steps ---------------------------------------------------------------------

    def _screen(self, incoming: Incoming) -> Applied | None:
        """The rejection of `incoming` decided before the store is consulted, if any."""
        identifier = incoming.identifier
        if identifier:
            self.seen.add(identifier)
        kept = reported(incoming.findings)
        refusal = self._refusal(incoming)
        if refusal is not None:
            return Applied(Outcome.rejected, None, [*kept, refusal])
        if any(rejects(finding) for finding in incoming.findings):
            return Applied(Outcome.rejected, None, kept)
        return None

    def _refusal(self, incoming: Incoming) -> dict[str, Any] | None:
        identifier, only = incoming.identifier, self.options.only
        if not identifier:
            return push_finding(PushCode.no_identifier, "The activity has no iati-identifier.")
        if only is not None and (incoming.position > 1 or identifier != only):
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

    def _store(self, session: Session, incoming: Incoming) -> Applied:
        return store(
            session, incoming, organisation_id=self.publisher.organisation_id,
            push_id=self.push_id, iati_version=self.pushed.version,
        )

    def _record(self, session: Session, incoming: Incoming, applied: Applied) -> None:
        record_outcome(
            session, self.push_id, position=incoming.position,
            identifier=incoming.identifier, outcome=applied.outcome,
            version=applied.version, findings=applied.findings,
            bytes_read=self.pushed.bytes_read,
        )

    def _advance(self) -> None:
        if self.progress is not None:
            self.progress(self.pushed.bytes_read)

    def _absent(self, session: Session | None = None) -> list[int]:
        """The publisher's live activities that the file did not name."""
        statement = select(Activity.id, Activity.iati_identifier).where(
            Activity.organisation_id == self.publisher.organisation_id,
            col(Activity.deleted_at).is_(None),
        ).order_by(col(Activity.iati_identifier))
        if session is not None:
            rows = session.exec(statement).all()
        else:
            with session_scope(self.engine) as reading:
                rows = reading.exec(statement).all()
        return [key for key, identifier in rows if identifier not in self.seen and key]

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
            findings=[],
        )
