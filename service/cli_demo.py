"""`iati-ec demo`: real Ecuador activities shipped with the package, into an empty store."""

from __future__ import annotations

import typer
from rich.console import Console

err = Console(stderr=True)


def demo() -> None:
    """Load the demo: real Ecuador activities of USAID, CAF, the IDB, the EU, Germany,
    Spain and Canada's IDRC (service/demo/SOURCES.md), each pushed as its publisher.

    Into an empty store only. Exit status: 0 loaded, 2 the store already holds activities.
    """
    from service.config import get_settings
    from service.db import get_engine, upgrade_database
    from service.services.demo import Loaded, StoreNotEmptyError, load_demo

    settings = get_settings()
    if settings.migrate_on_startup:
        upgrade_database(settings.database_url)

    def said(loaded: Loaded) -> None:
        rejected = f", {loaded.rejected} rejected" if loaded.rejected else ""
        err.print(f"{loaded.name} ({loaded.ref}), {loaded.file}: {loaded.created} "
                  f"activities{rejected}", highlight=False, soft_wrap=True)

    try:
        with err.status("Loading the demo", spinner="dots"):
            loaded = load_demo(get_engine(), on_loaded=said)
    except StoreNotEmptyError as error:
        err.print(f"[bold red]error[/] {error.code}: {error.detail}", soft_wrap=True)
        raise typer.Exit(2) from None
    created = sum(part.created for part in loaded)
    typer.echo(f"demo loaded: {created} activities of {len({p.ref for p in loaded})} "
               f"publishers; run `iati-ec serve` and open http://{settings.host}:{settings.port}/")


def load_demo_if_empty() -> bool:
    """Load the demo unless the store holds activities (`serve --demo`); whether it did."""
    from service.db import get_engine
    from service.services.demo import StoreNotEmptyError, load_demo

    try:
        load_demo(get_engine())
    except StoreNotEmptyError:
        err.print("the store already holds activities: the demo is not loaded")
        return False
    return True
