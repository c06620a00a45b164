"""The dashboard's page of Ecuador's cooperation provided: the south-south and triangular
cooperation the ministry records as its own, with its own totals by recipient country,
year, sector and modality, apart from the cooperation received. It reads the same services
as `GET /api/v1/provided` and `GET /api/v1/provided/activities`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from service.api.deps import SessionDep
from service.api.routes.provided import providers
from service.services.provided import ProvidedGroupBy, provided_activities, provided_totals
from service.web.pages import render

router = APIRouter(include_in_schema=False)
GROUPINGS = (ProvidedGroupBy.recipient_country, ProvidedGroupBy.year, ProvidedGroupBy.sector,
             ProvidedGroupBy.modality)


@router.get("/cooperacion-ofrecida", response_class=HTMLResponse)
def provided_page(request: Request, session: SessionDep) -> HTMLResponse:
    connection = session.connection()
    chosen = providers()
    tables = {group.value: provided_totals(connection, chosen, group_by=[group])
              for group in GROUPINGS}
    return render(
        request, session, "provided.html", tables=tables,
        listed=provided_activities(connection, chosen),
        totals=tables[ProvidedGroupBy.recipient_country.value],
    )
