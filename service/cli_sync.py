"""`iati-ec sync SOURCES`: pull donors' published IATI datasets and push what changed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from service.models import SyncSource, utcnow
from service.services.sync import (
    FetchPolicy,
    Plan,
    SourceResult,
    SourcesFileError,
    SyncReport,
    VanishedPublisher,
)

err = Console(stderr=True)


def sync(
    sources: Annotated[Path, typer.Argument(help="Sources file (TOML or JSON; see docs/sync.md).")],
    only: Annotated[
        str | None, typer.Option("--only", help="Sync this publisher (IATI identifier) only.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List the datasets to sync; download nothing.")
    ] = False,
) -> None:
    """Download each publisher's datasets and push the changed ones, as `import` does.

    Exit status: 0 all synced, 1 some source failed or some activity was rejected, 2 the
    sources file or a publisher in it is unusable.
    """
    from service.config import get_settings
    from service.db import get_engine, session_scope, upgrade_database
    from service.services.sync import (
        Syncer,
        make_plan,
        new_client,
        read_sources,
        stored_sources,
        why_absent,
    )

    settings = get_settings()
    try:
        declared = read_sources(sources)
    except SourcesFileError as error:
        _fail(error.message)
    if settings.migrate_on_startup:
        upgrade_database(settings.database_url)
    engine = get_engine()
    policy = FetchPolicy.from_settings(settings)
    with new_client(policy, user_agent="iati-ec-sync") as client:
        try:
            plan = make_plan(engine, declared, client=client, policy=policy, only=only,
                             directory=settings.spool_directory)
        except SourcesFileError as error:
            _fail(error.message)
        grace = settings.sync_gone_grace_days
        syncer = Syncer(engine, client, policy, directory=settings.spool_directory,
                        gone_grace=None if grace is None else timedelta(days=grace))
        if only is not None and not plan.targets:
            if not dry_run:
                syncer.vanished(plan)
            _fail(why_absent(engine, plan))
        if dry_run:
            with session_scope(engine) as session:
                urls = [d.url for target in plan.targets for d in target.datasets]
                _print_plan(plan, stored_sources(session, urls))
            raise typer.Exit(1 if plan.listing_errors else 0)
        with _progress(sum(len(t.datasets) for t in plan.targets)) as advance:
            syncer.on_result = advance
            report = syncer.run(plan)
    _print_report(report)
    raise typer.Exit(1 if report.failed or report.rejected else 0)


def _fail(message: str) -> NoReturn:
    err.print(f"[bold red]error[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@contextmanager
def _progress(total: int) -> Iterator[Callable[[SourceResult], None]]:
    """A line on standard error per source as it is done; a bar too on a terminal."""
    if not err.is_terminal:
        yield lambda result: err.print(_line(result), highlight=False, soft_wrap=True)
        return
    columns = (TextColumn("Syncing"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("sync", total=total)

        def advance(result: SourceResult) -> None:
            bar.console.print(_line(result), highlight=False, soft_wrap=True)
            bar.advance(task)

        yield advance


def _line(result: SourceResult) -> str:
    return f"{result.ref} {result.url}: {_outcome(result)}"


def _outcome(result: SourceResult) -> str:
    if result.error:
        return f"failed: {result.error}"
    if result.push is None:
        return result.status.value
    counts = result.push.counts
    shown = [f"{getattr(counts, name)} {name}" for name in type(counts).model_fields
             if getattr(counts, name)]
    return f"pushed {result.push.id}: {', '.join(shown) or 'no activities'}"


def _print_report(report: SyncReport) -> None:
    out = Console() if Console().is_terminal else Console(width=240)
    table = Table("publisher", "source", "outcome", box=box.SIMPLE, show_edge=False)
    for result in report.sources:
        table.add_row(result.ref, result.url, _outcome(result))
    out.print(table)
    for error in report.listing_errors:
        out.print(f"listing failed: {error}", highlight=False, soft_wrap=True)
    for ref, why in report.held.items():
        out.print(f"{ref}: no activity deleted, because {why}", highlight=False, soft_wrap=True)
    for vanished in report.vanished:
        out.print(_vanished(vanished), highlight=False, soft_wrap=True)
    for note in report.notes:
        out.print(f"note: {note}", highlight=False, soft_wrap=True)
    failed = sum(1 for r in report.sources if r.error) + len(report.listing_errors)
    out.print(f"{len(report.sources)} sources: {failed} failed, "
              f"{report.rejected} activities rejected", highlight=False)


def _vanished(vanished: VanishedPublisher) -> str:
    publisher = vanished.publisher
    said = (f"{publisher.name}: none of its {len(publisher.urls)} datasets is listed any "
            f"longer (gone since {publisher.since:%Y-%m-%d}); ")
    if vanished.retire_after is None:
        return said + "its activities stay live (IATI_EC_SYNC_GONE_GRACE_DAYS retires them)"
    if vanished.retired:
        return said + f"{vanished.retired} of its activities deleted after the grace period"
    if utcnow() >= vanished.retire_after:
        return said + "the activities its datasets held are deleted"
    return said + f"its activities will be deleted after {vanished.retire_after:%Y-%m-%d}"


def _print_plan(plan: Plan, stored: dict[str, SyncSource]) -> None:
    out = Console() if Console().is_terminal else Console(width=240)
    table = Table("publisher", "dataset", "source", "complete", "last sync", box=box.SIMPLE,
                  show_edge=False)
    for target in plan.targets:
        for dataset in target.datasets:
            table.add_row(target.ref, dataset.name or "", dataset.url,
                          "yes" if target.complete else "no", _last(stored.get(dataset.url)))
    out.print(table)
    for error in plan.listing_errors:
        out.print(f"listing failed: {error}", highlight=False, soft_wrap=True)
    for note in plan.notes:
        out.print(f"note: {note}", highlight=False, soft_wrap=True)


def _last(source: SyncSource | None) -> str:
    if source is None or source.status is None or source.checked_at is None:
        return "never"
    return f"{source.status.value} {source.checked_at:%Y-%m-%d %H:%M} UTC"
