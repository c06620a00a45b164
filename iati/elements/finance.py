"""Money of an activity: budgets, planned disbursements, transactions, CRS and FSS data."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field

from iati.elements.classification import TransactionSector
from iati.elements.common import (
    Code,
    DecimalText,
    IsoDateElement,
    Narratives,
    ProviderOrg,
    ReceiverOrg,
    TextElement,
    Value,
    VocabularyCode,
)
from iati.elements.geography import TransactionRecipientCountry, TransactionRecipientRegion
from iati.values import IsoDate, XsdBoolean
from iati.xml import TEXT, Attr, Child, IatiElement


class Budget(IatiElement):
    """The activity's budget for one period (original or revised, indicative or committed)."""

    type: Annotated[str | None, Attr("type")] = None
    status: Annotated[str | None, Attr("status")] = None
    period_start: Annotated[IsoDateElement | None, Child("period-start")] = None
    period_end: Annotated[IsoDateElement | None, Child("period-end")] = None
    value: Annotated[Value | None, Child("value")] = None


class PlannedDisbursement(IatiElement):
    """A planned payment for one period, from a provider to a receiver."""

    type: Annotated[str | None, Attr("type")] = None
    period_start: Annotated[IsoDateElement | None, Child("period-start")] = None
    period_end: Annotated[IsoDateElement | None, Child("period-end")] = None
    value: Annotated[Value | None, Child("value")] = None
    provider_org: Annotated[ProviderOrg | None, Child("provider-org")] = None
    receiver_org: Annotated[ReceiverOrg | None, Child("receiver-org")] = None


class CapitalSpend(IatiElement):
    """The share of the activity's budget spent on capital."""

    percentage: Annotated[Decimal | None, Attr("percentage")] = None


class Transaction(IatiElement):
    """One financial transaction: commitment, disbursement, expenditure, incoming funds, …"""

    ref: Annotated[str | None, Attr("ref")] = None
    humanitarian: Annotated[XsdBoolean | None, Attr("humanitarian")] = None
    transaction_type: Annotated[Code | None, Child("transaction-type")] = None
    transaction_date: Annotated[IsoDateElement | None, Child("transaction-date")] = None
    value: Annotated[Value | None, Child("value")] = None
    description: Annotated[Narratives | None, Child("description")] = None
    provider_org: Annotated[ProviderOrg | None, Child("provider-org")] = None
    receiver_org: Annotated[ReceiverOrg | None, Child("receiver-org")] = None
    disbursement_channel: Annotated[Code | None, Child("disbursement-channel")] = None
    sectors: Annotated[list[TransactionSector], Child("sector")] = Field(default_factory=list)
    recipient_country: Annotated[
        TransactionRecipientCountry | None, Child("recipient-country")
    ] = None
    recipient_region: Annotated[TransactionRecipientRegion | None, Child("recipient-region")] = None
    flow_type: Annotated[Code | None, Child("flow-type")] = None
    finance_type: Annotated[Code | None, Child("finance-type")] = None
    aid_types: Annotated[list[VocabularyCode], Child("aid-type")] = Field(default_factory=list)
    tied_status: Annotated[Code | None, Child("tied-status")] = None


class OtherFlag(Code):
    """A CRS "other flag" (free-standing technical cooperation, …)."""

    significance: Annotated[XsdBoolean | None, Attr("significance")] = None


class LoanTerms(IatiElement):
    """Terms of a loan: interest rates, repayment type and plan, key dates."""

    rate_1: Annotated[Decimal | None, Attr("rate-1")] = None
    rate_2: Annotated[Decimal | None, Attr("rate-2")] = None
    repayment_type: Annotated[Code | None, Child("repayment-type")] = None
    repayment_plan: Annotated[Code | None, Child("repayment-plan")] = None
    commitment_date: Annotated[IsoDateElement | None, Child("commitment-date")] = None
    repayment_first_date: Annotated[IsoDateElement | None, Child("repayment-first-date")] = None
    repayment_final_date: Annotated[IsoDateElement | None, Child("repayment-final-date")] = None


class LoanStatus(IatiElement):
    """The state of a loan at the end of a year."""

    year: Annotated[Decimal | None, Attr("year")] = None
    currency: Annotated[str | None, Attr("currency")] = None
    value_date: Annotated[IsoDate | None, Attr("value-date")] = None
    interest_received: Annotated[DecimalText | None, Child("interest-received")] = None
    principal_outstanding: Annotated[DecimalText | None, Child("principal-outstanding")] = None
    principal_arrears: Annotated[DecimalText | None, Child("principal-arrears")] = None
    interest_arrears: Annotated[DecimalText | None, Child("interest-arrears")] = None


class CrsAdd(IatiElement):
    """Additional data for the OECD Creditor Reporting System."""

    other_flags: Annotated[list[OtherFlag], Child("other-flags")] = Field(default_factory=list)
    loan_terms: Annotated[LoanTerms | None, Child("loan-terms")] = None
    loan_status: Annotated[LoanStatus | None, Child("loan-status")] = None
    channel_code: Annotated[TextElement | None, Child("channel-code")] = None


class Forecast(IatiElement):
    """A forward spending forecast for one year."""

    amount: Annotated[Decimal | None, TEXT] = None
    year: Annotated[Decimal | None, Attr("year")] = None
    currency: Annotated[str | None, Attr("currency")] = None
    value_date: Annotated[IsoDate | None, Attr("value-date")] = None


class Fss(IatiElement):
    """The OECD Forward Spending Survey data of the activity."""

    extraction_date: Annotated[IsoDate | None, Attr("extraction-date")] = None
    priority: Annotated[XsdBoolean | None, Attr("priority")] = None
    phaseout_year: Annotated[Decimal | None, Attr("phaseout-year")] = None
    forecasts: Annotated[list[Forecast], Child("forecast")] = Field(default_factory=list)
