"""What changed between two versions of an activity, field by field of the model.

A version's summary names each top-level field of the model (``title``,
``transactions``, ``budgets`` …) that was added, removed or changed; for repeated
element groups it counts the items added, removed and changed (compared by position).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class ChangeKind(StrEnum):
    """What a version did to its activity."""

    created = "created"
    updated = "updated"
    restored = "restored"
    deleted = "deleted"


class FieldChange(BaseModel):
    """One top-level field of the model that differs from the previous version."""

    field: str
    change: str = Field(description="added, removed or changed")
    items_added: int = 0
    items_removed: int = 0
    items_changed: int = 0


class ChangeSummary(BaseModel):
    """What a version changed, compared with the version before it."""

    kind: ChangeKind
    changes: list[FieldChange] = Field(default_factory=list)


def summarise(
    kind: ChangeKind, before: dict[str, Any] | None, after: dict[str, Any] | None
) -> ChangeSummary:
    """The summary of going from document `before` to `after` (either may be absent)."""
    old, new = before or {}, after or {}
    changes = [
        change
        for name in sorted(old.keys() | new.keys())
        if (change := _field_change(name, old.get(name), new.get(name))) is not None
    ]
    return ChangeSummary(kind=kind, changes=changes)


def _field_change(name: str, old: Any, new: Any) -> FieldChange | None:
    if old == new:
        return None
    if _absent(old):
        return FieldChange(field=name, change="added", items_added=_count(new))
    if _absent(new):
        return FieldChange(field=name, change="removed", items_removed=_count(old))
    if isinstance(old, list) and isinstance(new, list):
        shared = min(len(old), len(new))
        return FieldChange(
            field=name, change="changed",
            items_added=max(0, len(new) - len(old)),
            items_removed=max(0, len(old) - len(new)),
            items_changed=sum(1 for a, b in zip(old[:shared], new[:shared], strict=True) if a != b),
        )
    return FieldChange(field=name, change="changed", items_changed=1)


def _absent(value: Any) -> bool:
    return value is None or value == [] or value == {}


def _count(value: Any) -> int:
    return len(value) if isinstance(value, list) else 1
