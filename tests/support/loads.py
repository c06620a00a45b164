"""The contents most service tests start from: the real USAID Ecuador file and the three
worked examples, each pushed over HTTP by its own donor; and a few of USAID's activities
alone, for tests that send many requests."""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import Engine

from iati.elements.activity import Activity
from iati.reader import read_activities
from service.models import KeyScope
from tests.support.databases import Load
from tests.support.publishing import (
    USAID,
    USAID_EC,
    Api,
    add_publisher,
    identifier_of,
    new_key,
    variant,
)
from tests.support.samples import EXAMPLES, sample

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
