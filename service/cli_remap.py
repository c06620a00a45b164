"""`iati-ec remap`: recompute budget views after Ecuador's tables or crosswalks change, and
transactions' US cents after the rate series changes."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

err = Console(stderr=True)


def remap() -> None:
    """Compute each activity's budget view under the current mappings, where it lacks one,
    and convert to US cents the transactions stored under another rate series.

    Views under earlier mapping versions are kept (GET .../budget-view?mapping_version=).
    Stopped half-way, it leaves whole views only; run it again to finish.
    """
    from service.config import get_settings
    from service.db import get_engine, upgrade_database
    from service.services.budget.views import remap as remap_views
    from service.services.ledger import convert_transactions

    settings = get_settings()
    if settings.migrate_on_startup:
        upgrade_database(settings.database_url)
    if err.is_terminal:
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeRemainingColumn())
        with Progress(*columns, console=err, transient=True) as bar:
            views = bar.add_task("Remapping", total=None)
            done = remap_views(
                get_engine(), progress=lambda n, total: bar.update(views, completed=n, total=total)
            )
            money = bar.add_task("Converting transactions", total=None)
            converted = convert_transactions(
                get_engine(), progress=lambda n, total: bar.update(money, completed=n, total=total)
            )
    else:
        done = remap_views(get_engine())
        converted = convert_transactions(get_engine())
    typer.echo(f"mapping version {done.mapping_version}: {done.computed} views computed")
    if converted:
        typer.echo(f"{converted} transactions converted to US dollars under the rate series "
                   "shipped")
