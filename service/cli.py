"""The `iati-ec` command line: serve, validate, convert, import, sync, remap, demo, admin
commands."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from iati.errors import IatiInputError
from iati.validate import ValidationReport
from service import convert as conversion
from service.cli_agreements import agreements_app
from service.cli_db import db_app
from service.cli_demo import demo, load_demo_if_empty
from service.cli_import import import_file
from service.cli_registry import identifiers_app, keys_app, orgs_app
from service.cli_remap import remap
from service.cli_sync import sync
from service.cli_webhooks import webhooks_app
from service.reporting import validate_as_json, validate_for_people

app = typer.Typer(
    name="iati-ec",
    help="IATI interoperability service for Ecuador's international cooperation.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(db_app, name="db")
app.add_typer(orgs_app, name="orgs")
app.add_typer(keys_app, name="keys")
app.add_typer(identifiers_app, name="identifiers")
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(agreements_app, name="agreements")
app.command(name="import")(import_file)
app.command(name="remap")(remap)
app.command(name="sync")(sync)
app.command(name="demo")(demo)
err = Console(stderr=True)
PROGRESS_THRESHOLD = 5_000_000  # bytes; smaller files finish before a bar would help
# With --workers, uvicorn's supervisor kills a worker that does not answer its ping within
# this time, starting half a second after it is spawned. Its default, 5 s, is less than a
# worker takes to import the service on a busy or small machine: they were killed and
# spawned again in a loop, and the service never answered.
WORKER_ANSWER_SECONDS = 60


class Format(StrEnum):
    """Output formats of `convert`."""

    xml = "xml"
    json = "json"


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    demo: Annotated[bool, typer.Option(
        "--demo", help="Load the demo's real Ecuador activities first, if the store is empty."
    )] = False,
    workers: Annotated[int, typer.Option(
        min=1, help="Worker processes answering requests (their metrics are added up)."
    )] = 1,
) -> None:
    """Run the HTTP service (SQLite file by default; DATABASE_URL for PostgreSQL).

    Migrations are applied first unless IATI_EC_MIGRATE_ON_STARTUP=false. A job worker
    runs in the service unless IATI_EC_EMBEDDED_WORKER=false (see `worker`).
    """
    import uvicorn

    from service.config import get_settings
    from service.db import upgrade_database
    from service.logs import logging_config

    settings = get_settings()
    if settings.migrate_on_startup:
        upgrade_database(settings.database_url)
    # No push is marked incomplete here: a push left by a process that died is a job
    # whose lease runs out, and a worker finishes it (see docs/jobs.md).
    if demo:
        load_demo_if_empty()
    with _metrics_folder(workers):
        uvicorn.run(
            "service.app:create_app", factory=True, workers=workers,
            host=host or settings.host, port=port or settings.port,
            log_config=logging_config(settings.log_format), access_log=False,
            timeout_worker_healthcheck=WORKER_ANSWER_SECONDS,
        )


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(
        min=1, help="Worker processes, each processing one job at a time."
    )] = 1,
) -> None:
    """Process queued jobs (pushes) until stopped: on this machine or any other sharing
    the PostgreSQL database. On SQLite, `serve` runs the one worker it takes."""
    from service.config import get_settings
    from service.db import upgrade_database
    from service.services.jobs import run_workers

    settings = get_settings()
    if concurrency > 1 and settings.database_url.startswith("sqlite"):
        err.print("[bold red]error[/] SQLite takes one writer at a time: run one worker "
                  "(or the one `serve` embeds), or use PostgreSQL for more")
        raise typer.Exit(2)
    if settings.migrate_on_startup:
        upgrade_database(settings.database_url)
    run_workers(concurrency)


@contextmanager
def _metrics_folder(workers: int) -> Iterator[None]:
    """With several workers and no `PROMETHEUS_MULTIPROC_DIR`, a new folder named by it
    while they run, so that each one's metrics are added up (see service.metrics)."""
    from service.metrics import MULTIPROCESS

    if workers == 1 or os.environ.get(MULTIPROCESS):
        yield
        return
    with tempfile.TemporaryDirectory(prefix="iati-ec-metrics-") as folder:
        os.environ[MULTIPROCESS] = folder
        try:
            yield
        finally:
            del os.environ[MULTIPROCESS]


@app.command()
def openapi(
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write here instead of standard output.")
    ] = None,
) -> None:
    """Print the OpenAPI document of the HTTP API (committed as openapi/openapi.json)."""
    from service.app import openapi_document

    text = openapi_document()
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


@app.command(name="validate")
def validate_command(
    files: Annotated[list[Path], typer.Argument(help="IATI XML files to check.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON report.")] = False,
    official: Annotated[
        bool, typer.Option("--official", help="JSON in the official validator's report shape.")
    ] = False,
    limit: Annotated[int, typer.Option(help="Findings listed per file on a terminal.")] = 50,
    today: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Date that date rules compare with."),
    ] = None,
    publisher: Annotated[str | None, typer.Option(
        "--as", metavar="ORG",
        help="Also say what a push by this organisation would do now (stores nothing).",
    )] = None,
) -> None:
    """Validate files in three stages (schema, codelists, ruleset).

    With --as, each file's push is rehearsed too: every activity's outcome (created,
    updated, unchanged, stale, rejected with its reasons), as `import` would decide it.

    Exit status: 0 all valid, 1 some file invalid, 2 some file unreadable.
    """
    reference = today.date() if today else datetime.now(UTC).date()
    rehearse = None if publisher is None else _rehearser(publisher, reference)
    reports: list[ValidationReport] = []
    console = Console()
    if as_json or official:
        sys.stdout.write("[")  # always a list, one report per file, streamed as found
    for index, path in enumerate(files):
        with _progress(path, f"Validating {path.name}") as advance:
            if as_json or official:
                sys.stdout.write(",\n" if index else "\n")
                reports.append(validate_as_json(
                    path, today=reference, official=official, out=sys.stdout, progress=advance,
                    then=_with_rehearsal(rehearse, path),
                ))
            else:
                reports.append(validate_for_people(
                    path, today=reference, limit=limit, console=console, progress=advance
                ))
                if rehearse is not None:
                    _print_rehearsal(rehearse(path, reports[-1]))
    if as_json or official:
        sys.stdout.write("\n]\n")
    raise typer.Exit(_exit_status(reports))


Rehearse = Callable[[Path, ValidationReport], dict[str, Any] | None]


def _with_rehearsal(
    rehearse: Rehearse | None, path: Path
) -> Callable[[ValidationReport], dict[str, Any]] | None:
    """What to add to `path`'s JSON report: the push's rehearsal, if one is asked for."""
    if rehearse is None:
        return None
    return lambda report: {"push": rehearse(path, report)}


def _rehearser(org: str, today: date) -> Rehearse:
    """What a push of a validated file by `org` would do, as JSON (None if unreadable)."""
    from service.cli_import import publisher_named
    from service.config import get_settings
    from service.db import get_engine
    from service.services.push import ReceivedFile, rehearsal_answer

    named = publisher_named(org)
    engine, max_bytes = get_engine(), get_settings().max_upload_bytes

    def rehearse(path: Path, report: ValidationReport) -> dict[str, Any] | None:
        if not report.readable:
            return None
        return rehearsal_answer(engine, publisher=named, received=ReceivedFile.of_path(path),
                                max_bytes=max_bytes, today=today)

    return rehearse


def _print_rehearsal(rehearsal: dict[str, Any] | None) -> None:
    from service.cli_import import counted, print_refusals
    from service.services.push import PushRehearsal

    if rehearsal is None:
        return
    if "refused" in rehearsal:
        refused = rehearsal["refused"]
        typer.echo(f"a push would be refused: {refused['code']}: {refused['message']}")
        return
    done = PushRehearsal.model_validate(rehearsal)
    typer.echo(f"a push now would give: {counted(done.counts)}")
    print_refusals(done.activities)


def _exit_status(reports: list[ValidationReport]) -> int:
    if any(not report.readable for report in reports):
        return 2
    return 0 if all(report.valid for report in reports) else 1


@app.command()
def convert(
    file: Annotated[Path, typer.Argument(help="IATI XML file (2.01–2.03, or 1.x to upgrade).")],
    to: Annotated[Format, typer.Option("--to", help="Output format.")] = Format.xml,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write here instead of standard output.")
    ] = None,
) -> None:
    """Convert a file to IATI 2.03 XML or to JSON of the internal model."""
    try:
        with _progress(file, f"Converting {file.name}") as advance, _target(output) as out:
            findings = conversion.convert(file, out, to=to.value, progress=advance)
    except IatiInputError as error:
        err.print(f"[bold red]error[/] {error.code}: {error.message}")
        raise typer.Exit(2) from None
    except OSError as error:
        err.print(f"[bold red]error[/] {error}")
        raise typer.Exit(2) from None
    if findings:
        err.print(f"{len(findings)} finding(s) while reading; run `iati-ec validate {file}`.")


@contextmanager
def _target(output: Path | None) -> Iterator[IO[bytes]]:
    if output is None:
        yield sys.stdout.buffer
        sys.stdout.flush()
        return
    partial = output.with_name(output.name + ".partial")
    try:
        with partial.open("wb") as out:
            yield out
        partial.replace(output)  # never leave a half-written result under the real name
    finally:
        partial.unlink(missing_ok=True)


@contextmanager
def _progress(path: Path, label: str) -> Iterator[Any]:
    """A progress bar on a terminal for large files; a no-op callback otherwise."""
    size = path.stat().st_size if path.is_file() else 0
    if not err.is_terminal or size < PROGRESS_THRESHOLD:
        yield None
        return
    columns = (
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(label, total=size)
        yield lambda done: bar.update(task, completed=done)
