"""Results of an activity: indicators, baselines, periods, targets and actuals."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from iati.elements.common import DocumentLink, IsoDateElement, Narratives
from iati.values import IsoDate, XsdBoolean
from iati.xml import Attr, Child, IatiElement


class ResultReference(IatiElement):
    """A result's code in an external results framework."""

    code: Annotated[str | None, Attr("code")] = None
    vocabulary: Annotated[str | None, Attr("vocabulary")] = None
    vocabulary_uri: Annotated[str | None, Attr("vocabulary-uri")] = None


class IndicatorReference(IatiElement):
    """An indicator's code in an external indicator vocabulary."""

    vocabulary: Annotated[str | None, Attr("vocabulary")] = None
    code: Annotated[str | None, Attr("code")] = None
    indicator_uri: Annotated[str | None, Attr("indicator-uri")] = None


class ResultLocation(IatiElement):
    """A reference to one of the activity's locations (by its @ref)."""

    ref: Annotated[str | None, Attr("ref")] = None


class Dimension(IatiElement):
    """A disaggregation of a value (sex, age, …)."""

    name: Annotated[str | None, Attr("name")] = None
    value: Annotated[str | None, Attr("value")] = None


class Baseline(IatiElement):
    """The indicator's value before the activity."""

    iso_date: Annotated[IsoDate | None, Attr("iso-date")] = None
    year: Annotated[int | None, Attr("year")] = None
    value: Annotated[str | None, Attr("value")] = None
    locations: Annotated[list[ResultLocation], Child("location")] = Field(default_factory=list)
    dimensions: Annotated[list[Dimension], Child("dimension")] = Field(default_factory=list)
    document_links: Annotated[list[DocumentLink], Child("document-link")] = Field(
        default_factory=list
    )
    comment: Annotated[Narratives | None, Child("comment")] = None


class PeriodValue(IatiElement):
    """A target or an actual value of an indicator for one period."""

    value: Annotated[str | None, Attr("value")] = None
    locations: Annotated[list[ResultLocation], Child("location")] = Field(default_factory=list)
    dimensions: Annotated[list[Dimension], Child("dimension")] = Field(default_factory=list)
    comment: Annotated[Narratives | None, Child("comment")] = None
    document_links: Annotated[list[DocumentLink], Child("document-link")] = Field(
        default_factory=list
    )


class Period(IatiElement):
    """A reporting period of an indicator, with its targets and actuals."""

    period_start: Annotated[IsoDateElement | None, Child("period-start")] = None
    period_end: Annotated[IsoDateElement | None, Child("period-end")] = None
    targets: Annotated[list[PeriodValue], Child("target")] = Field(default_factory=list)
    actuals: Annotated[list[PeriodValue], Child("actual")] = Field(default_factory=list)


class Indicator(IatiElement):
    """A measure of a result (unit, percentage, nominal, ordinal or qualitative)."""

    measure: Annotated[str | None, Attr("measure")] = None
    ascending: Annotated[XsdBoolean | None, Attr("ascending")] = None
    aggregation_status: Annotated[XsdBoolean | None, Attr("aggregation-status")] = None
    title: Annotated[Narratives | None, Child("title")] = None
    description: Annotated[Narratives | None, Child("description")] = None
    document_links: Annotated[list[DocumentLink], Child("document-link")] = Field(
        default_factory=list
    )
    references: Annotated[list[IndicatorReference], Child("reference")] = Field(
        default_factory=list
    )
    baselines: Annotated[list[Baseline], Child("baseline")] = Field(default_factory=list)
    periods: Annotated[list[Period], Child("period")] = Field(default_factory=list)


class Result(IatiElement):
    """A result the activity aims for (output, outcome, impact, other)."""

    type: Annotated[str | None, Attr("type")] = None
    aggregation_status: Annotated[XsdBoolean | None, Attr("aggregation-status")] = None
    title: Annotated[Narratives | None, Child("title")] = None
    description: Annotated[Narratives | None, Child("description")] = None
    document_links: Annotated[list[DocumentLink], Child("document-link")] = Field(
        default_factory=list
    )
    references: Annotated[list[ResultReference], Child("reference")] = Field(
        default_factory=list
    )
    indicators: Annotated[list[Indicator], Child("indicator")] = Field(default_factory=list)
