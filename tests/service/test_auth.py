"""API keys over HTTP: bearer tokens, scopes, revocation, last use; the organisations routes.

httpx against the application in-process, its session pointed at the test database
(`app.dependency_overrides[get_session]`), on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest
from fastapi import APIRouter
from sqlmodel import Session, select

from service.api.deps import Principal, PublishPrincipal, ReadPrincipal
from service.app import create_app
from service.db import get_session
from service.models import ApiKey, KeyScope, OrganisationRole
from service.services.keys import create_key, revoke_key
from service.services.organisations import register_organisation
from tests.support.publishing import InProcess

# Routes that need each scope, for scopes no route of the app needs yet.
probe = APIRouter(prefix="/probe")


def described(principal: Principal) -> dict[str, Any]:
    return {"organisation_id": principal.organisation_id, "api_key_id": principal.api_key_id,
            "refs": sorted(principal.refs), "scopes": sorted(principal.scopes)}


@probe.get("/read")
def read_something(principal: ReadPrincipal) -> dict[str, Any]:
    return described(principal)


@probe.post("/publish")
def publish_something(principal: PublishPrincipal) -> dict[str, Any]:
    return described(principal)


class Api(InProcess):
    """The app with the probe routes, on `session`."""

    def __init__(self, session: Session) -> None:
        super().__init__(create_app())
        self.app.include_router(probe)

        def test_session() -> Iterator[Session]:
            yield session

        self.app.dependency_overrides[get_session] = test_session


@pytest.fixture
def api(session: Session) -> Api:
    return Api(session)


@pytest.fixture
def donor(session: Session) -> str:
    """The ref of a newly registered donor."""
    ref = f"XM-DAC-{uuid4().hex[:10]}"
    register_organisation(session, refs=[ref], name="CAF", roles=[OrganisationRole.donor])
    return ref


def key_for(session: Session, ref: str, *scopes: KeyScope) -> str:
    return create_key(session, organisation_ref=ref, scopes=scopes)[1]


def assert_problem(answer: httpx.Response, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == code
    assert answer.headers["www-authenticate"].startswith("Bearer")


def test_a_key_acts_for_its_organisation_with_its_scopes(
    api: Api, session: Session, donor: str
) -> None:
    key, token = create_key(session, organisation_ref=donor, scopes=[KeyScope.read])
    answer = api.request("GET", "/probe/read", key=token)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"organisation_id": key.organisation_id, "api_key_id": key.id,
                             "refs": [donor], "scopes": ["read"]}


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Basic aWF0aTplYw==",
        "Bearer",
        "Bearer not-a-key",
        "Bearer iatiec_0123456789abcdef_" + "A" * 43,  # well formed, unknown
    ],
)
def test_no_valid_key_is_401(api: Api, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    answer = api.request("GET", "/probe/read", headers=headers)
    assert_problem(answer, 401, "auth.invalid-key")
    assert answer.headers["www-authenticate"] == "Bearer"


def test_a_key_with_a_wrong_secret_is_401(api: Api, session: Session, donor: str) -> None:
    token = key_for(session, donor, KeyScope.read)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert_problem(api.request("GET", "/probe/read", key=forged), 401, "auth.invalid-key")


def test_a_revoked_key_is_401(api: Api, session: Session, donor: str) -> None:
    key, token = create_key(session, organisation_ref=donor, scopes=[KeyScope.publish])
    assert api.request("POST", "/probe/publish", key=token).status_code == 200
    revoke_key(session, key_id=key.key_id)
    assert_problem(api.request("POST", "/probe/publish", key=token), 401, "auth.invalid-key")


@pytest.mark.parametrize(
    ("scope", "method", "url"),
    [
        (KeyScope.read, "POST", "/probe/publish"),
        (KeyScope.publish, "GET", "/probe/read"),
        (KeyScope.publish, "POST", "/api/v1/organisations/merges"),
        (KeyScope.read, "POST", "/api/v1/organisations"),
    ],
)
def test_a_key_without_the_scope_is_403(
    api: Api, session: Session, donor: str, scope: KeyScope, method: str, url: str
) -> None:
    answer = api.request(method, url, key=key_for(session, donor, scope))
    assert_problem(answer, 403, "auth.insufficient-scope")
    assert 'error="insufficient_scope"' in answer.headers["www-authenticate"]


def test_an_admin_key_has_every_scope(api: Api, session: Session, donor: str) -> None:
    token = key_for(session, donor, KeyScope.admin)
    assert api.request("GET", "/probe/read", key=token).status_code == 200
    assert api.request("POST", "/probe/publish", key=token).status_code == 200
    assert api.request("GET", "/api/v1/organisations", key=token).status_code == 200


def test_last_use_is_recorded_at_most_once_a_minute(
    api: Api, session: Session, donor: str
) -> None:
    key, token = create_key(session, organisation_ref=donor, scopes=[KeyScope.read])
    assert key.last_used_at is None

    def last_used() -> Any:
        session.expire_all()
        return session.exec(select(ApiKey.last_used_at).where(ApiKey.id == key.id)).one()

    api.request("GET", "/probe/read", key=token)
    first = last_used()
    assert first is not None
    api.request("GET", "/probe/read", key=token)
    assert last_used() == first  # within the minute: no write
    earlier = first - timedelta(minutes=5)
    session.get(ApiKey, key.id).last_used_at = earlier  # type: ignore[union-attr]
    session.commit()
    api.request("GET", "/probe/read", key=token)
    assert last_used() > first


# The organisations routes --------------------------------------------------------------


def test_an_admin_registers_and_lists_organisations(
    api: Api, session: Session, donor: str
) -> None:
    admin = key_for(session, donor, KeyScope.admin)
    ref = f"XM-DAC-{uuid4().hex[:10]}"
    body = {"refs": [ref], "name": "KOICA", "type": "10", "roles": ["donor"]}
    created = api.request("POST", "/api/v1/organisations", key=admin, json=body)
    assert created.status_code == 201, created.text
    assert created.json() == {
        "id": created.json()["id"], "refs": [ref], "name": "KOICA", "type": "10",
        "roles": ["donor"], "names": [{"text": "KOICA", "lang": None}],
    }
    listed = api.request("GET", "/api/v1/organisations", key=admin, params={"role": "donor"})
    assert {o["name"] for o in listed.json()["organisations"] if o["refs"] in ([ref], [donor])} == {
        "KOICA", "CAF",
    }
    again = api.request("POST", "/api/v1/organisations", key=admin, json=body)
    assert again.status_code == 409
    assert again.json()["code"] == "organisation.duplicate-ref"
    assert again.json()["ref"] == ref


def test_an_organisation_needs_a_ref_and_a_role(api: Api, session: Session, donor: str) -> None:
    admin = key_for(session, donor, KeyScope.admin)
    body = {"refs": [], "name": "Nobody", "roles": []}
    answer = api.request("POST", "/api/v1/organisations", key=admin, json=body)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["code"] == "request.invalid"
    assert {error["location"] for error in problem["errors"]} == {"body/refs", "body/roles"}


def test_the_openapi_document_declares_the_bearer_scheme() -> None:
    document = create_app().openapi()
    assert document["components"]["securitySchemes"]["ApiKey"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "iatiec_<key_id>_<secret>",
        "description": document["components"]["securitySchemes"]["ApiKey"]["description"],
    }
    operation = document["paths"]["/api/v1/organisations"]["get"]
    assert operation["security"] == [{"ApiKey": []}]
    assert operation["operationId"] == "list_organisations"
