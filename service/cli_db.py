"""The `iati-ec db` commands: migrate the database and show its revision."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import make_url

from service.config import get_settings
from service.db import current_revision, head_revision, upgrade_database

db_app = typer.Typer(
    name="db",
    help="The database: apply migrations, show the revision.",
    no_args_is_help=True,
    add_completion=False,
)

Url = Annotated[
    str | None,
    typer.Option("--url", help="SQLAlchemy URL [default: DATABASE_URL, else sqlite:///./iati-ec.db]"),
]


def _target(url: str | None) -> str:
    return url or get_settings().database_url


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@db_app.command()
def upgrade(
    url: Url = None,
    revision: Annotated[str, typer.Option(help="Revision to migrate to.")] = "head",
) -> None:
    """Apply the migrations (creating the SQLite file if needed)."""
    target = _target(url)
    upgrade_database(target, revision)
    typer.echo(f"{_shown(target)}: at revision {current_revision(target)}")


@db_app.command()
def current(url: Url = None) -> None:
    """Show the database's revision; exit 1 when it is behind the latest."""
    target = _target(url)
    found, latest = current_revision(target), head_revision()
    if found == latest:
        typer.echo(f"{_shown(target)}: at revision {found} (latest)")
        return
    typer.echo(f"{_shown(target)}: at revision {found or 'none'}, latest is {latest}")
    raise typer.Exit(1)
