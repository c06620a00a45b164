"""Income ítems and fuentes follow reviewed crosswalks that cover every IATI code in use."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from iati.codelists import load_codelist
from mappings.crosswalks import Status, crosswalk
from mappings.finance import NO_FLOW_TYPE, fuente, income_item, instrument
from mappings.tables import Classification, table

DAY = date(2024, 6, 1)
GRANT, LOAN = "701", "202"  # fuentes: Asistencia Técnica y Donaciones, Préstamos Externos
EXTERNAL_SUBGROUPS = ("1803", "2803", "3603")
INSTRUMENT_WALK = "finance-category-instrument"
FINANCE_WALKS = (
    INSTRUMENT_WALK, "finance-type-fuente", "flow-type-fuente", "aid-type-income-naturaleza",
    "finance-income-subgroup", "organisation-type-income-item",
)


def active_codes(codelist: str) -> set[str]:
    return {item.code for item in load_codelist(codelist) if not item.withdrawn}


def first_key_column(name: str) -> set[str]:
    return {row.key[0] for row in crosswalk(name)}


@pytest.mark.parametrize(("codelist", "name"), [
    ("FinanceType", "finance-type-fuente"),
    ("FlowType", "flow-type-fuente"),
    ("AidType", "aid-type-income-naturaleza"),
    ("OrganisationType", "organisation-type-income-item"),
])
def test_every_code_in_use_has_a_row(codelist: str, name: str) -> None:
    assert active_codes(codelist) - first_key_column(name) == set()


def test_every_organisation_type_has_a_row_for_each_external_subgroup() -> None:
    keys = crosswalk("organisation-type-income-item").keys()
    for code in active_codes("OrganisationType"):
        assert [(code, subgroup) in keys for subgroup in EXTERNAL_SUBGROUPS] == [True] * 3, code


@pytest.mark.parametrize("name", FINANCE_WALKS)
def test_a_key_has_one_row_and_rows_explain_themselves(name: str) -> None:
    walk = crosswalk(name)
    assert len(walk.keys()) == len(walk)
    for row in walk:
        assert row.rationale, (name, row.key)
        assert row.status is not Status.verified or row.source, (name, row.key)


@pytest.mark.parametrize(("name", "classification", "level"), [
    ("finance-type-fuente", Classification.fuente, None),
    ("flow-type-fuente", Classification.fuente, None),
    ("aid-type-income-naturaleza", Classification.income_item, "1"),
    ("finance-income-subgroup", Classification.income_item, "3"),
    ("organisation-type-income-item", Classification.income_item, "4"),
])
def test_every_target_is_a_code_of_its_table_at_the_right_level(
    name: str, classification: Classification, level: str | None
) -> None:
    codes = table(classification)
    for row in crosswalk(name):
        if row.target is None:
            continue
        found = codes.get(row.target, DAY)
        assert found is not None, (name, row.key, row.target)
        assert level is None or found.level == level, (name, row.key, row.target)


def test_ecuadorian_codes_in_keys_are_in_their_tables() -> None:
    fuentes, income = table(Classification.fuente), table(Classification.income_item)
    assert {row.key[1] for row in crosswalk("flow-type-fuente")} - {"*"} <= {
        row.code for row in fuentes
    }
    for row in crosswalk("finance-income-subgroup"):
        fuente_code, naturaleza = row.key
        assert fuente_code in fuentes
        found = income.get(naturaleza, DAY)
        assert naturaleza == "*" or (found is not None and found.level == "1"), row.key


def test_an_item_is_in_the_subgroup_of_its_key() -> None:
    income = table(Classification.income_item)
    for row in crosswalk("organisation-type-income-item"):
        item = income.get(row.target, DAY) if row.target else None
        assert row.target is None or (item is not None and item.parent == row.key[1]), row.key


# The donor-type suffixes of the classifier's subgroups 1803, 2803 and 3603.
MULTILATERAL, GOVERNMENT, PRIVATE_FINANCIAL, PRIVATE_NON_FINANCIAL = "01", "02", "03", "04"


@pytest.mark.parametrize(("organisation_type", "suffix"), [
    ("40", MULTILATERAL), ("10", GOVERNMENT), ("11", GOVERNMENT), ("15", GOVERNMENT),
    ("21", PRIVATE_NON_FINANCIAL), ("22", PRIVATE_NON_FINANCIAL), ("60", PRIVATE_NON_FINANCIAL),
])
def test_grants_take_the_suffix_of_the_donors_type(organisation_type: str, suffix: str) -> None:
    walk = crosswalk("organisation-type-income-item")
    for subgroup in ("1803", "2803"):
        assert [row.target for row in walk.lookup(organisation_type, subgroup)] == [
            subgroup + suffix
        ]


def test_grants_and_loans_go_to_their_fuentes() -> None:
    walk = crosswalk("finance-type-fuente")
    assert [row.target for row in walk.lookup("110")] == [GRANT]
    assert [row.target for row in walk.lookup("421")] == [LOAN]
    for code in ("1", "510", "610", "1100"):  # non-flow, equity, debt relief, guarantee
        assert [row.status for row in walk.lookup(code)] == [Status.unmapped]


def test_a_multilaterals_grant_for_a_project_is_a_capital_donation() -> None:
    found = income_item(
        finance_type="110", flow_type="10", aid_types=[("1", "C01")],
        organisation_type="40", on=DAY,
    )
    assert (found.code, found.share, found.status) == ("280301", Decimal(100), Status.proposed)
    assert all(name in found.rule for name in FINANCE_WALKS if name != INSTRUMENT_WALK)


def test_a_governments_loan_is_external_financing_from_a_government() -> None:
    found = income_item(
        finance_type="421", flow_type="10", aid_types=[("1", "C01")],
        organisation_type="10", on=DAY,
    )
    assert found.code == "360302"
    assert fuente(finance_type="421", flow_type="10", on=DAY).code == LOAN


def test_a_loan_needs_no_aid_type() -> None:
    found = income_item(
        finance_type="421", flow_type="21", aid_types=[], organisation_type="40", on=DAY
    )
    assert found.code == "360301"
    assert "aid-type-income-naturaleza" not in found.rule


def test_technical_assistance_and_budget_support_are_current() -> None:
    for aid_type in ("D02", "A01"):
        found = income_item(
            finance_type="110", flow_type="10", aid_types=[("1", aid_type)],
            organisation_type="10", on=DAY,
        )
        assert found.code == "180302", aid_type


def test_a_project_with_technical_assistance_is_capital() -> None:
    found = income_item(
        finance_type="110", flow_type="10", aid_types=[("1", "D02"), ("1", "C01")],
        organisation_type="21", on=DAY,
    )
    assert found.code == "280304"
    assert "aid-type-income-naturaleza C01" in found.rule
    assert "aid-type-income-naturaleza D02" not in found.rule


def test_aid_types_that_map_to_nothing_give_way_and_other_vocabularies_are_ignored() -> None:
    found = income_item(
        finance_type="110", flow_type="10",
        aid_types=[("2", "1"), ("1", "G01"), ("1", "D01")], organisation_type="40", on=DAY,
    )
    assert found.code == "180301"


def test_a_private_lender_at_market_terms_is_the_private_financial_sector() -> None:
    found = income_item(
        finance_type="421", flow_type="37", aid_types=[], organisation_type="70", on=DAY
    )
    assert found.code == "360303"


@pytest.mark.parametrize(("given", "field"), [
    ({"finance_type": None}, "finance-type"),
    ({"organisation_type": ""}, "reporting-org/@type"),
    ({"aid_types": []}, "aid-type"),
    ({"aid_types": [("2", "1")]}, "aid-type"),
])
def test_a_missing_input_is_unmapped_saying_what_to_publish(
    given: dict[str, object], field: str
) -> None:
    inputs: dict[str, object] = {
        "finance_type": "110", "flow_type": "10", "aid_types": [("1", "C01")],
        "organisation_type": "40", **given,
    }
    found = income_item(**inputs, on=DAY)  # type: ignore[arg-type]
    assert (found.code, found.status, found.share) == (None, Status.unmapped, Decimal(100))
    assert found.reason is not None
    assert field in found.reason


def test_fuente_names_the_missing_finance_type() -> None:
    found = fuente(finance_type=None, flow_type=None, on=DAY)
    assert found.code is None
    assert found.reason is not None
    assert "finance-type" in found.reason


def test_a_lender_that_publishes_no_flow_type_still_maps_and_says_it_was_not_checked() -> None:
    """A development bank's loans carry finance type 421 and no flow type at all."""
    by_fuente = fuente(finance_type="421", flow_type=None, on=DAY)
    item = income_item(finance_type="421", flow_type=None, aid_types=[],
                       organisation_type="40", on=DAY)
    assert (by_fuente.code, item.code) == (LOAN, "360301")
    assert NO_FLOW_TYPE in by_fuente.rule
    assert NO_FLOW_TYPE in item.rule
    with_flow = fuente(finance_type="421", flow_type="10", on=DAY)
    assert with_flow.code == LOAN
    assert NO_FLOW_TYPE not in with_flow.rule
    # A flow type, when given, still rules money out of scope.
    assert fuente(finance_type="421", flow_type="36", on=DAY).code is None


@pytest.mark.parametrize(("finance_type", "expected"), [
    ("110", "grant"), ("210", "grant"), ("310", "grant"),
    ("421", "loan"), ("422", "loan"), ("423", "loan"), ("410", "loan"),
    ("431", "other"), ("432", "other"), ("510", "equity"), ("520", "equity"),
    ("610", "debt-relief"), ("621", "debt-relief"), ("1100", "guarantee"),
])
def test_the_instrument_comes_from_the_finance_types_category(
    finance_type: str, expected: str
) -> None:
    found = instrument(finance_type=finance_type, on=DAY)
    category = load_codelist("FinanceType")[finance_type].category
    assert (found.code, found.status) == (expected, Status.proposed)
    assert f"finance-category-instrument {category}" in found.rule


def test_every_finance_type_category_has_an_instrument_row_and_non_flows_none() -> None:
    categories = {item.category for item in load_codelist("FinanceType")}
    assert categories - first_key_column("finance-category-instrument") == set()
    for code in ("1", "2", "3", "4"):  # GNI, population: statistics, not money
        found = instrument(finance_type=code, on=DAY)
        assert (found.code, found.status) == (None, Status.unmapped)
        assert found.reason
    missing = instrument(finance_type=None, on=DAY)
    assert missing.code is None
    assert missing.reason is not None
    assert "finance-type" in missing.reason
    unknown = instrument(finance_type="999", on=DAY)
    assert unknown.code is None
    assert unknown.reason is not None
    assert "999" in unknown.reason


@pytest.mark.parametrize(("finance_type", "flow_type", "aid_type", "crosswalk_name"), [
    ("110", "40", "C01", "flow-type-fuente"),  # a non-flow
    ("510", "10", "C01", "finance-type-fuente"),  # equity
    ("110", "10", "F01", "aid-type-income-naturaleza"),  # debt relief
    ("110", "10", "B02", "aid-type-income-naturaleza"),  # core support to a multilateral
    ("999", "10", "C01", "finance-type-fuente"),  # no such code
])
def test_out_of_scope_money_is_unmapped_with_the_rows_reason(
    finance_type: str, flow_type: str, aid_type: str, crosswalk_name: str
) -> None:
    found = income_item(
        finance_type=finance_type, flow_type=flow_type, aid_types=[("1", aid_type)],
        organisation_type="40", on=DAY,
    )
    assert (found.code, found.status) == (None, Status.unmapped)
    assert found.reason
    assert crosswalk_name in found.rule


def test_an_ecuadorian_ngo_is_not_the_external_sector() -> None:
    found = income_item(
        finance_type="110", flow_type="10", aid_types=[("1", "C01")],
        organisation_type="24", on=DAY,
    )
    assert found.code is None
    assert found.reason is not None
    assert "external sector" in found.reason


def test_income_item_and_fuente_agree_for_every_finance_and_flow_type() -> None:
    subgroups = {GRANT: ("1803", "2803"), LOAN: ("3603",)}
    income = table(Classification.income_item)
    for finance_type in active_codes("FinanceType"):
        for flow_type in active_codes("FlowType"):
            by_fuente = fuente(finance_type=finance_type, flow_type=flow_type, on=DAY)
            found = income_item(
                finance_type=finance_type, flow_type=flow_type,
                aid_types=[("1", "C01"), ("1", "D02")], organisation_type="10", on=DAY,
            )
            assert (by_fuente.code is None) == (found.code is None), (finance_type, flow_type)
            if found.code is None:
                assert found.reason, (finance_type, flow_type)
                continue
            assert found.code[:4] in subgroups[by_fuente.code or ""]
            assert found.code.endswith(GOVERNMENT)
            assert income.get(found.code, DAY) is not None
