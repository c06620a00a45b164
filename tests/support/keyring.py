"""Two publishers with an activity each, a key of every kind for the first, and webhooks:
the contents the authorisation test starts from, small enough to build in a second."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import Engine

from service.db import session_scope
from service.models import KeyScope, utcnow
from service.services.webhooks import WebhookCreate, create_webhook
from service.services.webhooks.destinations import Destinations
from tests.support.databases import Load
from tests.support.publishing import Api, add_publisher, new_key
from tests.support.samples import EXAMPLES

OWN = "ES-DAC-2"  # the organisation every key of `Keyring.keys` belongs to
OTHER = "XI-IATI-IADB"
OWN_FILE = EXAMPLES / "health-grant-esmeraldas.xml"
OTHER_FILE = EXAMPLES / "road-loan-development-bank.xml"
# The kinds of caller, as docs/security.md names its columns: no key, or a key of `OWN`
# with these scopes (a key naming admin has every scope, whatever else it names).
KINDS: dict[str, tuple[KeyScope, ...]] = {
    "anonymous": (),
    "read": (KeyScope.read,),
    "publish": (KeyScope.publish,),
    "read + publish": (KeyScope.read, KeyScope.publish),
    "admin": (KeyScope.admin,),
}


class Held(NamedTuple):
    """An organisation, an activity of its and the push that created it."""

    ref: str
    activity: str
    push: str


class Keyring(NamedTuple):
    """What the load made: a key of each kind (None: anonymous); `OWN`'s and `OTHER`'s
    activity and push; a webhook; and an activity and a webhook of `OWN` for the tests to
    delete, so that deleting leaves the others in place."""

    keys: dict[str, str | None]
    own: Held
    other: Held
    webhook: int
    doomed_activity: str
    doomed_webhook: int


def _push(api: Api, ref: str, content: bytes) -> Held:
    answer = api.request("POST", "/api/v1/activities", key=new_key(api.engine, ref,
                         KeyScope.publish), content=content)
    pushed = answer.json()
    assert pushed["counts"]["created"] == 1, answer.text
    return Held(ref, pushed["activities"][0]["iati_identifier"], pushed["id"])


def _renamed(file: Path, suffix: str) -> bytes:
    """The one-activity `file` with `suffix` added to its activity's identifier."""
    identifier = file.read_text(encoding="utf-8").split("<iati-identifier>")[1].split("<")[0]
    return file.read_bytes().replace(
        f"<iati-identifier>{identifier}<".encode(),
        f"<iati-identifier>{identifier}{suffix}<".encode(),
    )


def _webhook(store: Engine, ref: str) -> int:
    with session_scope(store, write=True) as session:
        # Port 0, where nothing can listen: a ping fails at once, and never leaves the host.
        subscription = WebhookCreate(url="http://127.0.0.1:0/events", organisation=ref)
        return create_webhook(session, subscription=subscription, owner_id=0, now=utcnow(),
                              destinations=Destinations.allowing(["127.0.0.1"])).id


def _build(store: Engine, _base: Any) -> Keyring:
    api = Api(store)
    add_publisher(store, OWN, name="AECID")
    add_publisher(store, OTHER, name="BID")
    keys = {kind: new_key(store, OWN, *scopes) if scopes else None
            for kind, scopes in KINDS.items()}
    own = _push(api, OWN, OWN_FILE.read_bytes())
    doomed = _push(api, OWN, _renamed(OWN_FILE, "-BAJA"))
    other = _push(api, OTHER, OTHER_FILE.read_bytes())
    return Keyring(keys, own, other, _webhook(store, OWN), doomed.activity,
                   _webhook(store, OWN))


KEYRING: Load[Keyring] = Load("keyring", _build)
