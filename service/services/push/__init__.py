"""Donors push IATI activity files: each activity checked, stored, versioned and recorded."""

from service.services.push.changes import ChangeKind, ChangeSummary, FieldChange
from service.services.push.intake import ReceivedFile, receive
from service.services.push.records import (
    ActivityOutcome,
    FindingPublic,
    OutcomeCounts,
    PushNotFoundError,
    PushPublic,
    PushRehearsal,
    push_document,
    visible_push,
)
from service.services.push.run import (
    MalformedIdentifierError,
    NotOneActivityError,
    Publisher,
    PushOptions,
    UnreadableFileError,
    checked_identifier,
    push_file,
    rehearsal_answer,
    rehearse_file,
    run_push,
    start_push,
)

__all__ = [
    "ActivityOutcome",
    "ChangeKind",
    "ChangeSummary",
    "FieldChange",
    "FindingPublic",
    "MalformedIdentifierError",
    "NotOneActivityError",
    "OutcomeCounts",
    "Publisher",
    "PushNotFoundError",
    "PushOptions",
    "PushPublic",
    "PushRehearsal",
    "ReceivedFile",
    "UnreadableFileError",
    "checked_identifier",
    "push_document",
    "push_file",
    "receive",
    "rehearsal_answer",
    "rehearse_file",
    "run_push",
    "start_push",
    "visible_push",
]
