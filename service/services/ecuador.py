"""Ecuador's part of what the store keeps: which activities are for Ecuador, and how much
of each of their amounts is Ecuador's, by the budget view's one rule.

An activity is **for Ecuador** when Ecuador (`EC`) is a recipient country of the activity
or of one of its transactions — what the activity list's `recipient_country=EC` matches,
and what the public pages show. An activity that names no recipient country but only a
region, even one holding Ecuador, is not: the region's share of Ecuador is not said.

**Ecuador's part** of an amount is the budget view's (`mappings.amounts`): all of a
transaction whose own recipient-country is EC, none of another country's, else the
activity's Ecuador share — the percentage its latest budget view keeps
(`BudgetView.ecuador_share`, None when Ecuador's share is not known) — divided to the
cent as the view divides it (`mappings.amounts.ecuador_part`). The budget views hold only
that part of the amounts they measure (commitments, disbursements, expenditure, budgets);
the same rule gives Ecuador's part of the money they do not measure (incoming funds, loan
repayments, a loan's balances), so the two never disagree about a transaction.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import Select, Table, func, select
from sqlalchemy.engine import Connection

from mappings.amounts import ECUADOR, ecuador_part
from mappings.money import CENT
from service.errors import DomainError
from service.models import RecipientCountry
from service.services.budget.storage import VIEW

COUNTRY: Table = RecipientCountry.__table__  # type: ignore[attr-defined]
# The activities for Ecuador (see the module), as a subquery of their ids; read from the
# index on the country's code, which holds the activity's id.
IN_ECUADOR: Select[Any] = select(COUNTRY.c.activity_id).where(COUNTRY.c.code == ECUADOR)


class NotForEcuadorError(DomainError):
    """The public pages show the activities for Ecuador only."""

    status: ClassVar[int] = 404
    code: ClassVar[str] = "dashboard.not-for-ecuador"
    title: ClassVar[str] = "Not an activity for Ecuador"


class NoneForEcuadorError(DomainError):
    """An organisation none of whose activities is for Ecuador."""

    status: ClassVar[int] = 404
    code: ClassVar[str] = "dashboard.none-for-ecuador"
    title: ClassVar[str] = "No activity for Ecuador"


def for_ecuador(connection: Connection, activity_id: int) -> bool:
    """Whether the activity is for Ecuador."""
    return connection.execute(
        IN_ECUADOR.where(COUNTRY.c.activity_id == activity_id).limit(1)
    ).first() is not None


def shown_in_ecuador(connection: Connection, activity_id: int, identifier: str) -> None:
    """Nothing if the activity is for Ecuador; else `NotForEcuadorError`, which says where
    the API still gives it."""
    if not for_ecuador(connection, activity_id):
        raise NotForEcuadorError(
            f"{identifier} does not name Ecuador (EC) as a recipient country, of the activity "
            "or of a transaction: the public pages show activities for Ecuador only. The API "
            "gives every activity (GET /api/v1/activity?iati_identifier=…).",
            iati_identifier=identifier,
        )


def activity_shares(connection: Connection, activities: Any) -> dict[int, Decimal | None]:
    """The Ecuador share (percent, None when unknown) of each activity among `activities`
    (a selectable of ids), as its latest budget view keeps it."""
    latest = (select(func.max(VIEW.c.id)).where(VIEW.c.activity_id.in_(activities))
              .group_by(VIEW.c.activity_id))
    statement = select(VIEW.c.activity_id, VIEW.c.ecuador_share).where(VIEW.c.id.in_(latest))
    shares: dict[int, Decimal | None] = {}
    for activity, share in connection.execute(statement):
        shares[activity] = share
    return shares


def part_in_cents(cents: int, share: Decimal | None) -> int:
    """Ecuador's part of `cents` US cents at `share` percent (None: nothing)."""
    if share is None or share == 0:
        return 0
    return int(ecuador_part(Decimal(cents) * CENT, share).scaleb(2))


def part_in_usd(usd: Decimal, share: Decimal | None) -> Decimal:
    """Ecuador's part of `usd` US dollars (to the cent) at `share` percent (None: nothing)."""
    if share is None or share == 0:
        return Decimal("0.00")
    return ecuador_part(usd, share)
