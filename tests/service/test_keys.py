"""API keys: made at random and shown once, stored hashed, listed without secrets, revocable.

The service on SQLite and PostgreSQL, and the `iati-ec orgs` / `iati-ec keys` commands, run in
the test's process, on a new SQLite file.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from uuid import uuid4

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel

from service.db import create_db_engine, new_session, session_scope
from service.models import ApiKey, KeyScope, Organisation, OrganisationRole, Push
from service.readmodel.clock import record
from service.services.keys import (
    KeyNotFoundError,
    NoScopeError,
    authenticate,
    create_key,
    digest,
    list_keys,
    revoke_key,
)
from service.services.organisations import (
    OrganisationNotFoundError,
    find_organisation,
    register_organisation,
)
from tests.support.cli import Ran
from tests.support.cli import iati_ec as run_iati_ec


@pytest.fixture
def donor(session: Session) -> str:
    ref = f"XM-DAC-{uuid4().hex[:10]}"
    register_organisation(session, refs=[ref], name="AECID", roles=[OrganisationRole.donor])
    return ref


def test_a_key_is_random_and_names_its_public_id(session: Session, donor: str) -> None:
    key, token = create_key(session, organisation_ref=donor, scopes=[KeyScope.publish])
    other, second = create_key(session, organisation_ref=donor, scopes=[KeyScope.publish])
    prefix, key_id, secret = token.split("_", 2)
    assert (prefix, key_id) == ("iatiec", key.key_id)
    assert len(secret) >= 43  # 32 random bytes, URL-safe base64
    assert key.key_id != other.key_id
    assert second.split("_", 2)[2] != secret
    assert key.secret_hash == digest(secret)
    assert key.scopes == ["publish"]


def test_the_token_authenticates_as_its_organisation(session: Session, donor: str) -> None:
    key, token = create_key(
        session, organisation_ref=donor, scopes=[KeyScope.read, KeyScope.publish], label="ERP"
    )
    principal = authenticate(session, token)
    assert principal is not None
    assert principal.api_key_id == key.id
    assert principal.organisation_id == key.organisation_id
    assert principal.refs == {donor}
    assert principal.scopes == {"publish", "read"}
    assert principal.allows(KeyScope.read)
    assert not principal.allows(KeyScope.admin)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token + "x",
        lambda token: token.replace("iatiec_", "iatiex_"),
        lambda token: token.split("_", 2)[2],
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),
        lambda _: "",
    ],
)
def test_anything_but_the_exact_token_is_refused(
    session: Session, donor: str, mangle: Callable[[str], str]
) -> None:
    _, token = create_key(session, organisation_ref=donor, scopes=[KeyScope.read])
    assert authenticate(session, mangle(token)) is None


def test_a_key_needs_a_known_organisation_and_a_scope(session: Session, donor: str) -> None:
    with pytest.raises(OrganisationNotFoundError):
        create_key(session, organisation_ref="XM-DAC-unknown", scopes=[KeyScope.read])
    with pytest.raises(NoScopeError):
        create_key(session, organisation_ref=donor, scopes=[])


def test_revoking_is_final_and_idempotent(session: Session, donor: str) -> None:
    key, token = create_key(session, organisation_ref=donor, scopes=[KeyScope.read])
    revoked = revoke_key(session, key_id=token)  # the whole key names its id too
    assert revoked.revoked_at is not None
    assert authenticate(session, token) is None
    assert revoke_key(session, key_id=key.key_id).revoked_at == revoked.revoked_at
    with pytest.raises(KeyNotFoundError):
        revoke_key(session, key_id="0000000000000000")


def test_listing_shows_keys_without_secrets(session: Session, donor: str) -> None:
    key, token = create_key(session, organisation_ref=donor, scopes=[KeyScope.read], label="BI")
    [listed] = list_keys(session, organisation_ref=donor)
    assert (listed.key_id, listed.organisation_name, listed.label) == (key.key_id, "AECID", "BI")
    shown = listed.model_dump_json()
    assert token.split("_", 2)[2] not in shown
    assert key.secret_hash not in shown
    assert key.key_id in {k.key_id for k in list_keys(session)}


def every_value(engine: Engine) -> str:
    """Every row of every table, as text: what a dump of the database would show."""
    with engine.connect() as connection:
        return "\n".join(
            repr(tuple(row))
            for table in SQLModel.metadata.sorted_tables
            for row in connection.execute(sa.select(table))
        )


def test_keys_are_never_stored_in_plaintext(engine: Engine) -> None:
    ref = f"XM-DAC-{uuid4().hex[:10]}"
    with session_scope(engine, write=True) as session:
        register_organisation(session, refs=[ref], name="JICA", roles=[OrganisationRole.donor])
        key, token = create_key(session, organisation_ref=ref, scopes=[KeyScope.publish])
        authenticate(session, token)
    try:
        secret = token.split("_", 2)[2]
        stored = every_value(engine)
        assert key.key_id in stored
        assert digest(secret) in stored
        assert secret not in stored
        if engine.dialect.name == "sqlite" and engine.url.database:
            # Release the connections first: closing a file this process also has open as
            # a SQLite database would drop SQLite's locks on it (POSIX advisory locks).
            engine.dispose()
            files = [Path(engine.url.database + suffix) for suffix in ("", "-wal")]
            assert not any(secret.encode() in f.read_bytes() for f in files if f.exists())
    finally:
        with session_scope(engine) as session:
            session.delete(find_organisation(session, ref))
            record(session, "organisation")


def test_a_use_is_recorded_without_waiting_for_a_push_in_progress(engine: Engine) -> None:
    ref = f"XM-DAC-{uuid4().hex[:10]}"
    with session_scope(engine, write=True) as session:
        register_organisation(session, refs=[ref], name="USAID", roles=[OrganisationRole.donor])
        key, token = create_key(session, organisation_ref=ref, scopes=[KeyScope.read])
    try:
        with new_session(engine, write=True) as pushing:
            # An open push of this key: SQLite's write lock, a key-share lock on PostgreSQL.
            pushing.add(Push(organisation_id=key.organisation_id, api_key_id=key.id))
            pushing.flush()
            with session_scope(engine) as reading:
                if engine.dialect.name == "postgresql":
                    reading.connection().exec_driver_sql("SET LOCAL lock_timeout = '5s'")
                began = time.monotonic()
                principal = authenticate(reading, token)
                waited = time.monotonic() - began
            pushing.rollback()
        assert principal is not None
        assert waited < 3
        with session_scope(engine) as session:
            recorded = session.get(ApiKey, key.id).last_used_at  # type: ignore[union-attr]
        # SQLite has one writer at a time: the use is skipped rather than waited for.
        assert (recorded is None) == (engine.dialect.name == "sqlite")
    finally:
        with session_scope(engine) as session:
            session.delete(find_organisation(session, ref))
            record(session, "organisation")


# The command line ----------------------------------------------------------------------


@pytest.fixture
def database(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'x.db'}"


def iati_ec(database: str, *args: str) -> Ran:
    return run_iati_ec(*args, database=database)


def test_cli_registers_a_donor_and_creates_a_key_that_authenticates(
    database: str, tmp_path: Path
) -> None:
    added = iati_ec(database, "orgs", "add", "--ref", "XM-DAC-46008", "--ref", "46008",
                    "--name", "CAF", "--role", "donor", "--type", "40")
    assert added.returncode == 0, added.stderr
    assert "Registered CAF" in added.stdout
    created = iati_ec(database, "keys", "create", "--org", "46008", "--scope", "publish",
                      "--scope", "read", "--label", "CAF's ERP")
    assert created.returncode == 0, created.stderr
    token = created.stdout.split()[-1]
    assert "shown once" in created.stdout
    assert token.startswith("iatiec_")

    engine = create_db_engine(database)
    try:
        with session_scope(engine) as session:
            principal = authenticate(session, token)
            assert principal is not None
            assert principal.refs == {"XM-DAC-46008", "46008"}
            assert principal.scopes == {"publish", "read"}
    finally:
        engine.dispose()
    secret = token.split("_", 2)[2].encode()
    assert not any(secret in f.read_bytes() for f in tmp_path.glob("x.db*"))

    listed = iati_ec(database, "keys", "list", "--org", "XM-DAC-46008")
    assert listed.returncode == 0, listed.stderr
    key_id = token.split("_")[1]
    assert key_id in listed.stdout
    assert token.split("_", 2)[2] not in listed.stdout

    organisations = json.loads(iati_ec(database, "orgs", "list", "--json").stdout)
    assert [(o["name"], o["refs"], o["type"]) for o in organisations] == [
        ("CAF", ["XM-DAC-46008", "46008"], "40"),
    ]

    revoked = iati_ec(database, "keys", "revoke", key_id)
    assert revoked.returncode == 0, revoked.stderr
    engine = create_db_engine(database)
    try:
        with session_scope(engine) as session:
            assert authenticate(session, token) is None
            assert session.get(ApiKey, 1) is not None
            assert session.get(Organisation, 1) is not None
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def koica(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database where KOICA (XM-DAC-2) is registered."""
    database = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'x.db'}"
    added = iati_ec(database, "orgs", "add", "--ref", "XM-DAC-2", "--name", "KOICA",
                    "--role", "donor")
    assert added.returncode == 0, added.stderr
    return database


@pytest.mark.parametrize(
    ("args", "advice"),
    [
        (("keys", "create", "--org", "XM-DAC-1", "--scope", "publish"),
         "iati-ec orgs add --ref XM-DAC-1"),
        (("keys", "list", "--org", "XM-DAC-1"), "iati-ec orgs add --ref XM-DAC-1"),
        (("keys", "revoke", "0123456789abcdef"), "iati-ec keys list"),
        (("orgs", "add", "--ref", "XM-DAC-2", "--name", "Again", "--role", "donor"),
         "already identifies KOICA"),
    ],
)
def test_cli_errors_say_what_to_do_next(
    koica: str, args: tuple[str, ...], advice: str
) -> None:
    failed = iati_ec(koica, *args)
    assert failed.returncode == 1
    assert advice in failed.stderr
    assert "Traceback" not in failed.stderr
