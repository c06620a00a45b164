"""Every page the service serves works on a network that reaches no other host: no page or
stylesheet refers to a script, stylesheet, font, image or frame elsewhere, and the API's
documentation renders in a browser whose every request to another host is refused."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import NamedTuple
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from lxml import html
from playwright.sync_api import Browser, Page, Route

from service.app import create_app

# One worker runs every browser test, so the dashboard is loaded and served once.
pytestmark = pytest.mark.xdist_group("dashboard")
# Every page, by its route's path; {id} is an activity the dashboard holds.
PAGES = {
    "/": ["/", "/?lang=en&measure=commitment"],
    "/actividades": ["/actividades", "/actividades?province=08"],
    "/actividades/{identifier:path}": ["/actividades/{id}", "/actividades/NO-SUCH-ACTIVITY"],
    "/organizaciones": ["/organizaciones"],
    "/organizaciones/{organisation:path}": ["/organizaciones/US-GOV-1"],
    "/calidad": ["/calidad"],
    "/calidad/{organisation:path}": ["/calidad/US-GOV-1"],
    "/coordinacion": ["/coordinacion"],
    "/resultados": ["/resultados"],
    "/convenios": ["/convenios"],
    "/convenios/{agreement_id}": ["/convenios/1", "/convenios/999"],
    "/deuda": ["/deuda", "/deuda?lang=en"],
    "/deuda/{identifier:path}": ["/deuda/NL-1-PPR-24706", "/deuda/NO-SUCH-LOAN"],
    "/cooperacion-ofrecida": ["/cooperacion-ofrecida", "/cooperacion-ofrecida?lang=en"],
    "/eficacia": ["/eficacia", "/eficacia?year=2016&lang=en"],
    "/seguridad": ["/seguridad", "/seguridad?lang=en&measure=commitment&year=2013"],
    "/docs": ["/docs"],
    "/redoc": ["/redoc"],
}
# Routes that answer data or assets, not pages.
NOT_PAGES = ("/api/", "/iati/", "/descargas/", "/static/", "/docs-assets/", "/health",
             "/metrics", "/openapi.json")
# Where a page names something the browser fetches by itself, not on a click.
FETCHED = ["//script/@src", "//link[not(@rel='alternate' or @rel='canonical')]/@href",
           "//img/@src", "//img/@srcset", "//source/@src", "//source/@srcset",
           "//iframe/@src", "//embed/@src", "//object/@data", "//video/@poster",
           "//audio/@src", "//video/@src", "//input[@type='image']/@src",
           "//*[local-name()='image']/@href", "//*[local-name()='use']/@href"]
# url(…) and @import in CSS, and any absolute URL in a script or style on the page.
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""", re.IGNORECASE)
ABSOLUTE = re.compile(r"""(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^\s'"<>)]*""", re.IGNORECASE)
LOCAL = {"127.0.0.1", "localhost"}


def test_the_pages_checked_are_every_page_the_service_serves() -> None:
    """A new page must be added to PAGES, and so checked."""
    served = {route.path for route in iter_route_contexts(create_app().routes)
              if isinstance(route.original_route, APIRoute) and "GET" in (route.methods or ())
              and route.path and not route.path.startswith(NOT_PAGES)}
    assert served == set(PAGES)


def _an_activity(dashboard: str) -> str:
    download = httpx.get(f"{dashboard}/descargas/actividades.csv", timeout=60)
    rows = csv.DictReader(io.StringIO(download.content.decode("utf-8-sig")))
    return next(rows)["iati_identifier"]


def _elsewhere(url: str, base: str) -> bool:
    """Whether the browser would fetch `url`, read on page `base`, from another host."""
    host = urlsplit(urljoin(base, url.strip())).hostname
    return url.strip().lower().startswith(("http:", "https:", "//")) and host not in LOCAL


def _references(page: str, base: str) -> tuple[list[str], list[str]]:
    """What `page` (HTML at `base`) fetches by itself: URLs, and its stylesheets' URLs."""
    tree = html.fromstring(page)
    found = [str(url) for path in FETCHED for url in tree.xpath(path)]
    found = [part.split()[0] for url in found for part in url.split(",") if part.strip()]
    inline = [*tree.xpath("//style/text()"), *tree.xpath("//@style"),
              *tree.xpath("//script/text()")]
    for text in inline:
        found += [match.group(0) for match in ABSOLUTE.finditer(str(text))]
        found += [url for pair in CSS_URL.findall(str(text)) for url in pair if url]
    sheets = [urljoin(base, str(url)) for url in
              tree.xpath("//link[contains(concat(' ', @rel, ' '), ' stylesheet ')]/@href")]
    return found, sheets


def test_no_page_fetches_anything_from_another_host(dashboard: str) -> None:
    activity = _an_activity(dashboard)
    for paths in PAGES.values():
        for path in paths:
            url = dashboard + path.replace("{id}", activity)
            answer = httpx.get(url, timeout=60)
            assert answer.status_code in (200, 404), (url, answer.status_code)
            assert answer.headers["content-type"].startswith("text/html"), url
            found, sheets = _references(answer.text, url)
            for sheet in sheets:
                assert not _elsewhere(sheet, url), (url, sheet)
                css = httpx.get(sheet, timeout=60)
                assert css.status_code == 200, sheet
                found += [u for pair in CSS_URL.findall(css.text) for u in pair if u]
            outside = [found_url for found_url in found if _elsewhere(found_url, url)]
            assert not outside, (url, outside)


class Offline(NamedTuple):
    """A page whose requests to any host but this machine are refused and listed, with its
    console's errors and uncaught exceptions."""

    page: Page
    refused: list[str]
    errors: list[str]


@pytest.fixture
def offline(browser: Browser) -> Iterator[Offline]:
    context = browser.new_context()
    opened = Offline(context.new_page(), [], [])

    def only_here(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOCAL:
            route.continue_()
        else:
            opened.refused.append(route.request.url)
            route.abort()

    context.route("**/*", only_here)
    opened.page.on("console", lambda message: opened.errors.append(message.text)
                   if message.type == "error" else None)
    opened.page.on("pageerror", lambda error: opened.errors.append(str(error)))
    yield opened
    context.close()


def test_swagger_ui_lists_every_operation_with_no_other_host(
    offline: Offline, dashboard: str
) -> None:
    answer = offline.page.goto(f"{dashboard}/docs")
    assert answer is not None
    assert answer.status == 200
    document = httpx.get(f"{dashboard}/openapi.json", timeout=60).json()
    operations = sum(len(item) for item in document["paths"].values())
    offline.page.wait_for_function(
        f"document.querySelectorAll('.opblock').length == {operations}", timeout=30_000)
    path = offline.page.locator(".opblock-summary-path", has_text="/api/v1/activities")
    assert path.count() >= 1
    assert not offline.errors
    assert not offline.refused


def test_redoc_renders_the_operations_with_no_other_host(
    offline: Offline, dashboard: str
) -> None:
    answer = offline.page.goto(f"{dashboard}/redoc")
    assert answer is not None
    assert answer.status == 200
    offline.page.wait_for_selector("[data-section-id='operation/push_activities']",
                                   timeout=30_000)
    # ReDoc's attribution logo is on Redocly's CDN: the page's policy keeps the browser
    # from asking for it, so nothing is refused here; ReDoc leaves the logo out.
    assert all("violates the following Content Security Policy" in error
               for error in offline.errors), offline.errors
    assert not offline.refused
