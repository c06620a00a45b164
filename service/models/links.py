"""Query table of the references between activities: the delivery chain and its kin.

Rebuilt from the model each time the activity changes (see `service.projection`), so a
reference is found from either end: by its activity, or by the identifier it names.
"""

from enum import StrEnum
from typing import Optional

import sqlalchemy as sa
from sqlmodel import Field, Relationship

from service.models.base import IdTable, parent
from service.models.finance import Transaction


class LinkKind(StrEnum):
    """Where an activity names another one."""

    # A transaction's receiver-org/@receiver-activity-id: the money went to that activity.
    transaction_outgoing = "transaction_outgoing"
    # A transaction's provider-org/@provider-activity-id: the money came from it.
    transaction_incoming = "transaction_incoming"
    related_activity = "related_activity"  # related-activity/@ref, by its @type
    other_identifier = "other_identifier"  # other-identifier/@ref, by its @type


class ActivityLink(IdTable, table=True):
    """One reference of an activity to another activity's identifier.

    `type` is the transaction type of a transaction link, else the related-activity or
    other-identifier type; `org_ref` the organisation named beside it (the provider or
    receiver, the owner-org). An activity naming itself is not a link and is not kept.
    """

    __tablename__ = "activity_link"

    activity_id: int | None = parent("activity")
    transaction_id: int | None = parent("transaction", nullable=True)
    kind: str = Field(sa_type=sa.String(24))
    type: str | None = None
    target: str = Field(index=True)
    org_ref: str | None = None

    transaction: Optional[Transaction] = Relationship()  # noqa: UP045 - SQLModel needs Optional
