"""The IATI activity and the `iati-activities` file that carries activities."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from iati.elements.classification import (
    CountryBudgetItems,
    HumanitarianScope,
    PolicyMarker,
    Sector,
    Tag,
)
from iati.elements.common import (
    Code,
    Description,
    DocumentLink,
    Narratives,
    ReportingOrg,
    TextElement,
    VocabularyCode,
)
from iati.elements.contact import ContactInfo
from iati.elements.finance import (
    Budget,
    CapitalSpend,
    CrsAdd,
    Fss,
    PlannedDisbursement,
    Transaction,
)
from iati.elements.geography import Location, RecipientCountry, RecipientRegion
from iati.elements.organisations import OtherIdentifier, ParticipatingOrg
from iati.elements.relations import Conditions, LegacyData, RelatedActivity
from iati.elements.results import Result
from iati.values import IsoDate, IsoDateTime, XsdBoolean
from iati.xml import XML_LANG, Attr, Child, IatiElement


class ActivityDate(Narratives):
    """A planned or actual start or end date of the activity."""

    type: Annotated[str | None, Attr("type")] = None
    iso_date: Annotated[IsoDate | None, Attr("iso-date")] = None


class Activity(IatiElement):
    """One IATI activity, with every element of the 2.03 standard, in schema order.

    The model is permissive: required elements may be missing (validation reports them),
    so that every input can be read, shown and written back without loss.
    """

    last_updated_datetime: Annotated[IsoDateTime | None, Attr("last-updated-datetime")] = None
    lang: Annotated[str | None, Attr(XML_LANG)] = None
    default_currency: Annotated[str | None, Attr("default-currency")] = None
    humanitarian: Annotated[XsdBoolean | None, Attr("humanitarian")] = None
    hierarchy: Annotated[int | None, Attr("hierarchy")] = None
    linked_data_uri: Annotated[str | None, Attr("linked-data-uri")] = None
    budget_not_provided: Annotated[str | None, Attr("budget-not-provided")] = None

    iati_identifier: Annotated[TextElement | None, Child("iati-identifier")] = None
    reporting_org: Annotated[ReportingOrg | None, Child("reporting-org")] = None
    title: Annotated[Narratives | None, Child("title")] = None
    descriptions: Annotated[list[Description], Child("description")] = Field(default_factory=list)
    participating_orgs: Annotated[list[ParticipatingOrg], Child("participating-org")] = Field(
        default_factory=list
    )
    other_identifiers: Annotated[list[OtherIdentifier], Child("other-identifier")] = Field(
        default_factory=list
    )
    activity_status: Annotated[Code | None, Child("activity-status")] = None
    activity_dates: Annotated[list[ActivityDate], Child("activity-date")] = Field(
        default_factory=list
    )
    contact_infos: Annotated[list[ContactInfo], Child("contact-info")] = Field(
        default_factory=list
    )
    activity_scope: Annotated[Code | None, Child("activity-scope")] = None
    recipient_countries: Annotated[list[RecipientCountry], Child("recipient-country")] = Field(
        default_factory=list
    )
    recipient_regions: Annotated[list[RecipientRegion], Child("recipient-region")] = Field(
        default_factory=list
    )
    locations: Annotated[list[Location], Child("location")] = Field(default_factory=list)
    sectors: Annotated[list[Sector], Child("sector")] = Field(default_factory=list)
    tags: Annotated[list[Tag], Child("tag")] = Field(default_factory=list)
    country_budget_items: Annotated[CountryBudgetItems | None, Child("country-budget-items")] = (
        None
    )
    humanitarian_scopes: Annotated[list[HumanitarianScope], Child("humanitarian-scope")] = Field(
        default_factory=list
    )
    policy_markers: Annotated[list[PolicyMarker], Child("policy-marker")] = Field(
        default_factory=list
    )
    collaboration_type: Annotated[Code | None, Child("collaboration-type")] = None
    default_flow_type: Annotated[Code | None, Child("default-flow-type")] = None
    default_finance_type: Annotated[Code | None, Child("default-finance-type")] = None
    default_aid_types: Annotated[list[VocabularyCode], Child("default-aid-type")] = Field(
        default_factory=list
    )
    default_tied_status: Annotated[Code | None, Child("default-tied-status")] = None
    budgets: Annotated[list[Budget], Child("budget")] = Field(default_factory=list)
    planned_disbursements: Annotated[
        list[PlannedDisbursement], Child("planned-disbursement")
    ] = Field(default_factory=list)
    capital_spend: Annotated[CapitalSpend | None, Child("capital-spend")] = None
    transactions: Annotated[list[Transaction], Child("transaction")] = Field(default_factory=list)
    document_links: Annotated[list[DocumentLink], Child("document-link")] = Field(
        default_factory=list
    )
    related_activities: Annotated[list[RelatedActivity], Child("related-activity")] = Field(
        default_factory=list
    )
    legacy_data: Annotated[list[LegacyData], Child("legacy-data")] = Field(default_factory=list)
    conditions: Annotated[Conditions | None, Child("conditions")] = None
    results: Annotated[list[Result], Child("result")] = Field(default_factory=list)
    crs_add: Annotated[CrsAdd | None, Child("crs-add")] = None
    fss: Annotated[Fss | None, Child("fss")] = None

    # Namespace prefixes in scope (prefix -> URI), so extensions keep their prefixes.
    namespaces: dict[str, str] = Field(default_factory=dict)

    @property
    def identifier(self) -> str | None:
        """The iati-identifier text, without surrounding white space."""
        if self.iati_identifier is None or self.iati_identifier.text is None:
            return None
        return self.iati_identifier.text.strip()


class ActivityFile(IatiElement):
    """An `iati-activities` file: its own attributes and its activities."""

    version: Annotated[str | None, Attr("version")] = None
    generated_datetime: Annotated[IsoDateTime | None, Attr("generated-datetime")] = None
    linked_data_default: Annotated[str | None, Attr("linked-data-default")] = None
    activities: Annotated[list[Activity], Child("iati-activity")] = Field(default_factory=list)
    namespaces: dict[str, str] = Field(default_factory=dict)
