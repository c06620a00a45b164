"""`iati-ec import FILE --org REF`: push a file from the command line, as the API does."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from service.errors import DomainError
from service.models import Outcome, PushMode, PushScope
from service.services.push import (
    ActivityOutcome,
    OutcomeCounts,
    Publisher,
    PushOptions,
    PushPublic,
    ReceivedFile,
    push_file,
)

err = Console(stderr=True)


def import_file(
    file: Annotated[Path, typer.Argument(help="IATI activity file (2.01–2.03, or 1.x).")],
    org: Annotated[str, typer.Option("--org", help="IATI identifier of the publisher.")],
    mode: Annotated[
        PushMode, typer.Option(help="atomic: apply every activity or none.")
    ] = PushMode.default,
    scope: Annotated[
        PushScope, typer.Option(help="dataset: the file is the publisher's complete set.")
    ] = PushScope.activities,
) -> None:
    """Push FILE for the organisation --org, through the same service as the HTTP API.

    Exit status: 0 all applied, 1 some activity rejected, 2 the file or organisation is
    unusable.
    """
    from service.config import get_settings
    from service.db import get_engine

    if not file.is_file():
        err.print(f"[bold red]error[/] {file} is not a readable file")
        raise typer.Exit(2)
    settings = get_settings()
    publisher = publisher_named(org)
    engine = get_engine()
    received = ReceivedFile.of_path(file)
    try:
        with _progress(received.size, f"Pushing {file.name}") as advance:
            document = push_file(
                engine, publisher=publisher, received=received,
                options=PushOptions(mode=mode, scope=scope),
                max_bytes=settings.max_upload_bytes, progress=advance,
            )
    except DomainError as error:
        err.print(f"[bold red]error[/] {error.code}: {error.detail}")
        raise typer.Exit(2) from None
    _print(document)
    raise typer.Exit(1 if document.counts.rejected else 0)


def publisher_named(org: str) -> Publisher:
    """The publisher whose IATI identifier is `org` (the database migrated first if the
    settings say so); exits with status 2, saying what to do, if there is none."""
    from service.config import get_settings
    from service.db import get_engine, session_scope, upgrade_database
    from service.services.organisations import find_organisation, refs_of

    settings = get_settings()
    if settings.migrate_on_startup:
        upgrade_database(settings.database_url)
    with session_scope(get_engine()) as session:
        organisation = find_organisation(session, org)
        if organisation is None or organisation.id is None:
            err.print(f"[bold red]error[/] no organisation {org}; add it with `iati-ec orgs add`")
            raise typer.Exit(2)
        refs = frozenset(refs_of(session, [organisation.id])[organisation.id])
    return Publisher(organisation_id=organisation.id, refs=refs)


def _print(document: PushPublic) -> None:
    typer.echo(f"push {document.id}: {document.activities_seen} activities: "
               f"{counted(document.counts)}")
    print_refusals(document.activities)


def counted(counts: OutcomeCounts) -> str:
    """`counts` in words: "3 created, 0 updated, …"."""
    return ", ".join(f"{getattr(counts, outcome.value)} {outcome.value}" for outcome in Outcome)


def print_refusals(activities: list[ActivityOutcome]) -> None:
    """One line per rejected activity, with the codes of its reasons."""
    for activity in activities:
        if activity.outcome is not Outcome.rejected:
            continue
        reasons = [f.code for f in activity.findings if f.severity in ("critical", "error")]
        typer.echo(
            f"  rejected {activity.iati_identifier or '(no identifier)'} "
            f"(activity {activity.position}): {', '.join(dict.fromkeys(reasons))}"
        )


@contextmanager
def _progress(size: int, label: str) -> Iterator[Any]:
    """A progress bar on a terminal; no callback otherwise."""
    if not err.is_terminal:
        yield None
        return
    columns = (
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(label, total=size)
        yield lambda done: bar.update(task, completed=done)
