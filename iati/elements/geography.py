"""Where an activity happens: recipient countries and regions, locations."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field

from iati.elements.common import Code, Narratives, TextElement
from iati.xml import Attr, Child, IatiElement


class TransactionRecipientCountry(Narratives):
    """A recipient country (transaction level: no percentage)."""

    code: Annotated[str | None, Attr("code")] = None


class RecipientCountry(TransactionRecipientCountry):
    """A recipient country and its share of the activity."""

    percentage: Annotated[Decimal | None, Attr("percentage")] = None


class TransactionRecipientRegion(Narratives):
    """A recipient region (transaction level: no percentage)."""

    code: Annotated[str | None, Attr("code")] = None
    vocabulary: Annotated[str | None, Attr("vocabulary")] = None
    vocabulary_uri: Annotated[str | None, Attr("vocabulary-uri")] = None


class RecipientRegion(TransactionRecipientRegion):
    """A recipient region and its share of the activity."""

    percentage: Annotated[Decimal | None, Attr("percentage")] = None


class LocationId(Code):
    """A gazetteer identifier of a location."""

    vocabulary: Annotated[str | None, Attr("vocabulary")] = None


class Administrative(Code):
    """An administrative area of a location (country, province, canton, …)."""

    vocabulary: Annotated[str | None, Attr("vocabulary")] = None
    level: Annotated[int | None, Attr("level")] = None


class Point(IatiElement):
    """Coordinates of a location (``pos`` holds "latitude longitude")."""

    srs_name: Annotated[str | None, Attr("srsName")] = None
    pos: Annotated[TextElement | None, Child("pos")] = None


class Location(IatiElement):
    """A place where the activity happens, or that it benefits."""

    ref: Annotated[str | None, Attr("ref")] = None
    location_reach: Annotated[Code | None, Child("location-reach")] = None
    location_ids: Annotated[list[LocationId], Child("location-id")] = Field(default_factory=list)
    name: Annotated[Narratives | None, Child("name")] = None
    description: Annotated[Narratives | None, Child("description")] = None
    activity_description: Annotated[Narratives | None, Child("activity-description")] = None
    administratives: Annotated[list[Administrative], Child("administrative")] = Field(
        default_factory=list
    )
    point: Annotated[Point | None, Child("point")] = None
    exactness: Annotated[Code | None, Child("exactness")] = None
    location_class: Annotated[Code | None, Child("location-class")] = None
    feature_designation: Annotated[Code | None, Child("feature-designation")] = None
