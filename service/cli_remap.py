"""`iati-ec remap`: recompute budget views after Ecuador's tables or crosswalks change."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

err = Console(stderr=True)


def remap() -> None:
    """Compute each activity's budget view under the current mappings, where it lacks one.

    Views under earlier mapping versions are kept (GET .../budget-view?mapping_version=).
    Stopped half-way, it leaves whole views only; run it again to finish.
    """
    from service.config import get_settings
    from service.db import get_engine, upgrade_database
    from service.services.budget.views import remap as remap_views

    settings = get_settings()
    if settings.migrate_on_startup:
        upgrade_database(settings.database_url)
    if err.is_terminal:
        columns = (TextColumn("Remapping"), BarColumn(), MofNCompleteColumn(),
                   TimeRemainingColumn())
        with Progress(*columns, console=err, transient=True) as bar:
            task = bar.add_task("remap", total=None)
            done = remap_views(
                get_engine(), progress=lambda n, total: bar.update(task, completed=n, total=total)
            )
    else:
        done = remap_views(get_engine())
    typer.echo(f"mapping version {done.mapping_version}: {done.computed} views computed")
