"""The production shape, compose.yaml, held to the Dockerfile, to .env.example and to
docs/deployment.md, and run: no container engine runs here, so each service's command runs
as a plain process of the installed wheel, in the order compose starts them, with the
image's environment and the service's, against a new database on the tests' PostgreSQL."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import create_engine, make_url

from service.config import Settings
from tests.support.cli import iati_ec
from tests.support.compose import (
    MissingVariableError,
    final_stage,
    image_environment,
    interpolate,
    load,
    read_env_file,
    start_order,
    variables_used,
)
from tests.support.publishing import USAID, USAID_EC, variant
from tests.support.serving import free_port
from tests.support.sync_server import SourceServer
from tests.support.webhook_receiver import Receiver
from tests.support.wheel import ROOT, Installed

# The wheel is built once per run for this module and tests/test_wheel.py: one worker.
pytestmark = pytest.mark.xdist_group("wheel")

COMPOSE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
EXAMPLE = read_env_file(ROOT / ".env.example")
# .env.example as an operator fills it in (the one required value set).
FILLED = {**EXAMPLE, "POSTGRES_PASSWORD": "made-up-for-the-tests"}
DATABASE = "postgresql+psycopg"
POSTGRES_DATA = "/var/lib/postgresql/data"  # the official image's data folder up to 17
EXAMPLE_ACTIVITY = ROOT / "tests" / "fixtures" / "examples" / "health-grant-esmeraldas.xml"


def _services() -> dict[str, Any]:
    services: dict[str, Any] = load(COMPOSE, FILLED)["services"]
    return services


def _of_image(services: dict[str, Any]) -> dict[str, Any]:
    """The services that run the project's image (all but PostgreSQL)."""
    return {name: s for name, s in services.items() if s.get("build") is not None}


def _section(title: str) -> str:
    text = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_compose_file_refuses_to_start_without_the_database_password() -> None:
    with pytest.raises(MissingVariableError) as refused:
        load(COMPOSE, EXAMPLE)  # .env.example copied as it is
    assert refused.value.name == "POSTGRES_PASSWORD"
    assert EXAMPLE["POSTGRES_PASSWORD"] == ""  # no secret in the repository
    assert interpolate("${A:?a} ${B:-b} $${C}", {"A": "x"}) == "x b ${C}"


def test_every_variable_is_in_the_example_with_its_default_and_documented() -> None:
    used = variables_used(COMPOSE.read_text(encoding="utf-8"))
    assert set(used) == set(EXAMPLE)
    assert {name: value for name, value in EXAMPLE.items() if used[name] is not None} == {
        name: default for name, default in used.items() if default is not None}
    section = _section("The production shape")
    documented = re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", section, re.MULTILINE)
    assert sorted(documented) == sorted(used)
    # The table of services names each one's image or command, variables shown as N.
    services = load(COMPOSE, dict.fromkeys(used, "N"))["services"]
    rows = dict(re.findall(r"^\| `([a-z]+)` \| `([^`]+)` \|", section, re.MULTILINE))
    assert rows == {name: " ".join(service["command"]) if "command" in service
                    else service["image"] for name, service in services.items()}


def test_the_services_are_given_only_settings_the_service_has_and_the_docs_name() -> None:
    fields = Settings.model_fields
    known = {f.validation_alias if isinstance(f.validation_alias, str)
             else f"IATI_EC_{name.upper()}" for name, f in fields.items()}
    section = _section("The production shape")
    for name, service in _of_image(_services()).items():
        for variable in service["environment"]:
            assert variable in known, (name, variable)
            assert f"`{variable}`" in section, (name, variable)
        # Only `migrate` migrates: the others must not race it, nor each other.
        assert service["environment"]["IATI_EC_MIGRATE_ON_STARTUP"] == "false", name


def test_the_services_run_the_image_the_dockerfile_builds_as_it_builds_it() -> None:
    services = _services()
    stage = final_stage(DOCKERFILE)
    instructions = dict(stage)
    assert "ENTRYPOINT" not in instructions
    assert json.loads(instructions["CMD"])[0] == "iati-ec"
    environment = image_environment(DOCKERFILE)
    assert instructions["EXPOSE"] == environment["IATI_EC_PORT"]
    health = instructions["HEALTHCHECK"].split(" CMD ", 1)[1]
    of_image = _of_image(services)
    assert set(of_image) == set(services) - {"db"}
    for name, service in of_image.items():
        assert (service["build"], service["image"]) == (".", "iati-ec:local"), name
        # The image's user, working folder (/data) and entry point hold as they are.
        assert not {"user", "working_dir", "entrypoint"} & set(service), name
        assert service["command"][0] == "iati-ec", name
        if name == "api":
            assert service["healthcheck"]["test"] == ["CMD", *shlex.split(health)]
            assert service["ports"][0].rsplit(":", 1)[1] == environment["IATI_EC_PORT"]
        else:  # the image's check asks /health, which only `serve` answers
            assert service["healthcheck"] == {"disable": True}, name
    assert services["migrate"]["command"] == ["iati-ec", "db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    for name in set(of_image) - {"migrate"}:
        assert of_image[name]["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"}}, name
    assert services["api"]["command"][:3] == ["iati-ec", "serve", "--workers"]
    # The API leaves webhook events to a service that delivers them.
    assert services["api"]["environment"]["IATI_EC_WEBHOOK_DISPATCHER"] == "false"
    assert ["iati-ec", "webhooks", "deliver"] in [s.get("command") for s in services.values()
                                                   if not s.get("profiles")]


def test_postgresql_is_pinned_kept_on_a_volume_and_named_by_the_database_url() -> None:
    loaded = load(COMPOSE, FILLED)
    db = loaded["services"]["db"]
    assert re.fullmatch(r"postgres:\d+\.\d+-bookworm", db["image"]), db["image"]
    volume, path = db["volumes"][0].split(":")
    assert (volume in loaded["volumes"], path) == (True, POSTGRES_DATA)
    assert db["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    url = make_url(loaded["services"]["api"]["environment"]["DATABASE_URL"])
    assert (url.drivername, url.host, url.username, url.password, url.database) == (
        DATABASE, "db", db["environment"]["POSTGRES_USER"], FILLED["POSTGRES_PASSWORD"],
        db["environment"]["POSTGRES_DB"])


def test_the_tests_run_the_postgresql_major_version_the_compose_file_deploys(
    postgres_server_url: str
) -> None:
    engine = create_engine(postgres_server_url)
    try:
        with engine.connect() as connection:
            number = int(connection.exec_driver_sql("SHOW server_version_num").scalar_one())
    finally:
        engine.dispose()
    deployed = _services()["db"]["image"].split(":")[1].split(".")[0]
    assert number // 10000 == int(deployed)


@contextlib.contextmanager
def _new_database(server: str) -> Iterator[str]:
    """An empty database on `server`, dropped afterwards: what `db` holds on a first start."""
    admin = create_engine(server, isolation_level="AUTOCOMMIT", pool_size=1)
    name = f"iati_ec_compose_{uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


class Stack:
    """The services' commands as processes of the installed wheel, in `folder` (the image's
    working folder, /data), on `database` instead of the `db` service."""

    def __init__(self, installed: Installed, folder: Path, database: str,
                 variables: dict[str, str]) -> None:
        self.installed, self.folder, self.database = installed, folder, database
        self.services = load(COMPOSE, variables)["services"]
        self.processes: dict[str, tuple[subprocess.Popen[str], Path]] = {}
        self.port = free_port()

    def environment(self, name: str) -> dict[str, str]:
        """The image's environment, then the service's, as a container gets them; the
        database and the port are the test's."""
        given = self.services[name]["environment"]
        url = make_url(given["DATABASE_URL"])
        assert (url.drivername, url.host) == (DATABASE, "db")
        return {"PATH": os.environ["PATH"], "LANG": "C.UTF-8",
                **image_environment(DOCKERFILE), **given, "DATABASE_URL": self.database,
                "IATI_EC_HOST": "127.0.0.1", "IATI_EC_PORT": str(self.port)}

    def argv(self, command: list[str]) -> list[str]:
        programs = {"iati-ec": self.installed.command, "python": self.installed.python}
        return [str(programs.get(command[0], command[0])), *command[1:]]

    def run(self, name: str, *, mounts: dict[str, Path] | None = None) -> str:
        """A one-off service run to its end; its output. It must exit 0."""
        command = [str(mounts.get(word, word)) if mounts else word
                   for word in self.services[name]["command"]]
        done = subprocess.run(self.argv(command), cwd=self.folder,
                              env=self.environment(name), capture_output=True, text=True,
                              check=False, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout + done.stderr

    def start(self, name: str) -> None:
        log = self.folder / f"{name}.log"
        with log.open("w") as output:
            process = subprocess.Popen(self.argv(self.services[name]["command"]),
                                       cwd=self.folder, env=self.environment(name),
                                       stdout=output, stderr=subprocess.STDOUT, text=True)
        self.processes[name] = (process, log)

    def healthy(self, name: str, seconds: float = 120) -> None:
        """Wait until the service's own health check passes."""
        check = self.argv(self.services[name]["healthcheck"]["test"][1:])
        process, log = self.processes[name]
        deadline = time.monotonic() + seconds
        while subprocess.run(check, env=self.environment(name), capture_output=True,
                             check=False).returncode != 0:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)

    def stop(self, name: str) -> int:
        """SIGTERM, as `docker compose stop` sends it; the exit status within the grace."""
        process, log = self.processes.pop(name)
        assert process.poll() is None, log.read_text()
        process.send_signal(signal.SIGTERM)
        grace = int(str(self.services[name].get("stop_grace_period", "10s")).rstrip("s"))
        try:
            return process.wait(timeout=grace)
        finally:
            print(f"--- {name}\n{log.read_text()[-10_000:]}")

    def close(self) -> None:
        for process, _ in self.processes.values():
            process.kill()
            process.wait()


def test_the_services_run_as_compose_starts_them_stop_cleanly_and_restore_a_backup(
    installed: Installed, postgres_server_url: str, tmp_path: Path
) -> None:
    """`up`, an operator's first steps, a scheduled `sync`, the documented backup while
    the services run, `stop`, and the documented restore followed by `migrate` again."""
    receiver, sources = Receiver(), SourceServer()
    data = tmp_path / "data"
    data.mkdir()
    variables = {**FILLED, "API_WORKERS": "2",  # two processes are enough to show it
                 "IATI_EC_WEBHOOK_ALLOWED_DESTINATIONS": "127.0.0.1"}
    with _new_database(postgres_server_url) as database, contextlib.ExitStack() as cleanup:
        cleanup.callback(receiver.close)
        cleanup.callback(sources.close)
        stack = Stack(installed, data, database, variables)
        cleanup.callback(stack.close)
        order = start_order(stack.services)
        assert order[:2] == ["db", "migrate"]
        assert {"api", "webhooks"} <= set(order)
        for name in order[1:]:
            if stack.services[name].get("restart") == "no":
                stack.run(name)
            else:
                stack.start(name)
        stack.healthy("api")
        assert "(latest)" in iati_ec("db", "current", database=database).stdout
        _push_and_query(f"http://127.0.0.1:{stack.port}", database, receiver)
        # Delivered by `webhooks`: the API's own dispatcher is off.
        assert receiver.arrived.wait(30), stack.processes["webhooks"][1].read_text()
        assert [e["type"] for e in receiver.events] == ["activity.created"]
        _sync(stack, sources, tmp_path)
        stored = _activities(database)
        assert len(stored) == 3

        dump, restore = _backup_commands(database)
        _run_documented(dump, tmp_path, database)
        for name in reversed(order[2:]):  # each long-running service
            assert stack.stop(name) == 0, name
        for words in restore:
            _run_documented(words, tmp_path, database)
        stack.run("migrate")
        assert _activities(database) == stored


def _push_and_query(base: str, database: str, receiver: Receiver) -> None:
    """An operator registers a donor, its key and a webhook; the donor pushes an activity
    and reads its budget view."""
    assert httpx.get(f"{base}/health", timeout=5).json()["status"] == "ok"
    for ref, name in (("ES-DAC-2", "AECID"), (USAID, "USAID")):
        added = iati_ec("orgs", "add", "--ref", ref, "--name", name, "--role", "donor",
                        database=database)
        assert added.returncode == 0, added.stderr
    key = iati_ec("keys", "create", "--org", "ES-DAC-2", "--scope", "publish",
                  database=database).stdout.split()[-1]
    hooked = iati_ec("webhooks", "add", receiver.url, "--org", "ES-DAC-2", "--event",
                     "activity.created", database=database,
                     environment={"IATI_EC_WEBHOOK_ALLOWED_DESTINATIONS": "127.0.0.1"})
    assert hooked.returncode == 0, hooked.stderr
    with httpx.Client(base_url=base, timeout=60,
                      headers={"Authorization": f"Bearer {key}"}) as http:
        pushed = http.post("/api/v1/activities", content=EXAMPLE_ACTIVITY.read_bytes())
        assert pushed.status_code == 200, pushed.text
        assert pushed.json()["counts"]["created"] == 1
        view = http.get("/api/v1/activity/budget-view",
                        params={"iati_identifier": "ES-DAC-2-EJEMPLO-SALUD-ESMERALDAS"})
    assert view.status_code == 200, view.text
    cantons = [(f["code"], f["amount_usd"]) for f in view.json()["figures"]
               if f["classification"] == "canton"]
    assert cantons == [("0805", "544600.00")]  # EUR 500,000 at the file's rate


def _sync(stack: Stack, sources: SourceServer, folder: Path) -> None:
    """`sync`, under its profile, as a scheduler runs it, its sources file mounted."""
    body = variant(USAID_EC, folder / "two.xml", keep=2).read_bytes()
    listed = folder / "sources.toml"
    listed.write_text(f'[[publisher]]\norg = "{USAID}"\n'
                      f'datasets = ["{sources.serve("/usaid.xml", body)}"]\n')
    mount = stack.services["sync"]["volumes"][0]
    assert (mount["type"], mount["read_only"]) == ("bind", True)
    synced = stack.run("sync", mounts={mount["target"]: listed})
    assert "2 created" in synced, synced


def _activities(database: str) -> list[tuple[str, int]]:
    engine = create_engine(database)
    try:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT iati_identifier, version FROM activity ORDER BY iati_identifier")
            return [(row[0], row[1]) for row in rows]
    finally:
        engine.dispose()


def _documented_commands(prefix: str) -> list[list[str]]:
    """The commands of docs/deployment.md's Backups section that start with `prefix`,
    without it, split as the shell splits them."""
    section = _section("Backups and restores")
    return [shlex.split(line.strip().removeprefix(prefix)) for line in section.splitlines()
            if line.strip().startswith(prefix)]


def _redirected(words: list[str], folder: Path) -> tuple[list[str], dict[str, Any]]:
    """`words` less a trailing `> file` or `< file`, and the file (in `folder`) opened for
    it."""
    streams: dict[str, Any] = {}
    for sign, stream, mode in ((">", "stdout", "wb"), ("<", "stdin", "rb")):
        if sign in words:
            at = words.index(sign)
            streams[stream] = (folder / "backup.dump").open(mode)
            words = words[:at]
    return words, streams


def _backup_commands(database: str) -> tuple[list[str], list[list[str]]]:
    """The Backups section's commands through the `db` container, with the test server's
    address and names: the dump, and the restore (drop, create, restore)."""
    if shutil.which("pg_restore") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("pg_dump and pg_restore are missing (bash .ci/run installs them)")
        pytest.skip("pg_dump and pg_restore are not installed")
    commands = _documented_commands("docker compose exec -T db ")
    assert [words[0] for words in commands] == ["pg_dump", "dropdb", "createdb", "pg_restore"]
    url = make_url(database)
    names = {"--username=iati_ec": f"--username={url.username}",
             "iati_ec": str(url.database), "--dbname=iati_ec": f"--dbname={url.database}"}
    server = [f"--host={url.host}", f"--port={url.port or 5432}"]
    ready = [[words[0], *server, *(names.get(w, w) for w in words[1:])] for words in commands]
    return ready[0], ready[1:]


def _run_documented(words: list[str], folder: Path, database: str) -> None:
    """One of them, as the `db` container's shell would run it, on `database`'s server."""
    words, streams = _redirected(words, folder)
    password = make_url(database).password
    try:
        done = subprocess.run(words, env={**os.environ, "PGPASSWORD": str(password)},
                              stderr=subprocess.PIPE, check=False, timeout=120, **streams)
    finally:
        for stream in streams.values():
            stream.close()
    assert done.returncode == 0, (words, done.stderr)


def test_the_documented_sqlite_backup_copies_the_store(
    installed: Installed, tmp_path: Path
) -> None:
    """The image has no sqlite3 program: the section's Python line makes the backup."""
    (line,) = _documented_commands("python -c ")
    store, copy = tmp_path / "iati-ec.db", tmp_path / "iati-ec-backup.db"
    added = iati_ec("orgs", "add", "--ref", "ES-DAC-2", "--name", "AECID", "--role", "donor",
                    database=f"sqlite:///{store}")
    assert added.returncode == 0, added.stderr
    arguments = [str(tmp_path / Path(word).name) if word.startswith("/data/") else word
                 for word in line]
    assert arguments[1:] == [str(store), str(copy)]
    done = subprocess.run([str(installed.python), "-c", *arguments], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    listed = iati_ec("orgs", "list", "--json", database=f"sqlite:///{copy}").stdout
    assert [o["refs"] for o in json.loads(listed)] == [["ES-DAC-2"]]
