"""The contents most service tests start from: the real USAID Ecuador file and the three
worked examples, each pushed over HTTP by its own donor; and loads for some tests: a few
of USAID's activities alone, for tests that send many requests; real files with loans; and
real files where Ecuador is one country among several."""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import Engine

from iati.elements.activity import Activity
from iati.reader import read_activities
from service.db import session_scope
from service.models import KeyScope
from service.services.demo import publisher_parts
from service.services.organisations import find_organisation, refs_of
from service.services.push import Publisher
from tests.support.databases import Load
from tests.support.publishing import (
    USAID,
    USAID_EC,
    Api,
    add_publisher,
    identifier_of,
    new_key,
    push,
    variant,
)
from tests.support.samples import CAF_LOANS, EXAMPLES, sample

MINISTRY = "EC-GOB-MREMH"  # the ministry's organisation, which holds admin keys
DONORS = {
    "health-grant-esmeraldas.xml": "ES-DAC-2",
    "road-loan-development-bank.xml": "XI-IATI-IADB",
    "gender-programme-policy-marker.xml": "XM-DAC-41146",
}


class Keys(NamedTuple):
    """USAID's read and publish keys."""

    read: str
    publish: str


class Loaded(NamedTuple):
    """A test's copy of the USAID load: the API on it, USAID's read and publish keys. The
    database's engine is `api.engine`."""

    api: Api
    read: str
    publish: str


def _push_usaid_and_examples(store: Engine, _base: Any) -> Keys:
    api = Api(store)
    add_publisher(store, USAID)
    publish = new_key(store, USAID, KeyScope.publish)
    answer = api.request("POST", "/api/v1/activities", key=publish,
                         content=sample(USAID_EC).read_bytes())
    assert answer.json()["counts"]["created"] == 250, answer.text
    for file, ref in DONORS.items():
        add_publisher(store, ref, name=ref)
        key = new_key(store, ref, KeyScope.publish)
        answer = api.request("POST", "/api/v1/activities", key=key,
                             content=(EXAMPLES / file).read_bytes())
        assert answer.json()["counts"]["created"] == 1, answer.text
    return Keys(new_key(store, USAID, KeyScope.read), publish)


USAID_AND_EXAMPLES: Load[Keys] = Load("usaid-and-examples", _push_usaid_and_examples)


class FewKeys(NamedTuple):
    """USAID's key that publishes and reads, the ministry's admin key, and the identifier
    of USAID's deleted activity."""

    donor: str
    admin: str
    deleted: str


def _push_few_usaid(store: Engine, _base: Any) -> FewKeys:
    """USAID's first four activities in Ecuador pushed, the fourth then deleted."""
    api = Api(store)
    add_publisher(store, USAID)
    donor = new_key(store, USAID, KeyScope.publish, KeyScope.read)
    with tempfile.TemporaryDirectory() as folder:
        few = variant(USAID_EC, Path(folder) / "few.xml", keep=4)
        answer = api.request("POST", "/api/v1/activities", key=donor, content=few.read_bytes())
    assert answer.json()["counts"]["created"] == 4, answer.text
    deleted = identifier_of(USAID_EC, 4)
    answer = api.request("DELETE", f"/api/v1/activities/{deleted}", key=donor)
    assert answer.status_code == 204, answer.text
    add_publisher(store, MINISTRY, name="Ministerio de Relaciones Exteriores")
    return FewKeys(donor, new_key(store, MINISTRY, KeyScope.admin), deleted)


FEW_USAID: Load[FewKeys] = Load("few-usaid", _push_few_usaid)


@cache
def usaid_models() -> tuple[Activity, ...]:
    """The USAID Ecuador file's activities as the reader builds them (parsed once)."""
    return tuple(record.model for record in read_activities(sample(USAID_EC)))


@cache
def example_models() -> tuple[Activity, ...]:
    """The worked examples' activities, in the order of `DONORS`."""
    return tuple(record.model for file in DONORS
                 for record in read_activities(EXAMPLES / file))


def example_identifiers() -> list[str | None]:
    return [model.identifier for model in example_models()]


# Real files with loans: the Netherlands' with loan terms and a loan status (crs-add), the
# World Bank's with interest and principal repayments (TransactionType 5 and 6).
LOAN_FILES = {
    "real/netherlands-mfa-example_203_file.xml": ("XM-DAC-7", "Ministerie van Buitenlandse Zaken"),
    "real/worldbank-sv.xml": ("44000", "Banco Mundial"),
}


def _push_loans(store: Engine, _base: Any) -> str:
    api = Api(store)
    for file, (ref, name) in LOAN_FILES.items():
        add_publisher(store, ref, name=name)
        key = new_key(store, ref, KeyScope.publish)
        answer = api.request("POST", "/api/v1/activities", key=key,
                             content=sample(file).read_bytes())
        assert answer.json()["counts"]["created"] == 13, answer.text
    return new_key(store, "44000", KeyScope.read)


LOANS: Load[str] = Load("loans", _push_loans)


# Real files where Ecuador is one recipient among several, or none: the IDB's d-portal page
# (the IDB's loans to Ecuador and to other countries, its regional operations naming only
# a region, and IDRC's grant with Ecuador at 40 %) and IDRC's (grants shared among several
# countries, Ecuador among them at 8 to 33 %), every activity pushed by its own publisher
# as the demo pushes them; a made-up loan to Ecuador at 30 % and Peru with its terms,
# status and repayments; and CAF's loans to Ecuador with the European Union's grants
# spelling the Ministry of Economy and Finance three more ways. On top of the USAID load.
REGIONAL_FILES = ("real/dportal-iadb-p3.xml", "real/dportal-canada-idrc-denmark-p91.xml")
REGIONAL_LOAN = EXAMPLES / "regional-loan-terms-status.xml"
FOUR_SPELLINGS = EXAMPLES / "ministry-four-spellings.xml"


def regional_paths() -> list[Path]:
    return [*(sample(file) for file in REGIONAL_FILES), REGIONAL_LOAN, CAF_LOANS,
            FOUR_SPELLINGS]


def _push_regional(store: Engine, keys: Keys) -> Keys:
    with tempfile.TemporaryDirectory() as folder:
        for path in regional_paths():
            for number, part in enumerate(publisher_parts(path)):
                file = path
                if part.body is not None:  # one publisher's activities of a file of several
                    file = Path(folder) / f"{path.stem}-{number}.xml"
                    file.write_bytes(part.body)
                done = push(store, _publisher(store, part.ref, part.name), file)
                assert done.counts.created, (path.name, part.ref, done.counts)
    return keys


def _publisher(store: Engine, ref: str, name: str) -> Publisher:
    """The organisation `ref` as a publisher, registered as a donor if it is not yet."""
    with session_scope(store) as session:
        found = find_organisation(session, ref)
        if found is not None and found.id is not None:
            return Publisher(organisation_id=found.id,
                             refs=frozenset(refs_of(session, [found.id])[found.id]))
    return add_publisher(store, ref, name=name)


REGIONAL: Load[Keys] = Load("regional", _push_regional, base=USAID_AND_EXAMPLES)
