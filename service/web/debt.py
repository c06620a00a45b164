"""The dashboard's debt pages: the loans for Ecuador among the activities matching the
filters, their service by lender and year and by expenditure ítem, their balances (each in
Ecuador's part); and one loan's terms, status and repayments. They read the same services
as `GET /api/v1/debt?ecuador=true`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from service.api.deps import SessionDep
from service.errors import DomainError
from service.services.activities import live_activity
from service.services.debt import DebtGroupBy, activity_debt
from service.services.debt_summary import debt_summary
from service.services.ecuador import shown_in_ecuador
from service.web import labels
from service.web.filters import PageFilters
from service.web.pages import problem_page, render

router = APIRouter(include_in_schema=False)
BY_LENDER = [DebtGroupBy.lender, DebtGroupBy.year]
BY_ITEM = [DebtGroupBy.expenditure_item]


@router.get("/deuda", response_class=HTMLResponse)
def debt_page(request: Request, session: SessionDep) -> HTMLResponse:
    filters = PageFilters.of(request.query_params)
    chosen = filters.activity_filter()
    connection = session.connection()
    by_lender = debt_summary(connection, chosen, group_by=BY_LENDER)
    by_item = debt_summary(connection, chosen, group_by=BY_ITEM)
    lenders = {row.lender for row in by_lender.loans} | {row.lender for row in by_lender.balances}
    return render(
        request, session, "debt.html", filters=filters, by_lender=by_lender, by_item=by_item,
        lender_names=labels.organisations(connection, {ref for ref in lenders if ref}),
        lender_query=filters.query(group_by=[group.value for group in BY_LENDER]),
        item_query=filters.query(group_by=[group.value for group in BY_ITEM]),
    )


@router.get("/deuda/{identifier:path}", response_class=HTMLResponse)
def loan_page(identifier: str, request: Request, session: SessionDep) -> HTMLResponse:
    try:
        activity = live_activity(session, identifier)
        assert activity.id is not None
        shown_in_ecuador(session.connection(), activity.id, identifier)
        debt = activity_debt(session, identifier)
    except DomainError as error:
        return problem_page(request, session, error)
    return render(request, session, "loan.html", debt=debt)
