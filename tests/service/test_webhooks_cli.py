"""`iati-ec webhooks`: add (secret printed once), deliver --once, list, ping, remove, on its
own SQLite file, with a real receiver on 127.0.0.1, which the settings must allow; the
commands run in the test's process, but for `deliver` until stopped, a real process."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

from service.services.webhooks import NO_ANSWER, NOT_ALLOWED
from tests.support.cli import Ran, iati_ec
from tests.support.publishing import USAID, USAID_EC, variant
from tests.support.serving import environment_without_database
from tests.support.webhook_receiver import Receiver

ALLOWED = "IATI_EC_WEBHOOK_ALLOWED_DESTINATIONS"
RECEIVERS = {ALLOWED: "127.0.0.1"}  # where the tests' receivers listen


def _iati_ec(database: str, *arguments: str, environment: dict[str, str] | None = None) -> Ran:
    return iati_ec(*arguments, database=database, environment=environment or RECEIVERS)


def test_an_operator_adds_a_webhook_delivers_once_lists_and_removes_it(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'webhooks.db'}"  # made and migrated by `orgs add`
    _iati_ec(database, "orgs", "add", "--ref", USAID, "--name", "USAID", "--role", "donor")
    receiver = Receiver([503])
    try:
        added = _iati_ec(database, "webhooks", "add", receiver.url, "--org", USAID,
                         "--event", "activity.created")
        assert added.returncode == 0, added.stdout + added.stderr
        secret = added.stdout.split()[-1]
        two = variant(USAID_EC, tmp_path / "two.xml", keep=2)
        assert _iati_ec(database, "import", str(two), "--org", USAID).returncode == 0
        failed = _iati_ec(database, "webhooks", "deliver", "--once")
        assert (failed.returncode, failed.stdout.strip()) == (
            1, "1 webhook(s): 0 delivered, 1 failed."), failed.stderr
        listed = json.loads(_iati_ec(database, "webhooks", "list").stdout)
        assert "secret" not in listed[0]
        assert listed[0]["consecutive_failures"] == 1
        assert listed[0]["next_attempt_at"] is not None
        refused = _iati_ec(database, "webhooks", "add", "ftp://mef.gob.ec/x", "--org", USAID)
        assert refused.returncode == 1
        assert "only http and https" in refused.stderr
    finally:
        receiver.close()
    assert len(receiver.requests) == 1
    assert receiver.requests[0].signed_with(secret)
    removed = _iati_ec(database, "webhooks", "remove", str(listed[0]["id"]))
    assert removed.returncode == 0, removed.stderr
    assert json.loads(_iati_ec(database, "webhooks", "list").stdout) == []


def test_internal_hosts_need_the_setting_and_a_ping_says_only_whether_it_was_answered(
    tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path / 'webhooks.db'}"
    _iati_ec(database, "orgs", "add", "--ref", USAID, "--name", "USAID", "--role", "donor")
    public_only = {ALLOWED: ""}
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # nobody listens: connection refused
        dead = f"http://127.0.0.1:{closed.getsockname()[1]}/hooks"
        receiver = Receiver()
        try:
            for url in (receiver.url, f"http://2130706433:{receiver.port}/hooks", dead):
                refused = _iati_ec(database, "webhooks", "add", url, "--org", USAID,
                                   environment=public_only)
                assert refused.returncode == 1, url
                assert "does not resolve to public internet addresses" in refused.stderr
                assert ALLOWED in refused.stderr
            assert json.loads(_iati_ec(database, "webhooks", "list").stdout) == []

            for url in (receiver.url, dead):
                assert _iati_ec(database, "webhooks", "add", url, "--org", USAID).returncode == 0
            answered = _iati_ec(database, "webhooks", "ping", "1")
            unanswered = _iati_ec(database, "webhooks", "ping", "2")
            now_refused = _iati_ec(database, "webhooks", "ping", "1", environment=public_only)
        finally:
            receiver.close()
    assert answered.returncode == 0, answered.stderr
    assert json.loads(answered.stdout)["outcome"] == "delivered"
    assert unanswered.returncode == 1
    assert json.loads(unanswered.stdout)["error"] == NO_ANSWER
    assert now_refused.returncode == 1
    assert json.loads(now_refused.stdout)["error"] == NOT_ALLOWED
    assert [r.event["type"] for r in receiver.requests] == ["ping"]
    missing = _iati_ec(database, "webhooks", "ping", "99")
    assert (missing.returncode, missing.stderr.strip()) == (1, "error: No webhook has the id 99.")


def test_deliver_until_stopped_delivers_and_ends_cleanly_on_sigterm(tmp_path: Path) -> None:
    """A service manager (systemd, `docker compose stop`) stops the long-running form with
    SIGTERM: it finishes its pass and exits 0 instead of being killed mid-delivery."""
    database = f"sqlite:///{tmp_path / 'webhooks.db'}"
    _iati_ec(database, "orgs", "add", "--ref", USAID, "--name", "USAID", "--role", "donor")
    receiver = Receiver()
    try:
        added = _iati_ec(database, "webhooks", "add", receiver.url, "--org", USAID,
                         "--event", "activity.created")
        assert added.returncode == 0, added.stdout + added.stderr
        one = variant(USAID_EC, tmp_path / "one.xml", keep=1)
        assert _iati_ec(database, "import", str(one), "--org", USAID).returncode == 0
        environment = {**environment_without_database(), **RECEIVERS,
                       "DATABASE_URL": database, "IATI_EC_WEBHOOK_POLL_SECONDS": "0.2"}
        process = subprocess.Popen(
            [sys.executable, "-m", "service", "webhooks", "deliver"], cwd=tmp_path,
            env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        try:
            arrived = receiver.arrived.wait(30)
        finally:
            process.send_signal(signal.SIGTERM)
            output, errors = process.communicate(timeout=30)
    finally:
        receiver.close()
    assert arrived, errors
    assert (process.returncode, errors.splitlines()[-1]) == (0, "stopped."), output + errors
    assert [event["type"] for event in receiver.events] == ["activity.created"]
