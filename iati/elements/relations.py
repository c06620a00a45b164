"""How an activity relates to others and to its past: related activities, legacy data."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from iati.elements.common import Narratives
from iati.values import XsdBoolean
from iati.xml import Attr, Child, IatiElement


class RelatedActivity(IatiElement):
    """Another activity and how this one relates to it (parent, child, sibling, …)."""

    ref: Annotated[str | None, Attr("ref")] = None
    type: Annotated[str | None, Attr("type")] = None


class LegacyData(IatiElement):
    """A field of the publisher's own system that has no IATI equivalent."""

    name: Annotated[str | None, Attr("name")] = None
    value: Annotated[str | None, Attr("value")] = None
    iati_equivalent: Annotated[str | None, Attr("iati-equivalent")] = None


class Condition(Narratives):
    """One condition attached to the activity (policy, performance, fiduciary)."""

    type: Annotated[str | None, Attr("type")] = None


class Conditions(IatiElement):
    """Whether conditions are attached to the activity, and which."""

    attached: Annotated[XsdBoolean | None, Attr("attached")] = None
    conditions: Annotated[list[Condition], Child("condition")] = Field(default_factory=list)
