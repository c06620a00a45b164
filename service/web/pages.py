"""The public dashboard's pages, rendered on the server in Spanish (or English), reading
the same services as the API — every table says which API query gives its data. They
show the activities for Ecuador, and Ecuador's part of their money, only (see
`service.services.ecuador`): another country's activity is not found here, though the
API's filters still reach it."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from sqlalchemy import func, select
from sqlmodel import Session

from mappings.amounts import Measure
from mappings.tables import Classification, table
from service.addresses import activity_url
from service.api.deps import EngineDep, SessionDep
from service.errors import DomainError
from service.models.sync import SyncSource
from service.services import activities
from service.services.activity_links import activity_links
from service.services.agreements.reading import list_agreements
from service.services.budget.review import coverage
from service.services.budget.views import read_view
from service.services.coordination.decisions import decided_pairs
from service.services.coordination.duplicates import duplicates
from service.services.coordination.overlaps import SectorLevel, overlaps
from service.services.coordination.scoring import THRESHOLD
from service.services.ecuador import NoneForEcuadorError, shown_in_ecuador
from service.services.organisations import named_organisation
from service.services.partners import (
    participant_entries,
    participant_placeholders,
    profile,
    search_registry,
    takes_part_in_ecuador,
)
from service.services.quality import (
    PUSH,
    find_publisher,
    headlines,
    publisher_quality,
)
from service.services.query import list_activities
from service.services.results.listing import ResultFilter, activity_results
from service.services.results.summary import ResultGroupBy, summarise_results
from service.services.traceability import Basis
from service.web import budget_rows, i18n, labels, messages, overview
from service.web.filters import PageFilters

SYNC = SyncSource.__table__  # type: ignore[attr-defined]
HERE = Path(__file__).parent
STATIC = HERE / "static"
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


@cache
def asset_version(name: str) -> str:
    """A digest of the static file, so its URL changes when it does (cached for a year)."""
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    path = STATIC / name
    if path.parent != STATIC or not path.is_file():
        return Response(status_code=404)
    media = "text/css" if name.endswith(".css") else "application/octet-stream"
    return Response(path.read_bytes(), media_type=media,
                    headers={"Cache-Control": "public, max-age=31536000, immutable"})


def render(
    request: Request, session: Session, template: str, status: int = 200, **context: Any
) -> HTMLResponse:
    """`template` in the asked language, with the page's common parts."""
    asked = request.query_params.get("lang")
    lang = language(request)
    connection = session.connection()
    last_push = connection.execute(select(func.max(PUSH.c.finished_at))).scalar_one()
    last_sync = connection.execute(select(func.max(SYNC.c.checked_at))).scalar_one()
    other = "en" if lang == "es" else "es"
    switch = request.url.include_query_params(lang=other)
    answer = templates.TemplateResponse(request, template, status_code=status, context={
        "lang": lang, "other_lang": other, "switch_url": str(switch.path) + "?" + switch.query,
        "t": lambda key: i18n.word(key, lang),
        "money": lambda value: i18n.money(value, lang),
        "num": lambda value, places=0: i18n.number(value, lang, places),
        "day": lambda value: i18n.day(value, lang),
        "named": lambda prefix, value: i18n.named(prefix, value, lang),
        "finding": lambda code, message: messages.finding(code, message, lang),
        "rule_message": lambda code: messages.rule_message(code, lang),
        "unofficial": lambda: unofficial(lang),
        "last_push": last_push, "last_sync": last_sync,
        "css": f"/static/app.css?v={asset_version('app.css')}",
        "labels": labels, "activity_url": activity_url, "words": i18n.WORDS, **context,
    })
    if asked in i18n.LANGUAGES:
        answer.set_cookie(i18n.COOKIE, asked, max_age=365 * 24 * 3600, samesite="lax")
    return answer


def language(request: Request) -> str:
    """The page's language: asked in the query, else remembered, else Spanish."""
    asked = request.query_params.get("lang")
    return i18n.pick(asked or request.cookies.get(i18n.COOKIE))


def unofficial(lang: str) -> Markup:
    """The mark on a name that is an unofficial translation, pointing at the footer's note."""
    if lang == "en":
        return Markup("")
    said = i18n.word("unofficial", lang)
    return Markup('<sup><a class="note" href="#traduccion-no-oficial" title="{}" '
                  'aria-label="{}">*</a></sup>').format(said, said)


def problem_page(request: Request, session: Session, error: DomainError) -> HTMLResponse:
    return render(request, session, "problem.html", status=error.status, error=error)


@router.get("/", response_class=HTMLResponse)
def overview_page(
    request: Request, session: SessionDep,
    measure: Annotated[Measure, Query()] = Measure.disbursement,
    basis: Annotated[Basis, Query()] = Basis.net,
) -> HTMLResponse:
    filters = PageFilters.of(request.query_params)
    connection = session.connection()
    years, years_query = overview.by_year(connection, filters, basis)
    lang = language(request)
    return render(
        request, session, "overview.html", filters=filters, measure=measure,
        measures=overview.MEASURES, years=years, years_query=years_query, basis=basis,
        bases=list(Basis), panels=overview.panels(connection, filters, measure, lang, basis),
        provinces=_provinces(), instruments=overview.INSTRUMENTS,
    )


@router.get("/actividades", response_class=HTMLResponse)
def activities_page(
    request: Request, session: SessionDep, cursor: str | None = None,
) -> HTMLResponse:
    filters = PageFilters.of(request.query_params)
    try:
        page = list_activities(session, filters.activity_filter(), limit=PAGE_SIZE,
                               cursor=cursor or None)
    except DomainError as error:
        return problem_page(request, session, error)
    return render(request, session, "activities.html", filters=filters, page=page,
                  provinces=_provinces())


@router.get("/actividades/{identifier:path}", response_class=HTMLResponse)
def activity_page(identifier: str, request: Request, session: SessionDep) -> HTMLResponse:
    connection = session.connection()
    try:
        row = activities.live_activity(session, identifier)
        assert row.id is not None
        shown_in_ecuador(connection, row.id, identifier)
        stored = activities.stored_activity(session, identifier)
        view = read_view(session, identifier)
        versions = activities.list_versions(session, identifier)
    except DomainError as error:
        return problem_page(request, session, error)
    reporting = stored.model.reporting_org
    return render(request, session, "activity.html", activity=stored.model, stored=stored,
                  view=view, versions=versions, findings=row.findings,
                  budget=budget_rows.rows(view.figures, language(request)),
                  participants=participant_entries(connection, row.id),
                  placeholders=participant_placeholders(connection, row.id),
                  organisation_names=labels.organisations(
                      connection, {reporting.ref} if reporting and reporting.ref else set()),
                  link_codelists=LINK_CODELISTS,
                  links=activity_links(session, identifier),
                  results=activity_results(connection, identifier, today=_today()))


# The codelist of a link's type, by the link's kind.
LINK_CODELISTS = {"transaction_outgoing": "TransactionType",
                  "transaction_incoming": "TransactionType",
                  "related_activity": "RelatedActivityType",
                  "other_identifier": "OtherIdentifierType"}


@router.get("/coordinacion", response_class=HTMLResponse)
def coordination_page(request: Request, session: SessionDep) -> HTMLResponse:
    filters = PageFilters.of(request.query_params)
    connection = session.connection()
    chosen = filters.activity_filter()
    return render(
        request, session, "coordination.html", filters=filters,
        duplicates=duplicates(connection, chosen, min_score=THRESHOLD, limit=100),
        decisions=decided_pairs(connection, limit=50, ecuador=True),
        overlaps=overlaps(connection, chosen, sector_level=SectorLevel.sector_category,
                          years=(filters.year, filters.year)),
    )


@router.get("/resultados", response_class=HTMLResponse)
def results_page(request: Request, session: SessionDep, engine: EngineDep) -> HTMLResponse:
    filters = PageFilters.of(request.query_params)
    asked = request.query_params.get("group_by") or ResultGroupBy.plan_objective.value
    group_by = ResultGroupBy(asked) if asked in ResultGroupBy.__members__ else (
        ResultGroupBy.plan_objective)
    summary = summarise_results(engine, filters.activity_filter(), ResultFilter(),
                                group_by=group_by, today=_today())
    return render(request, session, "results.html", filters=filters, summary=summary,
                  group_by=group_by, groupings=list(ResultGroupBy),
                  agreements=list_agreements(session.connection()))


@router.get("/organizaciones", response_class=HTMLResponse)
def organisations_page(
    request: Request, session: SessionDep, q: str | None = None,
) -> HTMLResponse:
    found, total = search_registry(session.connection(), q=(q or "").strip() or None,
                                   limit=200, ecuador=True)
    return render(request, session, "organisations.html", found=found, total=total, q=q or "")


@router.get("/organizaciones/{organisation:path}", response_class=HTMLResponse)
def organisation_page(organisation: str, request: Request, session: SessionDep) -> HTMLResponse:
    connection = session.connection()
    try:
        entry = named_organisation(session, organisation)
        assert entry.id is not None
        if not takes_part_in_ecuador(connection, entry.id):
            raise NoneForEcuadorError(
                f"{entry.name} neither reports nor takes part in an activity for Ecuador: the "
                "public pages show those only. The API gives its whole profile "
                f"(GET /api/v1/organisations/{entry.id}).", organisation=organisation)
    except DomainError as error:
        return problem_page(request, session, error)
    found = profile(connection, entry.id, ecuador=True)
    refs = {funder.ref for funder in found.funders if funder.ref} if found else set()
    return render(request, session, "organisation.html", profile=found,
                  organisation_names=labels.organisations(connection, refs))


@router.get("/calidad", response_class=HTMLResponse)
def quality_page(request: Request, session: SessionDep) -> HTMLResponse:
    lines = headlines(session.connection(), today=_today(), ecuador=True)
    return render(request, session, "quality.html", lines=lines)


@router.get("/calidad/{organisation:path}", response_class=HTMLResponse)
def publisher_page(organisation: str, request: Request, session: SessionDep) -> HTMLResponse:
    connection = session.connection()
    try:
        publisher = find_publisher(connection, organisation)
    except DomainError as error:
        return problem_page(request, session, error)
    report = publisher_quality(connection, publisher, today=_today(), ecuador=True)
    shares = coverage(connection, reporting_orgs=report.refs)
    return render(request, session, "publisher.html", report=report,
                  coverage=[row for row in shares if row.measure == COVERED_MEASURE])


# The measure whose coverage the publisher's page shows: the money that has arrived.
COVERED_MEASURE = "disbursement"


def _today() -> date:
    return datetime.now(UTC).date()


@cache
def _provinces() -> list[tuple[str, str]]:
    return sorted(((row.code, row.name_es.title())
                   for row in table(Classification.province).rows if len(row.code) == 2),
                  key=lambda pair: pair[1])

