"""The `iati-ec webhooks` commands: deliver events (once, or until stopped), list, add, ping,
remove.

Each command migrates the database of `DATABASE_URL` first (`deliver` unless
IATI_EC_MIGRATE_ON_STARTUP=false); a domain error becomes a message and exit status 1.
"""

from __future__ import annotations

import json
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from sqlmodel import Session

from service.config import get_settings
from service.db import get_engine, session_scope, upgrade_database
from service.errors import DomainError
from service.models import DeliveryOutcome, WebhookEvent, utcnow
from service.services import webhooks
from service.services.organisations import find_organisation

webhooks_app = typer.Typer(
    name="webhooks",
    help="Webhooks: deliver events, list, add (secret shown once), ping, remove.",
    no_args_is_help=True, add_completion=False,
)


@contextmanager
def _database() -> Iterator[Session]:
    """A write transaction on the migrated database; domain errors exit with status 1."""
    upgrade_database(get_settings().database_url)
    try:
        with session_scope(get_engine(), write=True) as session:
            yield session
    except DomainError as error:
        typer.echo(f"error: {error.detail}", err=True)
        raise typer.Exit(1) from None


@webhooks_app.command("deliver")
def deliver(
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
) -> None:
    """Deliver due events: one pass with --once (e.g. from cron), else until interrupted
    (Ctrl-C, or SIGTERM as a service manager or `docker compose stop` sends it).

    Migrations are applied first unless IATI_EC_MIGRATE_ON_STARTUP=false.
    """
    settings = get_settings()
    if settings.migrate_on_startup:
        upgrade_database(settings.database_url)
    policy = webhooks.DeliveryPolicy.from_settings(settings)
    if once:
        summary = webhooks.deliver_due(get_engine(), now=utcnow(), policy=policy)
        typer.echo(f"{summary.webhooks} webhook(s): {summary.delivered} delivered, "
                   f"{summary.failed} failed.")
        raise typer.Exit(1 if summary.failed else 0)
    dispatcher = webhooks.Dispatcher(
        get_engine(), policy=policy, interval=settings.webhook_poll_seconds
    )
    # The dispatcher's thread delivers while this one waits for Ctrl-C or SIGTERM (a service
    # manager's stop), then lets the pass under way finish: an event being sent is delivered
    # or left for a retry. Both signals are blocked first, so that the thread inherits the
    # mask and `sigwait` receives them (a container's first process that leaves SIGTERM to
    # its default would not hear it at all, and be killed after the stop time-out).
    stop_signals = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    try:
        dispatcher.start()
        signal.sigwait(stop_signals)
    finally:
        dispatcher.stop(timeout=settings.webhook_timeout_seconds * 3 + 5)
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
    typer.echo("stopped.", err=True)


@webhooks_app.command("list")
def list_command() -> None:
    """List the webhooks as JSON (never their secrets)."""
    with _database() as session:
        found = webhooks.list_webhooks(session)
    json.dump([w.model_dump(mode="json") for w in found], sys.stdout, indent=2)
    sys.stdout.write("\n")


@webhooks_app.command("add")
def add(
    url: Annotated[str, typer.Argument(help="The http(s) URL that receives the events.")],
    org: Annotated[str, typer.Option("--org", help="The subscriber's IATI identifier.")],
    events: Annotated[
        list[WebhookEvent] | None, typer.Option("--event", help="Event (repeatable; all).")
    ] = None,
    reporting_org: Annotated[
        str | None, typer.Option(help="Only this reporting-org/@ref.")
    ] = None,
    description: Annotated[str | None, typer.Option(help="What it is for.")] = None,
) -> None:
    """Register a webhook; its signing secret is printed once, as the last word. Its host
    must resolve to public addresses, or be allowed by IATI_EC_WEBHOOK_ALLOWED_DESTINATIONS."""
    destinations = webhooks.DeliveryPolicy.from_settings(get_settings()).destinations
    with _database() as session:
        owner = find_organisation(session, org)
        if owner is None or owner.id is None:
            raise DomainError(f"No organisation has the identifier {org}.")
        subscription = webhooks.WebhookCreate(
            url=url, events=events or list(WebhookEvent), reporting_org=reporting_org,
            description=description,
        )
        created = webhooks.create_webhook(
            session, subscription=subscription, owner_id=owner.id, now=utcnow(),
            destinations=destinations,
        )
    typer.echo(f"Webhook {created.id} for {url}; signing secret: {created.secret}")


@webhooks_app.command("ping")
def ping(webhook_id: Annotated[int, typer.Argument(help="The id from `list`.")]) -> None:
    """Send a signed `ping` event now; print the attempt as JSON, exit 1 unless delivered."""
    settings = get_settings()
    upgrade_database(settings.database_url)
    policy = webhooks.DeliveryPolicy.from_settings(settings)
    try:
        attempt = webhooks.ping(get_engine(), webhook_id, now=utcnow(), policy=policy)
    except DomainError as error:
        typer.echo(f"error: {error.detail}", err=True)
        raise typer.Exit(1) from None
    typer.echo(attempt.model_dump_json(indent=2))
    raise typer.Exit(0 if attempt.outcome == DeliveryOutcome.delivered else 1)


@webhooks_app.command("remove")
def remove(webhook_id: Annotated[int, typer.Argument(help="The id from `list`.")]) -> None:
    """Remove a webhook and its delivery log."""
    with _database() as session:
        webhooks.remove_webhook(session, webhook_id)
    typer.echo(f"Removed webhook {webhook_id}.")
