"""Push a file: a push record started, the file processed (see `processing`), its document.

Each activity is checked and stored in its own transaction by default, or the whole
file in one (``atomic``); a file that cannot be read fails the push, with a finding
saying why.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import Engine

from iati.errors import IatiInputError
from service.db import session_scope
from service.errors import DomainError
from service.identifiers import shown
from service.logs import current_request_id
from service.models import Push, PushStatus
from service.services.push.findings import PushCode, identifier_refusal
from service.services.push.intake import ReceivedFile
from service.services.push.processing import Progress, Publisher, PushOptions, PushRun
from service.services.push.reading import PushedFile
from service.services.push.records import (
    PushPublic,
    PushRehearsal,
    finish_push,
    push_document,
)

# Publisher and PushOptions are the callers' to build: exported here, beside the calls.
__all__ = [
    "MalformedIdentifierError",
    "NotOneActivityError",
    "Publisher",
    "PushOptions",
    "UnreadableFileError",
    "checked_identifier",
    "fail_push",
    "new_push",
    "process_push",
    "push_file",
    "rehearsal_answer",
    "rehearse_file",
    "run_push",
    "start_push",
]

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


class MalformedIdentifierError(DomainError):
    """An identifier in a request's path that no activity can have (see `identifier_refusal`)."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = PushCode.malformed_identifier.value
    title: ClassVar[str] = "Malformed identifier"


def checked_identifier(identifier: str) -> str:
    """`identifier`, named by a request that stores it (PUT); `MalformedIdentifierError` if
    no activity may have it, before the body is read or the database asked."""
    refusal = identifier_refusal(identifier)
    if refusal is not None:
        raise MalformedIdentifierError(refusal["message"], iati_identifier=shown(identifier))
    return identifier


def new_push(*, publisher: Publisher, received: ReceivedFile, options: PushOptions) -> Push:
    """The record of a new running push of `received` (for the caller to add)."""
    return Push(
        organisation_id=publisher.organisation_id, api_key_id=publisher.api_key_id,
        mode=options.mode, scope=options.scope, sha256=received.sha256,
        size_bytes=received.size, request_id=current_request_id(),
    )


def start_push(
    engine: Engine, *, publisher: Publisher, received: ReceivedFile, options: PushOptions
) -> str:
    """Record a new running push of `received`; its id."""
    push = new_push(publisher=publisher, received=received, options=options)
    with session_scope(engine, write=True) as session:
        session.add(push)
    return push.id


def push_file(
    engine: Engine, *, publisher: Publisher, received: ReceivedFile,
    options: PushOptions | None = None, max_bytes: int, today: date | None = None,
    progress: Progress | None = None,
) -> PushPublic:
    """Push `received` for `publisher`: the push document once every activity is done.

    The push is a job of the queue, stored with its file and claimed by this process
    (see `service.services.jobs`): if the process dies, a worker finishes it.
    """
    # Imported here: the queue builds on this package.
    from service.services.jobs import JobPolicy, PushWork, push_now, worker_name

    push_id = push_now(
        engine, publisher=publisher, received=received, options=options or PushOptions(),
        work=PushWork(max_bytes=max_bytes, today=today), policy=JobPolicy.from_settings(),
        worker=worker_name(), progress=progress,
    )
    with session_scope(engine) as session:
        return push_document(session, push_id)


def rehearse_file(
    engine: Engine, *, publisher: Publisher, received: ReceivedFile,
    options: PushOptions | None = None, max_bytes: int, today: date | None = None,
) -> PushRehearsal:
    """What pushing `received` for `publisher` would do now: each activity's outcome, by
    the push's own checks and verdicts, with nothing stored and no push recorded.

    Raises `IatiInputError` if the file cannot be read, as a push would fail.
    """
    chosen = options or PushOptions()
    pushed = PushedFile(received.path, today or datetime.now(UTC).date(), max_bytes)
    records = PushRun(engine, "", publisher, chosen, pushed, None).rehearse()
    findings = [finding.as_dict() for finding in pushed.file_findings]
    return PushRehearsal.of(records, findings, mode=chosen.mode, scope=chosen.scope)


def rehearsal_answer(
    engine: Engine, *, publisher: Publisher, received: ReceivedFile,
    options: PushOptions | None = None, max_bytes: int, today: date | None = None,
) -> dict[str, Any]:
    """`rehearse_file`'s answer as JSON; ``{"refused": …}`` (the coded error) for a file a
    push would refuse whole (an organisation file, an unsupported version)."""
    try:
        rehearsal = rehearse_file(engine, publisher=publisher, received=received,
                                  options=options, max_bytes=max_bytes, today=today)
    except IatiInputError as error:
        return {"refused": error.as_dict()}
    return rehearsal.model_dump(mode="json")


def run_push(
    engine: Engine, push_id: str, *, publisher: Publisher, received: ReceivedFile,
    options: PushOptions, max_bytes: int, today: date | None = None,
    progress: Progress | None = None,
) -> PushPublic:
    """Process the started push `push_id` (see `process_push`); its document at the end."""
    process_push(
        engine, push_id, publisher=publisher, received=received, options=options,
        max_bytes=max_bytes, today=today, progress=progress,
    )
    with session_scope(engine) as session:
        return push_document(session, push_id)


def process_push(
    engine: Engine, push_id: str, *, publisher: Publisher, received: ReceivedFile,
    options: PushOptions, max_bytes: int, today: date | None = None,
    progress: Progress | None = None, done: frozenset[int] = frozenset(), deleted: int = 0,
    retried: bool = False,
) -> None:
    """Process the started push `push_id` (see `start_push`): the outcomes go to its record.

    Resuming a push, `done` holds the positions whose outcomes are recorded (they are
    skipped) and `deleted` counts its deletions. Raises `UnreadableFileError` (the push
    then failed) if the file is not IATI XML, and `NotOneActivityError` if a PUT's file
    holds no activity. Any other error marks the push failed too, unless it is to be
    `retried` (a job's worker decides).
    """
    pushed = PushedFile(received.path, today or datetime.now(UTC).date(), max_bytes)
    run = PushRun(engine, push_id, publisher, options, pushed, progress, done=done)
    run.deletions = deleted
    try:
        with _recorded_failure(engine, push_id, every_error=not retried):
            run.process()
    except IatiInputError as error:
        raise UnreadableFileError(error, push_id=push_id) from None
    if options.only is not None and pushed.count == 0:
        raise NotOneActivityError(
            f"The file holds no activity; send the one activity {options.only}.",
            push_id=push_id,
        )


@contextmanager
def _recorded_failure(engine: Engine, push_id: str, *, every_error: bool) -> Iterator[None]:
    """Mark the push failed, with a finding saying why, if processing raises: on an
    unreadable file, and on `every_error` if asked."""
    try:
        yield
    except IatiInputError as error:
        finding = {**error.as_dict(), "severity": "critical", "stage": "read"}
        finish_push(engine, push_id, status=PushStatus.failed, findings=[finding])
        raise
    except BaseException as error:
        if every_error:
            fail_push(engine, push_id, error=f"an internal error ({type(error).__name__})")
        raise


def fail_push(engine: Engine, push_id: str, *, error: str) -> None:
    """Mark the push failed, stopped on `error` (words: "an internal error (…)")."""
    finding = {
        "code": "push.internal-error", "severity": "critical", "stage": "push",
        "message": f"The push stopped on {error}.",
    }
    finish_push(engine, push_id, status=PushStatus.failed, findings=[finding])
