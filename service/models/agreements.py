"""Cooperation agreements (convenios) the ministry records: parties, the activities that
implement them, the plan objectives they serve and their own metrics."""

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from service.models.base import IdTable, created_at, parent, updated_at
from service.models.types import ExactDecimal, JSONDocument


class AgreementStatus(StrEnum):
    """Where an agreement stands."""

    negotiation = "negotiation"  # being negotiated, not signed
    in_force = "in-force"
    concluded = "concluded"
    cancelled = "cancelled"


class PartyRole(StrEnum):
    """What a party is to the agreement."""

    donor = "donor"  # gives the money
    recipient = "recipient"  # receives it for Ecuador: a ministry, another public entity
    implementer = "implementer"  # carries the work out
    signatory = "signatory"  # signs without any of the roles above (a coordinating body)


class Agreement(IdTable, table=True):
    """An agreement: the ministry's reference (`code`), what it is, when and how much.
    `version` counts its changes, as the change feed gives it."""

    code: str = Field(unique=True)
    title: str
    description: str | None = Field(default=None, sa_type=sa.Text)
    instrument: str = Field(sa_type=sa.String(32))  # a code of the instruments table
    status: str = Field(sa_type=sa.String(16))  # an `AgreementStatus`
    signed_on: dt.date | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    amount: Decimal | None = Field(default=None, sa_type=ExactDecimal)
    currency: str | None = Field(default=None, sa_type=sa.String(3))
    version: int = 1
    created_at: dt.datetime = created_at()
    updated_at: dt.datetime = updated_at()


class AgreementParty(IdTable, table=True):
    """A registered organisation that is a party to an agreement, in the order given."""

    __tablename__ = "agreement_party"

    agreement_id: int = parent("agreement")
    position: int
    organisation_id: int = parent("organisation", ondelete="RESTRICT")
    role: str = Field(sa_type=sa.String(32))  # a `PartyRole`


class AgreementActivity(IdTable, table=True):
    """An activity that implements an agreement, by identifier: linked to the live activity
    whose `identifier_key` it shares, whenever there is one."""

    __tablename__ = "agreement_activity"
    __table_args__ = (sa.UniqueConstraint("agreement_id", "identifier_key"),)

    agreement_id: int = parent("agreement")
    position: int
    iati_identifier: str  # as the ministry gave it
    identifier_key: str = Field(index=True)  # its NFC form (`service.identifiers`)


class AgreementObjective(IdTable, table=True):
    """A national development plan objective an agreement serves (`PND-2024-2025/3`)."""

    __tablename__ = "agreement_objective"
    __table_args__ = (sa.UniqueConstraint("agreement_id", "code"),)

    agreement_id: int = parent("agreement")
    position: int
    code: str = Field(index=True)


class AgreementMetric(IdTable, table=True):
    """A metric of an agreement: its baseline and targets by period
    (`[{period_start, period_end, value}]`, values as decimal text), and the published
    result indicator its actual values are read from, if any (the activity's identifier
    and the result's and indicator's positions, from 1, as the results pages give them)."""

    __tablename__ = "agreement_metric"

    agreement_id: int = parent("agreement")
    position: int
    name: str
    unit: str | None = None
    baseline: Decimal | None = Field(default=None, sa_type=ExactDecimal)
    baseline_date: dt.date | None = None
    ascending: bool = True
    targets: list[dict[str, Any]] = Field(
        default_factory=list, sa_type=JSONDocument, nullable=False
    )
    iati_identifier: str | None = None
    identifier_key: str | None = Field(default=None, index=True)
    result_position: int | None = None
    indicator_position: int | None = None
