"""The routes' dependencies: a database session per request, and the caller's API key."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from typing import Annotated

from fastapi import Depends, Path, Query
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BeforeValidator
from sqlalchemy import Engine
from sqlmodel import Session

from service.db import get_engine, get_session
from service.models import KeyScope
from service.models.base import LARGEST_BIGINT, LARGEST_ID
from service.services.keys import (
    InsufficientScopeError,
    InvalidKeyError,
    Principal,
    authenticate,
)

SessionDep = Annotated[Session, Depends(get_session)]
EngineDep = Annotated[Engine, Depends(get_engine)]
# auto_error=False: a missing key is our own `auth.invalid-key` problem, not FastAPI's.
bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    bearerFormat="iatiec_<key_id>_<secret>",
    description="An API key of iati-ec (`iati-ec keys create`), sent as a bearer token.",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


@cache  # one dependency per scope, so FastAPI resolves it once per request
def require(scope: KeyScope, *alternatives: KeyScope) -> Callable[..., Principal]:
    """A dependency giving the caller's `Principal` if its key allows `scope` (or any of
    the `alternatives`).

    401 (`auth.invalid-key`) without a valid key; 403 (`auth.insufficient-scope`) when the
    key lacks them all. An admin key has every scope.
    """
    accepted = (scope, *alternatives)

    def principal(session: SessionDep, credentials: Credentials) -> Principal:
        found = None if credentials is None else authenticate(session, credentials.credentials)
        # Ends the read (and keeps the last-used time) before the route starts its work.
        session.commit()
        if found is None:
            raise InvalidKeyError()
        if not any(found.allows(option) for option in accepted):
            raise InsufficientScopeError(scope)
        return found

    principal.__name__ = "require_" + "_or_".join(option.value for option in accepted)
    return principal


def optional_caller(session: SessionDep, credentials: Credentials) -> Principal | None:
    """The caller's `Principal` when a key is sent (it must be valid, of any scope); None
    for an anonymous request."""
    if credentials is None:
        return None
    return require(*KeyScope)(session, credentials)


# Numbers in paths and queries, bounded by the columns they are compared with: a larger one
# is a 422 problem, never a database error.
RowIdPath = Annotated[int, Path(ge=1, le=LARGEST_ID, description="A row's id")]
VersionPath = Annotated[int, Path(ge=1, le=LARGEST_ID, description="A version number")]
CursorQuery = Annotated[int, Query(ge=0, le=LARGEST_BIGINT)]



def _iso_text(given: object) -> object:
    """`given` if it is text starting with a date (ISO 8601): pydantic would also read a
    number (`0.5`, `20000101`) as a Unix time, which the document (`format: date`,
    `date-time`) does not offer and no caller means."""
    if isinstance(given, str) and not _ISO_DATE.match(given):
        raise ValueError("give an ISO 8601 date, YYYY-MM-DD (a time may follow)")
    return given


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Dates and times in queries, as ISO 8601 text only.
IsoDate = Annotated[date, BeforeValidator(_iso_text)]
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_text)]

PublishPrincipal = Annotated[Principal, Depends(require(KeyScope.publish))]
MaybeCaller = Annotated[Principal | None, Depends(optional_caller)]
ReadPrincipal = Annotated[Principal, Depends(require(KeyScope.read))]
AdminPrincipal = Annotated[Principal, Depends(require(KeyScope.admin))]
# Reading back what one has published: a read key, or the publisher's own publish key.
ReaderOrPublisher = Annotated[Principal, Depends(require(KeyScope.read, KeyScope.publish))]

__all__ = [
    "AdminPrincipal",
    "CursorQuery",
    "EngineDep",
    "IsoDate",
    "IsoDateTime",
    "MaybeCaller",
    "Principal",
    "PublishPrincipal",
    "ReadPrincipal",
    "ReaderOrPublisher",
    "RowIdPath",
    "SessionDep",
    "VersionPath",
    "require",
]
