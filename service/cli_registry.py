"""The `iati-ec orgs`, `keys` and `identifiers` commands: the registry of organisations, their
API keys, the identifier prefixes they own and the transfers of activities between them.

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
from service.services import prefixes as prefix_service
from service.services import transfers as transfer_service

orgs_app = typer.Typer(
    name="orgs", help="Organisations: register donors and partners, list them.",
    no_args_is_help=True, add_completion=False,
)
keys_app = typer.Typer(
    name="keys", help="API keys: create (shown once), list, revoke.",
    no_args_is_help=True, add_completion=False,
)
identifiers_app = typer.Typer(
    name="identifiers", help="Who owns which activity identifiers: prefixes and transfers.",
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
    if isinstance(error, prefix_service.PrefixTakenError | prefix_service.PrefixNotFoundError):
        return "see `iati-ec identifiers prefixes`"
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
            session, refs=refs, name=name, type=kind, roles=roles,
            decider=prefix_service.COMMAND_LINE,
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


Reason = Annotated[str, typer.Option(help="Why: the evidence checked, a source.")]


@identifiers_app.command("prefixes")
def list_prefixes(
    org: Annotated[str | None, typer.Option("--org", help="Only this organisation's.")] = None,
    as_json: AsJson = False,
) -> None:
    """List the registered identifier prefixes and the organisation owning each."""
    with _registry() as session:
        owner = None if org is None else registry.named_organisation(session, org).id
        found = prefix_service.prefixes(session, organisation_id=owner)
    if as_json:
        _dump([p.model_dump(mode="json") for p in found])
        return
    table = Table("prefix", "organisation", "source", "registered", "by", "reason",
                  box=box.SIMPLE_HEAD)
    for prefix in found:
        table.add_row(prefix.prefix, prefix.organisation, prefix.source.value,
                      _when(prefix.registered_at), prefix.registered_by, prefix.reason or "—")
    _out().print(table)


@identifiers_app.command("add-prefix")
def add_prefix(
    prefix: Annotated[str, typer.Argument(help="How the identifiers begin: XM-DAC-41114-EC.")],
    org: Annotated[str, typer.Option("--org", help="Identifier of the organisation.")],
    reason: Reason,
) -> None:
    """Register a prefix of activity identifiers that only this organisation may push."""
    with _registry() as session:
        made = prefix_service.register_prefix(
            session, organisation=registry.named_organisation(session, org), prefix=prefix,
            reason=reason.strip(), decider=prefix_service.COMMAND_LINE,
        )
    typer.echo(f"Registered {made.prefix} for {made.organisation}.")


@identifiers_app.command("remove-prefix")
def remove_prefix(
    prefix: Annotated[str, typer.Argument(help="A registered prefix.")],
    org: Annotated[str, typer.Option("--org", help="Identifier of its organisation.")],
) -> None:
    """Remove an organisation's registered prefix."""
    with _registry() as session:
        removed = prefix_service.remove_prefix(
            session, organisation=registry.named_organisation(session, org), prefix=prefix
        )
    typer.echo(f"Removed {removed.prefix} from {removed.organisation}.")


@identifiers_app.command("transfer")
def transfer(
    identifier: Annotated[str, typer.Argument(help="The activity's iati-identifier.")],
    to: Annotated[str, typer.Option("--to", help="Identifier of the organisation it goes to.")],
    reason: Reason,
    evidence_push: Annotated[str | None, typer.Option(
        help="Id of a push whose outcome for the activity is evidence.")] = None,
) -> None:
    """Transfer a stored activity, live or deleted, with its versions, to an organisation."""
    with _registry() as session:
        made = transfer_service.transfer_activity(
            session, identifier=identifier, to=registry.named_organisation(session, to),
            reason=reason.strip(), evidence_push=evidence_push,
            decider=prefix_service.COMMAND_LINE,
        )
    typer.echo(f"Transferred {made.iati_identifier} from {made.from_organisation.name} to "
               f"{made.to_organisation.name} (transfer {made.id}).")


@identifiers_app.command("transfers")
def list_transfers(
    identifier: Annotated[str, typer.Argument(help="The activity's iati-identifier.")],
    as_json: AsJson = False,
) -> None:
    """List the transfers of an activity between organisations, oldest first."""
    with _registry() as session:
        found = transfer_service.transfers(session, identifier)
    if as_json:
        _dump([t.model_dump(mode="json") for t in found])
        return
    table = Table("when", "kind", "from", "to", "version", "by", "reason", box=box.SIMPLE_HEAD)
    for made in found:
        table.add_row(_when(made.decided_at), made.kind.value, made.from_organisation.name,
                      made.to_organisation.name, str(made.version), made.decided_by,
                      made.reason)
    _out().print(table)


def _dump(rows: list[dict[str, object]]) -> None:
    json.dump(rows, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
