"""The dashboard's aid-effectiveness page: each donor's scorecard for one year (the latest
with money, unless asked), every indicator explained in one Spanish sentence. It reads
the same service as `GET /api/v1/effectiveness?ecuador=true`."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from service.api.deps import SessionDep
from service.services.effectiveness.definitions import DEFINITIONS
from service.services.effectiveness.scorecard import scorecard
from service.services.effectiveness.store import years_with_money
from service.web import labels
from service.web.effectiveness_phrases import say
from service.web.filters import PageFilters
from service.web.pages import language, render

router = APIRouter(include_in_schema=False)


@router.get("/eficacia", response_class=HTMLResponse)
def effectiveness_page(request: Request, session: SessionDep) -> HTMLResponse:
    filters = PageFilters.of(request.query_params)
    # The year chooses the scorecard's year, not the activities running in it.
    chosen = replace(filters.activity_filter(), active_from=None, active_to=None)
    connection = session.connection()
    years = years_with_money(connection, replace(chosen, ecuador=False))
    year = filters.year or _latest(years)
    found = scorecard(connection, chosen, years=[year] if year is not None else [])
    donors = {row.reporting_org for row in found.rows if row.reporting_org}
    query = [("ecuador", "true"), *filters.values.items()]
    if year is not None:
        query.append(("year", str(year)))
    return render(
        request, session, "effectiveness.html", filters=filters, found=found, year=year,
        years=years, definitions=DEFINITIONS,
        donor_names=labels.organisations(connection, donors),
        api_query="&".join(f"{name}={value}" for name, value in query),
        note=lambda text: say(text, language(request)).text,
    )


def _latest(years: list[int]) -> int | None:
    """The latest year with money up to this one, else the latest of all."""
    past = [year for year in years if year <= date.today().year]
    return max(past or years, default=None)
