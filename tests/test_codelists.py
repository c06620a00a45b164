"""The vendored IATI codelists load completely into frozen, typed objects."""

from __future__ import annotations

import dataclasses
import re

import pytest
from lxml import etree

from iati import artefacts
from iati.codelists import (
    Codelist,
    ItemStatus,
    codelist_mappings,
    codelist_names,
    load_codelist,
)

CODELIST_FOLDER = artefacts.codelist_path("Sector").parent


def _raw_codes(name: str, *, status: str | None = None) -> set[str]:
    """Codes as they stand in the file (of one status if given), read without the loader."""
    root = etree.parse(str(artefacts.codelist_path(name))).getroot()
    return {
        (item.findtext("code") or "").strip() for item in root.iter("codelist-item")
        if status is None or item.get("status") == status
    }


def test_codelist_names_are_exactly_the_vendored_files() -> None:
    files = {path.stem for path in CODELIST_FOLDER.glob("*.xml")} - {"mapping"}
    assert set(codelist_names()) == files
    assert len(files) == 70


@pytest.mark.parametrize("name", codelist_names())
def test_every_codelist_loads_every_code(name: str) -> None:
    codelist = load_codelist(name)
    assert codelist.name == name
    # FileFormat repeats two codes verbatim; nothing else may be lost or invented.
    assert set(codelist.items) == _raw_codes(name)
    assert all(code and code == code.strip() for code in codelist.items)
    withdrawn = {item.code for item in codelist if item.status is ItemStatus.WITHDRAWN}
    assert withdrawn == _raw_codes(name, status="withdrawn")


@pytest.mark.parametrize(
    ("name", "items", "withdrawn"),
    [("Sector", 325, 30), ("Currency", 176, 9), ("CRSChannelCode", 438, 29),
     ("FinanceType", 68, 21), ("Country", 251, 1), ("ActivityStatus", 6, 0)],
)
def test_item_and_withdrawn_counts_match_the_manifest(
    name: str, items: int, withdrawn: int
) -> None:
    codelist = load_codelist(name)
    assert len(codelist) == items
    assert sum(item.withdrawn for item in codelist) == withdrawn
    assert len(codelist.active()) == items - withdrawn
    assert codelist.codes(include_withdrawn=False) == {item.code for item in codelist.active()}


def test_withdrawn_codes_are_marked_with_their_dates() -> None:
    kroon = load_codelist("Currency")["EEK"]
    assert kroon.status is ItemStatus.WITHDRAWN
    assert kroon.withdrawn
    assert kroon.withdrawal_date is not None
    assert kroon not in load_codelist("Currency").active()
    assert not load_codelist("Currency")["USD"].withdrawn


def test_sector_has_five_digit_codes_in_named_dac3_categories() -> None:
    sector = load_codelist("Sector")
    categories = sector.categories()
    assert isinstance(categories, Codelist)
    assert categories.name == "SectorCategory"
    assert all(re.fullmatch(r"\d{5}", item.code) for item in sector)
    assert all(item.category in categories for item in sector)
    education = sector["11110"]
    assert education.category == "111"
    assert education.name == "Education policy and administrative management"
    assert categories["111"].name == "Education, Level Unspecified"
    assert {item.code for item in sector.in_category("111")} >= {"11110", "11120", "11130"}


def test_names_by_language_fall_back_to_english() -> None:
    item = load_codelist("Sector")["11110"]
    assert item.names["fr"].startswith("Politique de l'éducation")
    assert item.name_in("fr") == item.names["fr"]
    assert item.name_in("es") == item.name  # no codelist has Spanish names yet
    assert item.description is not None
    assert "fr" in item.descriptions


def test_codelist_metadata() -> None:
    sector = load_codelist("Sector")
    assert (sector.title, sector.embedded, sector.complete) == ("DAC 5 Digit Sector", False, True)
    assert load_codelist("ActivityStatus").embedded is True
    assert load_codelist("Country").complete is False
    assert load_codelist("LoanRepaymentPeriod").complete is None  # the file does not say
    assert load_codelist("Version").items.keys() >= {"1.01", "2.03"}


def test_codelists_are_cached_and_immutable() -> None:
    sector = load_codelist("Sector")
    assert load_codelist("Sector") is sector
    with pytest.raises(dataclasses.FrozenInstanceError):
        sector.name = "Other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        sector.items["00000"] = sector["11110"]  # type: ignore[index]


@pytest.mark.parametrize("name", ["Nonexistent", "../codelists/Sector", "mapping", ""])
def test_unknown_names_are_refused(name: str) -> None:
    with pytest.raises(LookupError):
        load_codelist(name)


def test_mapping_names_the_codelist_of_each_path_with_its_condition() -> None:
    mappings = codelist_mappings()
    assert len(mappings) == 124
    assert {mapping.codelist for mapping in mappings} <= set(codelist_names())
    sector = [m for m in mappings if m.path == "//iati-activity/sector/@code"]
    assert {(m.codelist, m.condition) for m in sector} >= {
        ("Sector", "@vocabulary = '1' or not(@vocabulary)"),
        ("SectorCategory", "@vocabulary = '2'"),
    }
