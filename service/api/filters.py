"""The query filters shared by the activity, transaction and budget lists (and their
exports): one set of parameters, one `ActivityFilter`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from mappings.tables import Classification
from service.api.deps import IsoDate, IsoDateTime
from service.search import MAX_LENGTH
from service.services.query import ActivityFilter

Codes = Annotated[list[str], Query()]


def activity_filter(
    reporting_org: Annotated[list[str], Query(description="reporting-org/@ref")] = [],  # noqa: B006
    participating_org: Annotated[list[str], Query(
        description="participating-org/@ref, in any role (or `participating_role`)")] = [],  # noqa: B006
    participating_role: Annotated[str | None, Query(
        description="OrganisationRole code (1 funding, 2 accountable, 3 extending, "
        "4 implementing)")] = None,
    sector: Annotated[list[str], Query(
        description="A sector code at activity or transaction level; 3 digits: the whole "
        "DAC category")] = [],  # noqa: B006
    recipient_country: Codes = [],  # noqa: B006
    recipient_region: Codes = [],  # noqa: B006
    activity_status: Codes = [],  # noqa: B006
    humanitarian: Annotated[bool | None, Query()] = None,
    updated_since: Annotated[IsoDateTime | None, Query(
        description="Stored (created, changed or deleted) at or after this time")] = None,
    start_from: Annotated[IsoDate | None, Query(description="Starts on or after (actual, "
                                               "else planned start)")] = None,
    start_to: Annotated[IsoDate | None, Query(description="Starts on or before")] = None,
    end_from: Annotated[IsoDate | None, Query(description="Ends on or after (actual, else "
                                             "planned end)")] = None,
    end_to: Annotated[IsoDate | None, Query(description="Ends on or before")] = None,
    active_from: Annotated[IsoDate | None, Query(
        description="Runs on some day from this date (with active_to: overlaps the period)"
    )] = None,
    active_to: Annotated[IsoDate | None, Query(
        description="Runs on some day up to this date")] = None,
    province: Annotated[list[str], Query(description="INEC province code (budget view)")] = [],  # noqa: B006
    canton: Annotated[list[str], Query(description="INEC canton code")] = [],  # noqa: B006
    plan_objective: Annotated[list[str], Query(
        description="National development plan objective (budget view), its code naming its "
        "plan: `PND-2024-2025/3` is objective 3 of PND 2024-2025")] = [],  # noqa: B006
    income_item: Codes = [],  # noqa: B006
    fuente: Codes = [],  # noqa: B006
    orientacion: Codes = [],  # noqa: B006
    q: Annotated[str | None, Query(
        max_length=MAX_LENGTH,
        description="Words to find in titles and descriptions, any language; accents and "
        "case do not matter; every word must occur; `word*` matches a prefix")] = None,
    ecuador: Annotated[bool, Query(
        description="Only the activities for Ecuador (EC a recipient country of the activity "
        "or of one of its transactions), as the public pages show them; the debt view then "
        "counts Ecuador's part of each repayment and balance")] = False,
) -> ActivityFilter:
    """The filters of a request."""
    return ActivityFilter(
        reporting_org=reporting_org, participating_org=participating_org,
        participating_role=participating_role, sector=sector,
        recipient_country=recipient_country, recipient_region=recipient_region,
        activity_status=activity_status, humanitarian=humanitarian,
        updated_since=updated_since, start_from=start_from, start_to=start_to,
        end_from=end_from, end_to=end_to, active_from=active_from, active_to=active_to,
        classified={
            Classification.province: province, Classification.canton: canton,
            Classification.plan_objective: plan_objective,
            Classification.income_item: income_item, Classification.fuente: fuente,
            Classification.orientacion: orientacion,
        },
        q=q, ecuador=ecuador,
    )


FilterDep = Annotated[ActivityFilter, Depends(activity_filter)]
