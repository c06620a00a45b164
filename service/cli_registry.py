"""The `iati-ec orgs` and `iati-ec keys` commands: the registry of organisations and API keys.

Each command migrates the database of `DATABASE_URL` first, works in one transaction and
turns a domain error into a message saying what to do next (exit status 1).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from service.config import get_settings
from service.db import get_engine, session_scope, upgrade_database
from service.errors import DomainError
from service.models import KeyScope, OrganisationRole
from service.services import keys as key_service
from service.services import organisations as registry

orgs_app = typer.Typer(
    name="orgs", help="Organisations: register donors and partners, list them.",
    no_args_is_help=True, add_completion=False,
)
keys_app = typer.Typer(
    name="keys", help="API keys: create (shown once), list, revoke.",
    no_args_is_help=True, add_completion=False,
)
err = Console(stderr=True)

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _hint(error: DomainError) -> str:
    """What to do next after `error`, as a command to run."""
    if isinstance(error, registry.OrganisationNotFoundError):
        return (f"register it with `iati-ec orgs add --ref {error.ref} --name NAME --role ROLE`,"
                " or see `iati-ec orgs list`")
    if isinstance(error, registry.DuplicateRefError):
        return "see `iati-ec orgs list`; an identifier belongs to one organisation only"
    if isinstance(error, key_service.KeyNotFoundError):
        return "see `iati-ec keys list` for the key ids"
    return "see `iati-ec --help`"


@contextmanager
def _registry() -> Iterator[Session]:
    """A write transaction on the migrated database; errors become messages and exit 1."""
    url = get_settings().database_url
    try:
        upgrade_database(url)
        with session_scope(get_engine(), write=True) as session:
            yield session
    except DomainError as error:
        err.print(f"[bold red]error[/] {error.detail}\n  Next: {_hint(error)}.",
                  highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except SQLAlchemyError as error:
        shown = make_url(url).render_as_string(hide_password=True)
        err.print(f"[bold red]error[/] the database {shown} failed: {error.__class__.__name__}:"
                  f" {str(error).splitlines()[0]}\n  Next: check DATABASE_URL.",
                  highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def _out() -> Console:
    """Standard output; wide when it is not a terminal, so that no cell is cut short."""
    out = Console()
    return out if out.is_terminal else Console(width=200)


def _when(moment: datetime | None) -> str:
    return "—" if moment is None else moment.strftime("%Y-%m-%d %H:%M")


@orgs_app.command("add")
def add_organisation(
    refs: Annotated[
        list[str], typer.Option("--ref", help="IATI organisation identifier (repeatable).")
    ],
    name: Annotated[str, typer.Option(help="The name to show.")],
    roles: Annotated[
        list[OrganisationRole], typer.Option("--role", help="Role (repeatable).")
    ],
    kind: Annotated[
        str | None, typer.Option("--type", help="IATI OrganisationType code, e.g. 40.")
    ] = None,
) -> None:
    """Register an organisation: iati-ec orgs add --ref XM-DAC-46008 --name CAF --role donor."""
    with _registry() as session:
        organisation = registry.register_organisation(
            session, refs=refs, name=name, type=kind, roles=roles
        )
        shown = ", ".join(role.value for role in roles)
        typer.echo(f"Registered {organisation.name} ({', '.join(refs)}) as {shown}:"
                   f" organisation {organisation.id}.")


@orgs_app.command("list")
def list_organisations(
    role: Annotated[OrganisationRole | None, typer.Option(help="Only this role.")] = None,
    as_json: AsJson = False,
) -> None:
    """List the registered organisations."""
    with _registry() as session:
        found = registry.list_organisations(session, role=role)
    if as_json:
        json.dump([o.model_dump(mode="json") for o in found], sys.stdout, indent=2,
                  ensure_ascii=False)
        sys.stdout.write("\n")
        return
    table = Table("id", "identifiers", "name", "type", "roles", box=box.SIMPLE_HEAD)
    for organisation in found:
        table.add_row(str(organisation.id), "\n".join(organisation.refs) or "—",
                      organisation.name, organisation.type or "—",
                      ", ".join(organisation.roles))
    _out().print(table)


@keys_app.command("create")
def create_key(
    org: Annotated[str, typer.Option("--org", help="IATI identifier of the organisation.")],
    scopes: Annotated[
        list[KeyScope], typer.Option("--scope", help="What the key allows (repeatable).")
    ],
    label: Annotated[str | None, typer.Option(help="A note to recognise the key by.")] = None,
) -> None:
    """Create an API key; it is printed once, as the last word, and cannot be shown again."""
    with _registry() as session:
        key, plaintext = key_service.create_key(
            session, organisation_ref=org, scopes=scopes, label=label
        )
        organisation = registry.find_organisation(session, org)
        owner = organisation.name if organisation is not None else org
    # Plain echo, not rich: a wrapped line would break the key apart.
    typer.echo(f"Key {key.key_id} for {owner} ({', '.join(key.scopes)}), shown once: {plaintext}")


@keys_app.command("list")
def list_keys(
    org: Annotated[str | None, typer.Option("--org", help="Only this organisation's.")] = None,
    as_json: AsJson = False,
) -> None:
    """List API keys (never their secrets)."""
    with _registry() as session:
        found = key_service.list_keys(session, organisation_ref=org)
    if as_json:
        json.dump([k.model_dump(mode="json") for k in found], sys.stdout, indent=2,
                  ensure_ascii=False)
        sys.stdout.write("\n")
        return
    table = Table(title="API keys (times in UTC)", box=box.SIMPLE_HEAD)
    for heading in ("key id", "organisation", "scopes", "label"):
        table.add_column(heading, no_wrap=heading == "key id")
    for heading in ("created", "last used", "revoked"):
        table.add_column(heading, no_wrap=True)
    for key in found:
        table.add_row(key.key_id, key.organisation_name, ", ".join(key.scopes),
                      key.label or "—", _when(key.created_at), _when(key.last_used_at),
                      _when(key.revoked_at))
    _out().print(table)


@keys_app.command("revoke")
def revoke_key(key_id: Annotated[str, typer.Argument(help="The key's id (`keys list`).")]) -> None:
    """Revoke an API key: requests with it are refused from now on."""
    with _registry() as session:
        key = key_service.revoke_key(session, key_id=key_id)
    typer.echo(f"Revoked key {key.key_id} (since {_when(key.revoked_at)}).")
