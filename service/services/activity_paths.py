"""What an older `/api/v1/activities/{identifier}/{part}` path names, now that an
identifier may itself end in `/links`, `/versions`, `/versions/3` or `/budget-view`."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from sqlmodel import Session, col, select

from service.addresses import activity_url
from service.errors import DomainError
from service.models import Activity


class Named(StrEnum):
    """The resource a path names: the activity of the whole path, or a part of another."""

    activity = "activity"
    part = "part"


class AmbiguousPathError(DomainError):
    """Both readings of the path name a stored activity; the problem lists the address of
    each, where the identifier cannot be misread."""

    status: ClassVar[int] = 300
    code: ClassVar[str] = "activity.ambiguous-path"
    title: ClassVar[str] = "The path names two resources"


def named_by_path(session: Session, *, identifier: str, part: str) -> Named:
    """What `/activities/{identifier}/{part}` names: the activity whose identifier is the
    whole `{identifier}/{part}` when it is stored (live or deleted) and `identifier` is not;
    else the part of `identifier`, as before identifiers could end so. When both are stored,
    `AmbiguousPathError` (300) with the address of each."""
    whole = f"{identifier}/{part}"
    stored = set(session.exec(
        select(Activity.iati_identifier)
        .where(col(Activity.iati_identifier).in_([identifier, whole]))
    ).all())
    if whole not in stored:
        return Named.part
    if identifier not in stored:
        return Named.activity
    choices = [
        {"resource": "activity", "iati_identifier": whole, "href": activity_url(whole)},
        {"resource": part, "iati_identifier": identifier,
         "href": activity_url(identifier, part)},
    ]
    raise AmbiguousPathError(
        f"Activity {whole} is stored, and so is activity {identifier}, whose {part} the "
        "path also names; ask for the one you mean at its address in `choices`, where the "
        "identifier is a query parameter.",
        headers={"Link": ", ".join(f'<{c["href"]}>; rel="alternate"' for c in choices)},
        choices=choices,
    )
