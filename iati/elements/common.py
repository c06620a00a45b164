"""Building blocks shared by many IATI elements: narratives, codes, dates, money, orgs."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field

from iati.values import IsoDate, XsdBoolean
from iati.xml import TEXT, XML_LANG, Attr, Child, IatiElement, ValueElement


class Narrative(ValueElement):
    """Human-readable text in one language (`xml:lang`, or the activity's default)."""

    text: Annotated[str | None, TEXT] = None
    lang: Annotated[str | None, Attr(XML_LANG)] = None


class Narratives(IatiElement):
    """An element whose content is narratives in any number of languages (title, …)."""

    narratives: Annotated[list[Narrative], Child("narrative")] = Field(default_factory=list)

    def text(self, lang: str | None = None, default_lang: str | None = None) -> str | None:
        """The narrative in `lang` (or the first one when `lang` is None or absent)."""
        for narrative in self.narratives:
            if lang is None or (narrative.lang or default_lang) == lang:
                return narrative.text
        return self.narratives[0].text if self.narratives else None


class Description(Narratives):
    """A description with its DescriptionType code."""

    type: Annotated[str | None, Attr("type")] = None


class Code(ValueElement):
    """An element that carries only a code (activity-status, flow-type, …)."""

    code: Annotated[str | None, Attr("code")] = None


class VocabularyCode(Code):
    """A code from a vocabulary (aid-type, …)."""

    vocabulary: Annotated[str | None, Attr("vocabulary")] = None


class IsoDateElement(ValueElement):
    """An element that carries only an `iso-date` (period-start, transaction-date, …)."""

    iso_date: Annotated[IsoDate | None, Attr("iso-date")] = None


class TextElement(IatiElement):
    """An element with plain text content (iati-identifier, telephone, pos, …)."""

    text: Annotated[str | None, TEXT] = None


class DecimalText(IatiElement):
    """An element whose text is a decimal amount (loan-status figures)."""

    amount: Annotated[Decimal | None, TEXT] = None


class Value(IatiElement):
    """Money: a signed decimal amount, its currency and the date of its exchange rate."""

    amount: Annotated[Decimal | None, TEXT] = None
    currency: Annotated[str | None, Attr("currency")] = None
    value_date: Annotated[IsoDate | None, Attr("value-date")] = None


class ReportingOrg(Narratives):
    """The organisation that publishes the record."""

    ref: Annotated[str | None, Attr("ref")] = None
    type: Annotated[str | None, Attr("type")] = None
    secondary_reporter: Annotated[XsdBoolean | None, Attr("secondary-reporter")] = None


class ProviderOrg(Narratives):
    """The organisation a transaction or disbursement comes from."""

    ref: Annotated[str | None, Attr("ref")] = None
    provider_activity_id: Annotated[str | None, Attr("provider-activity-id")] = None
    type: Annotated[str | None, Attr("type")] = None


class ReceiverOrg(Narratives):
    """The organisation a transaction or disbursement goes to."""

    ref: Annotated[str | None, Attr("ref")] = None
    receiver_activity_id: Annotated[str | None, Attr("receiver-activity-id")] = None
    type: Annotated[str | None, Attr("type")] = None


class DocumentCategory(Code):
    """A DocumentCategory code of a document link."""


class DocumentLink(IatiElement):
    """A link to a document on the web, with its title, categories and languages."""

    url: Annotated[str | None, Attr("url")] = None
    format: Annotated[str | None, Attr("format")] = None
    title: Annotated[Narratives | None, Child("title")] = None
    description: Annotated[Narratives | None, Child("description")] = None
    categories: Annotated[list[Code], Child("category")] = Field(default_factory=list)
    languages: Annotated[list[Code], Child("language")] = Field(default_factory=list)
    document_date: Annotated[IsoDateElement | None, Child("document-date")] = None

