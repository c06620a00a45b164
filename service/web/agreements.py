"""The dashboard's agreement pages: the cooperation agreements the ministry records, and one
agreement with its activities, objectives, money and metrics. They read the same services
as `GET /api/v1/agreements`."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from service.api.deps import RowIdPath, SessionDep
from service.errors import DomainError
from service.services.agreements.reading import agreement_public, list_agreements
from service.web.pages import problem_page, render

router = APIRouter(include_in_schema=False)


@router.get("/convenios", response_class=HTMLResponse)
def agreements_page(request: Request, session: SessionDep) -> HTMLResponse:
    return render(request, session, "agreements.html",
                  agreements=list_agreements(session.connection()))


@router.get("/convenios/{agreement_id}", response_class=HTMLResponse)
def agreement_page(agreement_id: RowIdPath, request: Request, session: SessionDep) -> HTMLResponse:
    try:
        agreement = agreement_public(session.connection(), agreement_id,
                                     today=datetime.now(UTC).date())
    except DomainError as error:
        return problem_page(request, session, error)
    return render(request, session, "agreement.html", agreement=agreement)
