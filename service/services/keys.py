"""API keys: create them (the secret shown once), list and revoke them, authenticate with them.

A key reads ``iatiec_<key_id>_<secret>``: `key_id` is a public random prefix that finds
the row, the secret is stored only as its SHA-256 digest.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from pydantic import BaseModel
from sqlalchemy import or_, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from service.errors import DomainError
from service.models import ApiKey, KeyScope, Organisation, utcnow
from service.services.organisations import (
    OrganisationNotFoundError,
    find_organisation,
    refs_of,
)
from service.services.prefixes import Decider, vouch

log = logging.getLogger(__name__)

PREFIX = "iatiec"
# Recording every use would turn each read into a write: once a minute per key is enough.
TOUCH_INTERVAL = timedelta(minutes=1)
TOUCH_WAIT_MS = 200
_SECRET_BYTES = 32  # 256 bits
_TOKEN = re.compile(rf"{PREFIX}_(?P<key_id>[0-9a-f]{{16}})_(?P<secret>[A-Za-z0-9_-]{{43,128}})")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts for: the key, its organisation's IATI identifiers, its scopes."""

    organisation_id: int
    api_key_id: int
    refs: frozenset[str]
    scopes: frozenset[str]

    def allows(self, scope: KeyScope) -> bool:
        """Whether the key has `scope`; an admin key has every scope."""
        return scope.value in self.scopes or KeyScope.admin.value in self.scopes


class ApiKeyPublic(BaseModel):
    """An API key as listed: never its secret nor the secret's digest."""

    key_id: str
    organisation_id: int
    organisation_name: str
    scopes: list[KeyScope]
    label: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class KeyNotFoundError(DomainError):
    """No API key has this id."""

    status: ClassVar[int] = 404
    code: ClassVar[str] = "key.not-found"
    title: ClassVar[str] = "Unknown API key"

    def __init__(self, key_id: str) -> None:
        super().__init__(f"No API key has the id {key_id}.", key_id=key_id)
        self.key_id = key_id


class NoScopeError(DomainError):
    """A key must allow something."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = "key.no-scope"
    title: ClassVar[str] = "A key needs a scope"


class InvalidKeyError(DomainError):
    """The request carries no API key, or one that is malformed, unknown or revoked."""

    status: ClassVar[int] = 401
    code: ClassVar[str] = "auth.invalid-key"
    title: ClassVar[str] = "Invalid API key"

    def __init__(self) -> None:
        super().__init__(
            "Send a valid, unrevoked API key as `Authorization: Bearer iatiec_…`.",
            headers={"WWW-Authenticate": "Bearer"},
        )


class InsufficientScopeError(DomainError):
    """The key is valid but does not allow this operation."""

    status: ClassVar[int] = 403
    code: ClassVar[str] = "auth.insufficient-scope"
    title: ClassVar[str] = "The API key lacks a scope"

    def __init__(self, scope: KeyScope) -> None:
        super().__init__(
            f"This operation needs a key with the {scope.value} scope.",
            headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'},
            scope=scope.value,
        )


def digest(secret: str) -> str:
    """The stored form of a secret.

    SHA-256, not a slow password hash: the secret is 256 random bits, so there is no
    dictionary to try and a fast digest is as safe as bcrypt or Argon2 would be, while
    keeping the check on every request cheap.
    """
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def create_key(
    session: Session,
    *,
    organisation_ref: str,
    scopes: Iterable[KeyScope],
    label: str | None = None,
) -> tuple[ApiKey, str]:
    """A new key of the organisation identified by `organisation_ref`, and its plaintext.

    The plaintext exists only in the return value: show it once, it cannot be recovered.
    Giving a key vouches for the organisation: its identifiers become the prefixes of the
    activity identifiers it owns, those no other organisation has (see `prefixes.vouch`).
    """
    organisation = find_organisation(session, organisation_ref)
    if organisation is None or organisation.id is None:
        raise OrganisationNotFoundError(organisation_ref.strip())
    vouch(session, organisation, decider=Decider("key creation"), strict=False)
    allowed = [scope.value for scope in KeyScope if scope in set(scopes)]
    if not allowed:
        raise NoScopeError("Give the key at least one scope: publish, read or admin.")
    key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(_SECRET_BYTES)
    key = ApiKey(
        organisation_id=organisation.id,
        key_id=key_id,
        secret_hash=digest(secret),
        scopes=allowed,
        label=(label or "").strip() or None,
    )
    session.add(key)
    session.flush()
    return key, f"{PREFIX}_{key_id}_{secret}"


def list_keys(session: Session, *, organisation_ref: str | None = None) -> list[ApiKeyPublic]:
    """The keys of every organisation (or of one), oldest first, without their secrets."""
    statement = select(ApiKey, Organisation).join(
        Organisation, col(ApiKey.organisation_id) == col(Organisation.id)
    )
    if organisation_ref is not None:
        organisation = find_organisation(session, organisation_ref)
        if organisation is None:
            raise OrganisationNotFoundError(organisation_ref.strip())
        statement = statement.where(ApiKey.organisation_id == organisation.id)
    rows = session.exec(statement.order_by(col(ApiKey.created_at), col(ApiKey.id))).all()
    return [
        ApiKeyPublic(
            key_id=key.key_id,
            organisation_id=key.organisation_id,
            organisation_name=organisation.name,
            scopes=[KeyScope(scope) for scope in key.scopes],
            label=key.label,
            created_at=key.created_at,
            last_used_at=key.last_used_at,
            revoked_at=key.revoked_at,
        )
        for key, organisation in rows
    ]


def revoke_key(session: Session, *, key_id: str) -> ApiKey:
    """Revoke the key `key_id` (a whole key is accepted too); revoking twice changes nothing."""
    wanted = match.group("key_id") if (match := _TOKEN.fullmatch(key_id.strip())) else key_id
    key = session.exec(select(ApiKey).where(ApiKey.key_id == wanted.strip())).first()
    if key is None:
        raise KeyNotFoundError(wanted.strip())
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)
        session.flush()
    return key


def authenticate(session: Session, token: str) -> Principal | None:
    """Who `token` acts for; None when it is malformed, unknown or revoked."""
    match = _TOKEN.fullmatch(token.strip())
    if match is None:
        return None
    key = session.exec(select(ApiKey).where(ApiKey.key_id == match.group("key_id"))).first()
    if key is None or key.id is None or key.revoked_at is not None:
        return None
    if not hmac.compare_digest(key.secret_hash, digest(match.group("secret"))):
        return None
    _record_use(session, key)
    return Principal(
        organisation_id=key.organisation_id,
        api_key_id=key.id,
        refs=frozenset(refs_of(session, [key.organisation_id]).get(key.organisation_id, [])),
        scopes=frozenset(key.scopes),
    )


def _record_use(session: Session, key: ApiKey) -> None:
    """Set the key's last-used time, at most once per `TOUCH_INTERVAL`."""
    now = utcnow()
    if key.last_used_at is not None and now - key.last_used_at < TOUCH_INTERVAL:
        return
    # Conditional, so concurrent requests with the same key write it once.
    statement = (
        update(ApiKey)
        .where(
            col(ApiKey.id) == key.id,
            or_(
                col(ApiKey.last_used_at).is_(None),
                col(ApiKey.last_used_at) < now - TOUCH_INTERVAL,
            ),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    try:
        with _impatient(session), session.begin_nested():
            session.exec(statement)
    except OperationalError as error:
        # The time is advisory: a SQLite database busy with another writer must neither
        # fail nor hold up the request. The next use, a minute on, tries again.
        log.warning("last use of API key %s not recorded: %s", key.key_id, error)
        return
    set_committed_value(key, "last_used_at", now)


@contextmanager
def _impatient(session: Session) -> Iterator[None]:
    """On SQLite, wait at most `TOUCH_WAIT_MS` for another writer's lock.

    A long push holds SQLite's single write lock; the read that wants to record its key's
    use should not wait for it. PostgreSQL needs no such care: a push only key-share locks
    its key's row (the foreign key), which an update of `last_used_at` does not wait for.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    patience = int(connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one())
    connection.exec_driver_sql(f"PRAGMA busy_timeout = {TOUCH_WAIT_MS}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {patience}")
