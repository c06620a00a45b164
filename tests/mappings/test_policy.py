"""Orientaciones del gasto follow the DAC policy markers, with shares summing to 100."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from itertools import combinations, product

import pytest

from iati.codelists import load_codelist
from mappings.crosswalks import Status, crosswalk
from mappings.policy import orientaciones
from mappings.tables import Classification, table

DAY = date(2024, 6, 1)
WALK = "policy-marker-orientacion"
GENDER, ENVIRONMENT, BIODIVERSITY, MITIGATION, ADAPTATION, DISABILITY = (
    "1", "2", "5", "6", "7", "11"
)
NOT_TARGETED, SIGNIFICANT, PRINCIPAL = "0", "1", "2"
MARKERS = sorted(item.code for item in load_codelist("PolicyMarker") if not item.withdrawn)


def shares(markers: list[tuple[str, str, str | None]]) -> dict[str | None, Decimal]:
    return {found.code: found.share for found in orientaciones(markers, on=DAY)}


def test_every_marker_and_no_marker_have_rows() -> None:
    keys = {row.key[0] for row in crosswalk(WALK)}
    assert set(MARKERS) | {"none"} <= keys


def test_every_target_is_in_the_orientacion_table_and_keys_split_to_100() -> None:
    catalogue = table(Classification.orientacion)
    split: dict[str, Decimal] = defaultdict(Decimal)
    for row in crosswalk(WALK):
        assert row.rationale
        if row.target is not None:
            assert catalogue.get(row.target, DAY) is not None, row.target
            split[row.key[0]] += row.share if row.share is not None else Decimal(100)
    assert all(total == 100 for total in split.values()), split


def test_markers_land_in_the_matching_policy_group() -> None:
    walk = crosswalk(WALK)

    def targets(code: str) -> list[str | None]:
        return [row.target for row in walk.lookup(code)]

    assert targets(GENDER) == ["01.01"]  # Género
    assert targets(DISABILITY) == ["01.02"]  # Discapacidades
    assert targets(BIODIVERSITY) == ["02.07"]  # patrimonio natural y biodiversidad
    for climate in (MITIGATION, ADAPTATION):  # aire, clima y capa de ozono
        assert all((target or "").startswith("02.01") for target in targets(climate))
    assert all((target or "").startswith("02") for target in targets(ENVIRONMENT))
    assert targets("none") == ["99"]


def test_gender_principal_before_climate_significant() -> None:
    assert shares([("1", GENDER, PRINCIPAL), ("1", MITIGATION, SIGNIFICANT)]) == {
        "01.01": Decimal(100)
    }


def test_objectives_of_the_same_rank_share_equally() -> None:
    found = shares([("1", GENDER, SIGNIFICANT), ("1", DISABILITY, SIGNIFICANT)])
    assert found == {"01.01": Decimal(50), "01.02": Decimal(50)}


def test_mitigation_and_adaptation_lead_to_one_orientacion_counted_once() -> None:
    found = shares([
        ("1", GENDER, PRINCIPAL), ("1", MITIGATION, PRINCIPAL), ("1", ADAPTATION, PRINCIPAL)
    ])
    assert found["01.01"] == Decimal(50)
    assert sum(found.values()) == 100


def test_thirds_round_to_hundredths_and_still_sum_to_100() -> None:
    found = shares([
        ("1", GENDER, PRINCIPAL), ("1", DISABILITY, PRINCIPAL), ("1", BIODIVERSITY, PRINCIPAL)
    ])
    assert sorted(found.values()) == [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]


def test_no_marker_is_ninguno() -> None:
    assert shares([]) == {"99": Decimal(100)}


def test_not_targeted_maps_to_nothing() -> None:
    assert shares([("1", GENDER, NOT_TARGETED)]) == {"99": Decimal(100)}
    assert shares([("1", GENDER, NOT_TARGETED), ("1", DISABILITY, SIGNIFICANT)]) == {
        "01.02": Decimal(100)
    }


def test_other_vocabularies_and_unmapped_markers_are_passed_over() -> None:
    assert shares([("99", GENDER, PRINCIPAL)]) == {"99": Decimal(100)}
    only_trade = orientaciones([("1", "4", PRINCIPAL)], on=DAY)
    assert [(found.code, found.share) for found in only_trade] == [("99", Decimal(100))]
    assert f"{WALK} 4 (unmapped)" in only_trade[0].rule
    assert shares([("1", "4", PRINCIPAL), ("1", GENDER, SIGNIFICANT)]) == {
        "01.01": Decimal(100)
    }


@pytest.mark.parametrize("significance", [None, "", "9"])
def test_a_marker_without_a_valid_significance_is_unmapped_saying_so(
    significance: str | None,
) -> None:
    (found,) = orientaciones([("1", GENDER, significance)], on=DAY)
    assert (found.code, found.status, found.share) == (None, Status.unmapped, Decimal(100))
    assert found.reason is not None
    assert "significance" in found.reason


def test_a_marker_with_a_significance_decides_over_one_without() -> None:
    assert shares([("1", GENDER, None), ("1", DISABILITY, SIGNIFICANT)]) == {
        "01.02": Decimal(100)
    }


def test_each_resolution_names_the_rows_that_decided_it() -> None:
    for found in orientaciones([("1", MITIGATION, SIGNIFICANT), ("1", ADAPTATION, "1")], on=DAY):
        assert f"{WALK} {MITIGATION} (proposed)" in found.rule
        assert f"{WALK} {ADAPTATION} (proposed)" in found.rule


def test_shares_always_sum_to_exactly_100() -> None:
    significances = (NOT_TARGETED, SIGNIFICANT, PRINCIPAL, "3", "4")
    for size in (1, 2, 3):
        for codes in combinations(MARKERS, size):
            for ranks in product(significances, repeat=size):
                markers = [("1", code, rank) for code, rank in zip(codes, ranks, strict=True)]
                found = orientaciones(markers, on=DAY)
                assert sum(part.share for part in found) == 100, markers
                assert all(part.share > 0 for part in found), markers
                assert all(part.code or part.reason for part in found), markers


def test_a_publishers_own_marker_counts_as_the_dac_marker_its_row_names() -> None:
    """ADB publishes its own markers (vocabulary 99, "Effective gender mainstreaming (EGM)"
    in its real files); its row makes it the DAC gender marker, for ADB only. A marker
    without a row counts for nothing and names its key."""
    on = date(2024, 6, 30)
    adb = "XM-DAC-46004"
    [gender] = orientaciones([("99", "Effective gender mainstreaming (EGM)", "2")],
                             on=on, publisher=adb)
    [dac] = orientaciones([("1", "1", "2")], on=on)
    assert (gender.code, gender.share) == (dac.code, dac.share)
    assert gender.status is Status.proposed
    assert f"publisher-policy-marker {adb}/99/Effective gender mainstreaming (EGM)" in gender.rule
    [other] = orientaciones([("99", "Effective gender mainstreaming (EGM)", "2")],
                            on=on, publisher="XM-DAC-99999")
    [ninguno] = orientaciones([], on=on)
    assert other.code == ninguno.code
    assert "XM-DAC-99999/99/Effective gender mainstreaming (EGM) (no row)" in other.rule
    [unmapped_theme] = orientaciones([("99", "Inclusive economic growth", "1")],
                                     on=on, publisher=adb)
    assert unmapped_theme.code == ninguno.code  # its row says no DAC marker fits
