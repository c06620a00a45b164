"""Contact information of an activity."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from iati.elements.common import Narratives, TextElement
from iati.xml import Attr, Child, IatiElement


class ContactInfo(IatiElement):
    """Who to contact about the activity."""

    type: Annotated[str | None, Attr("type")] = None
    organisation: Annotated[Narratives | None, Child("organisation")] = None
    department: Annotated[Narratives | None, Child("department")] = None
    person_name: Annotated[Narratives | None, Child("person-name")] = None
    job_title: Annotated[Narratives | None, Child("job-title")] = None
    telephones: Annotated[list[TextElement], Child("telephone")] = Field(default_factory=list)
    emails: Annotated[list[TextElement], Child("email")] = Field(default_factory=list)
    websites: Annotated[list[TextElement], Child("website")] = Field(default_factory=list)
    mailing_addresses: Annotated[list[Narratives], Child("mailing-address")] = Field(
        default_factory=list
    )
