"""The `iati-ec agreements` commands: record an agreement from a JSON file (the body of
`POST /api/v1/agreements`), replace one, list them, remove one.

Each command migrates the database of `DATABASE_URL` first; a refused agreement or another
domain error becomes a message (each misfit with its location) and exit status 1.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from sqlmodel import Session

from service.config import get_settings
from service.db import get_engine, session_scope, upgrade_database
from service.errors import DomainError
from service.services.agreements import records
from service.services.agreements.reading import list_agreements
from service.services.agreements.records import AgreementIn

agreements_app = typer.Typer(
    name="agreements",
    help="Cooperation agreements: add or replace one from a JSON file, list, remove.",
    no_args_is_help=True, add_completion=False,
)
JsonFile = Annotated[Path, typer.Argument(
    help="The agreement as JSON (the body of POST /api/v1/agreements).", exists=True,
    dir_okay=False)]


@contextmanager
def _database() -> Iterator[Session]:
    """A write transaction on the migrated database; refusals exit with status 1."""
    upgrade_database(get_settings().database_url)
    try:
        with session_scope(get_engine(), write=True) as session:
            yield session
    except DomainError as error:
        typer.echo(f"error: {error.detail}", err=True)
        for misfit in error.extra.get("errors", []):
            typer.echo(f"  {misfit['location']}: {misfit['message']}", err=True)
        raise typer.Exit(1) from None


def _read(path: Path) -> AgreementIn:
    try:
        return AgreementIn.model_validate_json(path.read_bytes())
    except ValidationError as error:
        typer.echo(f"error: {path} is not an agreement:", err=True)
        for item in error.errors():
            location = "/".join(str(part) for part in item["loc"])
            typer.echo(f"  {location}: {item['msg']}", err=True)
        raise typer.Exit(1) from None


@agreements_app.command("add")
def add(path: JsonFile) -> None:
    """Record an agreement; prints its id."""
    given = _read(path)
    with _database() as session:
        created = records.create_agreement(session, given)
        typer.echo(f"agreement {created.id} recorded: {created.code}")


@agreements_app.command("replace")
def replace(agreement_id: int, path: JsonFile) -> None:
    """Replace agreement AGREEMENT_ID with the one in the file."""
    given = _read(path)
    with _database() as session:
        updated = records.update_agreement(session, agreement_id, given)
        typer.echo(f"agreement {agreement_id} replaced: version {updated.version}")


@agreements_app.command("list")
def list_command() -> None:
    """List the agreements as JSON."""
    with _database() as session:
        found = list_agreements(session.connection())
    json.dump([a.model_dump(mode="json") for a in found], sys.stdout, indent=2,
              ensure_ascii=False)
    sys.stdout.write("\n")


@agreements_app.command("remove")
def remove(agreement_id: int) -> None:
    """Remove agreement AGREEMENT_ID."""
    with _database() as session:
        records.delete_agreement(session, agreement_id)
    typer.echo(f"agreement {agreement_id} removed")
