"""The IATI organisation standard: an organisation's budgets, expenditure and documents."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from iati.elements.common import (
    DocumentLink,
    IsoDateElement,
    Narrative,
    Narratives,
    ReportingOrg,
    TextElement,
    Value,
)
from iati.elements.geography import TransactionRecipientCountry, TransactionRecipientRegion
from iati.values import IsoDateTime
from iati.xml import XML_LANG, Attr, Child, IatiElement


class BudgetLine(IatiElement):
    """A line of an organisation budget or expenditure (value first, then narratives)."""

    ref: Annotated[str | None, Attr("ref")] = None
    value: Annotated[Value | None, Child("value")] = None
    narratives: Annotated[list[Narrative], Child("narrative")] = Field(default_factory=list)


class OrganisationBudget(IatiElement):
    """Common shape of an organisation's budgets: status, period, value, lines."""

    status: Annotated[str | None, Attr("status")] = None


class TotalBudget(OrganisationBudget):
    """The organisation's whole budget for one period."""

    period_start: Annotated[IsoDateElement | None, Child("period-start")] = None
    period_end: Annotated[IsoDateElement | None, Child("period-end")] = None
    value: Annotated[Value | None, Child("value")] = None
    budget_lines: Annotated[list[BudgetLine], Child("budget-line")] = Field(default_factory=list)


class RecipientOrg(Narratives):
    """The organisation that receives an organisation budget."""

    ref: Annotated[str | None, Attr("ref")] = None


class RecipientOrgBudget(OrganisationBudget):
    """The budget the organisation plans to give another organisation."""

    recipient_org: Annotated[RecipientOrg | None, Child("recipient-org")] = None
    period_start: Annotated[IsoDateElement | None, Child("period-start")] = None
    period_end: Annotated[IsoDateElement | None, Child("period-end")] = None
    value: Annotated[Value | None, Child("value")] = None
    budget_lines: Annotated[list[BudgetLine], Child("budget-line")] = Field(default_factory=list)


class RecipientRegionBudget(OrganisationBudget):
    """The budget the organisation plans to spend in a region."""

    recipient_region: Annotated[TransactionRecipientRegion | None, Child("recipient-region")] = (
        None
    )
    period_start: Annotated[IsoDateElement | None, Child("period-start")] = None
    period_end: Annotated[IsoDateElement | None, Child("period-end")] = None
    value: Annotated[Value | None, Child("value")] = None
    budget_lines: Annotated[list[BudgetLine], Child("budget-line")] = Field(default_factory=list)


class RecipientCountryBudget(OrganisationBudget):
    """The budget the organisation plans to spend in a country."""

    recipient_country: Annotated[
        TransactionRecipientCountry | None, Child("recipient-country")
    ] = None
    period_start: Annotated[IsoDateElement | None, Child("period-start")] = None
    period_end: Annotated[IsoDateElement | None, Child("period-end")] = None
    value: Annotated[Value | None, Child("value")] = None
    budget_lines: Annotated[list[BudgetLine], Child("budget-line")] = Field(default_factory=list)


class TotalExpenditure(IatiElement):
    """What the organisation spent in one period."""

    period_start: Annotated[IsoDateElement | None, Child("period-start")] = None
    period_end: Annotated[IsoDateElement | None, Child("period-end")] = None
    value: Annotated[Value | None, Child("value")] = None
    expense_lines: Annotated[list[BudgetLine], Child("expense-line")] = Field(default_factory=list)


class OrganisationDocumentLink(DocumentLink):
    """A document of the organisation, with the countries it concerns."""

    recipient_countries: Annotated[
        list[TransactionRecipientCountry], Child("recipient-country")
    ] = Field(default_factory=list)


class Organisation(IatiElement):
    """One IATI organisation record."""

    last_updated_datetime: Annotated[IsoDateTime | None, Attr("last-updated-datetime")] = None
    lang: Annotated[str | None, Attr(XML_LANG)] = None
    default_currency: Annotated[str | None, Attr("default-currency")] = None
    organisation_identifier: Annotated[TextElement | None, Child("organisation-identifier")] = None
    name: Annotated[Narratives | None, Child("name")] = None
    reporting_org: Annotated[ReportingOrg | None, Child("reporting-org")] = None
    total_budgets: Annotated[list[TotalBudget], Child("total-budget")] = Field(
        default_factory=list
    )
    recipient_org_budgets: Annotated[
        list[RecipientOrgBudget], Child("recipient-org-budget")
    ] = Field(default_factory=list)
    recipient_region_budgets: Annotated[
        list[RecipientRegionBudget], Child("recipient-region-budget")
    ] = Field(default_factory=list)
    recipient_country_budgets: Annotated[
        list[RecipientCountryBudget], Child("recipient-country-budget")
    ] = Field(default_factory=list)
    total_expenditures: Annotated[list[TotalExpenditure], Child("total-expenditure")] = Field(
        default_factory=list
    )
    document_links: Annotated[list[OrganisationDocumentLink], Child("document-link")] = Field(
        default_factory=list
    )
    namespaces: dict[str, str] = Field(default_factory=dict)

    @property
    def identifier(self) -> str | None:
        """The organisation-identifier text, without surrounding white space."""
        if self.organisation_identifier is None or self.organisation_identifier.text is None:
            return None
        return self.organisation_identifier.text.strip()


class OrganisationFile(IatiElement):
    """An `iati-organisations` file: its own attributes and its organisation records."""

    version: Annotated[str | None, Attr("version")] = None
    generated_datetime: Annotated[IsoDateTime | None, Attr("generated-datetime")] = None
    organisations: Annotated[list[Organisation], Child("iati-organisation")] = Field(
        default_factory=list
    )
    namespaces: dict[str, str] = Field(default_factory=dict)
