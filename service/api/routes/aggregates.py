"""Aggregates over HTTP: money of the Ecuador budget views, grouped, in US dollars."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from mappings.amounts import Measure
from mappings.lenses import Lens
from service.api.conditional import tagged
from service.api.deps import EngineDep, ReaderOrPublisher
from service.api.filters import FilterDep
from service.api.routes.ledger import (
    CSV_FORMATS,
    CSV_RESPONSE,
    PageFormat,
    csv_response,
    csv_variant,
)
from service.api.routes.pushes import problem_responses
from service.services.aggregates import (
    IMPLEMENTING,
    Aggregates,
    GroupBy,
    aggregate,
    csv_columns,
    csv_rows,
)
from service.services.traceability import Basis

router = APIRouter(prefix="/api/v1", tags=["aggregates"])


@router.get(
    "/aggregates", operation_id="aggregates", response_model=Aggregates,
    responses={**CSV_RESPONSE, **problem_responses(400, 401, 403)},
)
def aggregates(
    request: Request, response: Response, engine: EngineDep, _: ReaderOrPublisher,
    chosen: FilterDep,
    group_by: Annotated[list[GroupBy], Query(
        description="Repeat to group by several (at most one Ecuadorian classification)"
    )] = [],  # noqa: B006
    measure: Annotated[list[Measure], Query(
        description="Repeat for several; default: disbursement")] = [],  # noqa: B006
    year_from: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    year_to: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    participating_org_role: Annotated[str, Query(
        pattern="^[1-4]$",
        description="With group_by=participating_org: the OrganisationRole whose "
        "organisations share each activity's amount equally (1 funding, 2 accountable, "
        "3 extending, 4 implementing)",
    )] = IMPLEMENTING,
    basis: Annotated[Basis, Query(
        description="`net`: each flow counted once, at the last link that reports it (a "
        "funder's commitment or disbursement that its implementer reports receiving is left "
        "out); `gross`: every report counted")] = Basis.net,
    lens: Annotated[Lens | None, Query(
        description="One side of the security lens (see `/api/v1/lenses/security`): the "
        "money in its DAC sectors (`security`) or all the rest (`development`); read "
        "through the sector split, so it crosses no other Ecuadorian classification")] = None,
    format: Annotated[PageFormat, Query(
        description=f"`json`, or one row per group: {CSV_FORMATS}")] = PageFormat.json,
) -> Aggregates | Response:
    """The money of the live activities matching the filters, from their latest budget
    views, grouped; the total is the sum of the rows, to the cent. Net by default: money
    that two linked activities both report is counted once (see `basis`)."""
    with engine.connect() as connection:
        found = aggregate(
            connection, chosen, group_by=group_by, measures=measure or [Measure.disbursement],
            year_from=year_from, year_to=year_to, participating_org_role=participating_org_role,
            basis=basis, lens=lens,
        )
    variant = csv_variant(format)
    if variant is None:
        return tagged(request, response, found)
    answer = csv_response(csv_columns(found), csv_rows(found), "aggregates.csv", variant)
    answer.headers["IATI-EC-Basis"] = found.basis.value  # the CSV has no room to say it
    return answer
