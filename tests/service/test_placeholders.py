"""Placeholders in the partner registry and RUC check digits: the rules without a
database, then the real USAID Ecuador file pushed, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import Engine, select

from service.models import KeyScope
from service.services.merges import ORG_REF, ORGANISATION
from service.services.placeholders import channel_code, placeholder_name, placeholder_ref
from service.services.ruc import RucStatus, check_ruc
from tests.support.loads import Loaded
from tests.support.publishing import Api, add_publisher, new_key
from tests.support.samples import CAF_LOANS
from tests.support.spreadsheets import without_bom


@pytest.mark.parametrize("name", [
    "nan", "", "  ", "Unspecified Vendors - Ecuador", "Various", "VARIOS",
    "Bénéficiaire(s) non spécifié(s) -- Réservoir", "General / not specified ***",
    "NEVOLUN S.A.S. B.I.C. + NOT MAPPED"])
def test_names_that_name_no_one(name: str) -> None:
    assert placeholder_name(name)


def test_a_ref_is_a_placeholder_by_the_evidence_not_by_its_code() -> None:
    # USAID's file gives XM-DAC-23000 (a CRS channel category) to unrelated NGOs.
    assert channel_code("XM-DAC-23000") == "23000"
    assert placeholder_ref("XM-DAC-23000", ["Fundacion Esquel", "NGO - Non United States Other"])
    assert placeholder_ref("XM-DAC-63000", ["CREZCONUT", "KISTH", "Miyamoto International"])
    # A real organisation whose ref is a channel code: one name, not a placeholder.
    assert not placeholder_ref("XM-DAC-41122", ["UNICEF", "United Nations Children's Fund"])
    assert not placeholder_ref("XM-DAC-23000", ["Fundacion Esquel"])
    # A ref that says nothing of who, whatever the names given with it.
    assert placeholder_ref("N/A", ["Recipient Government", "EC_INTPA"])
    assert placeholder_ref("#", ["ACNUR - Oficina del Alto Comisionad"])
    # Any ref given for three unrelated names.
    assert placeholder_ref("XI-DUNS-1", ["Fundación Natura", "Banco Pichincha", "CARE"])
    assert not placeholder_ref("XI-DUNS-1", ["Fundación Natura", "FUNDACION NATURA"])


def test_rucs_are_checked_and_a_failing_check_digit_is_said_so() -> None:
    assert check_ruc("1791822870001").status is RucStatus.valid  # FUNDACIÓN A.L.D.E.A
    failing = check_ruc("1790012345001")
    assert failing.status is RucStatus.check_digit_fails
    assert failing.number == "1790012345001"
    assert check_ruc("17-9").status is RucStatus.not_a_ruc
    assert check_ruc("1710034065").kind == "cedula"


@pytest.mark.reads_only
def test_the_registry_keys_and_names_no_entry_on_a_placeholder(loaded: Loaded) -> None:
    """USAID's file names "nan", "Unspecified Vendors - Ecuador" and gives XM-DAC-23000 and
    XM-DAC-63000 to unrelated organisations: none of them keys or names an entry; the
    organisations behind them are entries by their own names."""
    with loaded.api.engine.connect() as connection:
        refs = set(connection.execute(select(ORG_REF.c.ref)).scalars())
        names = set(connection.execute(select(ORGANISATION.c.name)).scalars())
    assert not refs & {"XM-DAC-23000", "XM-DAC-63000"}
    assert not {name for name in names if placeholder_name(name)}
    assert {"Fundacion Esquel", "CREZCONUT"} <= names


@pytest.mark.reads_only
def test_partners_that_are_placeholders_are_flagged_where_partners_are_listed(
    loaded: Loaded,
) -> None:
    """USAID's implementing partners by money: "nan" and "Unspecified Vendors - Ecuador"
    name no one, XM-DAC-23000 and XM-DAC-63000 are given to unrelated organisations; each
    row says so, in JSON and CSV, and no other partner is flagged."""
    params = {"group_by": "participating_org", "measure": "disbursement"}
    answer = loaded.api.request("GET", "/api/v1/aggregates", key=loaded.read, params=params)
    assert answer.status_code == 200, answer.text
    flagged = {row["group"]["participating_org"]: row["placeholder"]
               for row in answer.json()["rows"] if row["placeholder"] is not None}
    assert flagged == {"nan": "name", "Unspecified Vendors - Ecuador": "name",
                       "XM-DAC-23000": "ref", "XM-DAC-63000": "ref"}
    answer = loaded.api.request("GET", "/api/v1/aggregates", key=loaded.read,
                                params={**params, "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(without_bom(answer.text))))
    assert {row["participating_org"]: row["placeholder"] for row in rows
            if row["placeholder"]} == flagged
    by_donor = loaded.api.request("GET", "/api/v1/aggregates", key=loaded.read,
                                  params={"group_by": "reporting_org"}).json()
    assert {row["placeholder"] for row in by_donor["rows"]} == {None}
    assert "placeholder" not in by_donor["rows"][0]["group"]


# Real activities for Ecuador (the demo's extracts of d-portal downloads): the EU's give
# "N/A" as the ref of "Recipient Government" and of "EC_INTPA", AECID's "#" as UNHCR's.
NO_ONE_REFS = {"XI-IATI-EC_INTPA": "dportal-eu-intpa-p80-ecuador.xml",
               "ES-DIR3-EA0035768": "dportal-spain-aecid-p16-ecuador.xml"}


def test_a_ref_that_says_nothing_keys_no_entry_and_is_flagged(store: Engine) -> None:
    """"N/A" keyed one entry, which took the EU's own "EC_INTPA" and the recipient
    government for one organisation; now each participant is kept by its name."""
    api = Api(store)
    for ref, file in NO_ONE_REFS.items():
        add_publisher(store, ref, name=ref)
        answer = api.request("POST", "/api/v1/activities",
                             key=new_key(store, ref, KeyScope.publish),
                             content=(CAF_LOANS.parent / file).read_bytes())
        assert answer.json()["counts"]["created"] > 0, answer.text
    with store.connect() as connection:
        refs = set(connection.execute(select(ORG_REF.c.ref)).scalars())
        names = [{name["text"] for name in names or []}
                 for names in connection.execute(select(ORGANISATION.c.names)).scalars()]
    assert not refs & {"N/A", "#"}
    assert not [entry for entry in names if {"EC_INTPA", "Recipient Government"} <= entry]
    answer = api.request("GET", "/api/v1/aggregates", key=new_key(
        store, "XI-IATI-EC_INTPA", KeyScope.read), params={"group_by": "participating_org"})
    flagged = {row["group"]["participating_org"]: row["placeholder"]
               for row in answer.json()["rows"] if row["placeholder"]}
    assert flagged == {"N/A": "ref", "#": "ref"}
