"""The API's documentation pages, /docs (Swagger UI) and /redoc (ReDoc), from files installed
with the package: the ministry's closed network reaches no CDN, so nothing comes from one."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)
ASSETS_URL = "/docs-assets"
# fastapi-offline's copies of Swagger UI's and ReDoc's distribution files.
ASSETS = Path(str(resources.files("fastapi_offline") / "static"))
MEDIA = {"swagger-ui-bundle.js": "text/javascript", "redoc.standalone.js": "text/javascript",
         "swagger-ui.css": "text/css", "favicon.png": "image/png"}
# The pages may fetch from the service only. Both UIs inject scripts and styles inline,
# and ReDoc's search runs in a worker made from a blob. ReDoc's attribution logo, the one
# thing either page would fetch from elsewhere, is refused and left out.
POLICY = ("default-src 'self'; img-src 'self' data:; script-src 'self' 'unsafe-inline'; "
          "style-src 'self' 'unsafe-inline'; worker-src 'self' blob:; object-src 'none'; "
          "base-uri 'none'; form-action 'self'")


@cache
def asset_url(name: str) -> str:
    """The asset's URL, with a digest of it so the URL changes when an upgrade changes it."""
    digest = hashlib.sha256((ASSETS / name).read_bytes()).hexdigest()[:12]
    return f"{ASSETS_URL}/{name}?v={digest}"


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    page = get_swagger_ui_html(
        openapi_url=_openapi_url(request), title=f"{request.app.title} · API",
        swagger_js_url=asset_url("swagger-ui-bundle.js"),
        swagger_css_url=asset_url("swagger-ui.css"),
        swagger_favicon_url=asset_url("favicon.png"),
        oauth2_redirect_url=None,  # keys are bearer tokens, no OAuth2 flow
        swagger_ui_parameters={"validatorUrl": None},  # no badge from the online validator
    )
    page.headers["Content-Security-Policy"] = POLICY
    return page


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    page = get_redoc_html(
        openapi_url=_openapi_url(request), title=f"{request.app.title} · API",
        redoc_js_url=asset_url("redoc.standalone.js"),
        redoc_favicon_url=asset_url("favicon.png"), with_google_fonts=False,
    )
    page.headers["Content-Security-Policy"] = POLICY
    return page


@router.get(f"{ASSETS_URL}/{{name}}")
def asset(name: str) -> Response:
    if name not in MEDIA:
        return Response(status_code=404)
    return Response((ASSETS / name).read_bytes(), media_type=MEDIA[name],
                    headers={"Cache-Control": "public, max-age=31536000, immutable"})


def _openapi_url(request: Request) -> str:
    return f"{request.scope.get('root_path', '')}{request.app.openapi_url}"
