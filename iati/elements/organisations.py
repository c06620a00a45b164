"""Organisations named in an activity: participating organisations, other identifiers."""

from __future__ import annotations

from typing import Annotated

from iati.elements.common import Narratives
from iati.xml import Attr, Child, IatiElement


class ParticipatingOrg(Narratives):
    """An organisation involved in the activity, in a role (funding, implementing, …)."""

    ref: Annotated[str | None, Attr("ref")] = None
    type: Annotated[str | None, Attr("type")] = None
    role: Annotated[str | None, Attr("role")] = None
    activity_id: Annotated[str | None, Attr("activity-id")] = None
    crs_channel_code: Annotated[str | None, Attr("crs-channel-code")] = None


class OwnerOrg(Narratives):
    """The organisation that owns an other-identifier."""

    ref: Annotated[str | None, Attr("ref")] = None


class OtherIdentifier(IatiElement):
    """Another identifier of the activity (previous, CRS, internal, …)."""

    ref: Annotated[str | None, Attr("ref")] = None
    type: Annotated[str | None, Attr("type")] = None
    owner_org: Annotated[OwnerOrg | None, Child("owner-org")] = None
