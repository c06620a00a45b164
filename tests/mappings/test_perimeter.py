"""The receiver's perimeter: who an amount goes to, and which public budget, if any, is theirs."""

from __future__ import annotations

from datetime import date

import pytest

from mappings.crosswalks import Status
from mappings.perimeter import Receiver, catalogue, entity, normalised, perimeter
from mappings.tables import Classification, table

DAY = date(2024, 6, 1)


def implementing(name: str | None, *, ref: str | None = None, type: str | None = None) -> Receiver:
    return Receiver(ref=ref, type=type, name=name, role="implementing")


def code_of(*receivers: Receiver) -> str | None:
    return perimeter(receivers, on=DAY).code


def test_names_are_compared_with_accents_case_punctuation_and_spacing_aside() -> None:
    spelt = "  MINISTERIO DE ECONOMíA   Y Finanzas (MEF)"
    assert normalised(spelt) == "ministerio de economia y finanzas"
    assert normalised("Cía. Ltda.") == "cia ltda"


@pytest.mark.parametrize("name", [
    "GOBIERNO PROVINCIAL DE MANABÍ", "Gobierno Autónomo Descentralizado Provincial de Manabí",
    "Prefectura del Guayas", "H. CONSEJO PROVINCIAL DE PICHINCHA", "Cantón Daule",
    "MUNICIPALIDAD DE QUITO", "Municipio del Distrito Metropolitano de Quito",
    "GAD MUNICIPAL DEL CANTÓN SAMBORONDÓN", "Gobierno Autónomo Descentralizado Municipal de Loja",
    "ILUSTRE MUNICIPALIDAD DE GUAYAQUIL", "Empresa Pública Municipal de Agua Potable de Manta",
    "GAD Municipal de La Concordia", "Gobierno Autónomo Descentralizado Municipal de La Maná",
    "Gobierno Autónomo Descentralizado Parroquial Rural de Tumbaco",
    "Junta Parroquial de Nanegalito",
])
def test_a_gads_name_puts_the_money_in_the_gad_perimeter(name: str) -> None:
    found = perimeter([implementing(name)], on=DAY)
    assert (found.code, found.status, found.reason) == ("gad", Status.proposed, None)
    why = found.rule.split(": ", 1)[1]  # after "implementing <name>"
    assert why.startswith(("a GAD's name, of ", "a parish GAD's name, of ",
                           "a municipal, metropolitan or provincial enterprise",
                           "name in the entities catalogue")), why


@pytest.mark.parametrize("name", ["Gobierno del Ecuador Oriental Inexistente",
                                  "Municipalidad de Springfield", "Cantón Narnia"])
def test_a_place_that_is_no_province_or_canton_is_not_taken_for_a_gad(name: str) -> None:
    found = perimeter([implementing(name)], on=DAY)
    assert found.code is None
    assert found.reason is not None
    assert found.reason.startswith("receiver unknown")


@pytest.mark.parametrize(("receiver", "why"), [
    (implementing("CARE International", type="21"), "type 21"),
    (implementing("Chemonics International Inc.", type="70"), "type 70"),
    (implementing("Fundación Esquel", type="60"), "type 60"),
    (implementing("Oficina de país", ref="XM-DAC-41114"), "ref XM-DAC-41114"),
    (implementing("Oficina de país", ref="41114"), "ref 41114"),  # a CRS channel code
    (implementing("PNUD"), "entities catalogue (PNUD)"),
    (implementing("ACNUR - Oficina del Alto Comisionad", ref="#"), "entities catalogue (ACNUR)"),
    (implementing("Fundación CRISFE", ref="EC000900000833"), "foundation's or association's"),
    (implementing("PROTOS", ref="0190428486001"), "RUC 0190428486001: a private company"),
    (implementing("Academy for Educational Development", ref="US-EIN-530201287"), "ref US-EIN"),
    (implementing("CONSTRUCTORA DEL PACIFICO S.A."), "company form"),
    (implementing("Servicios Andinos Cía. Ltda."), "company form"),
    (implementing("Empresa privada", ref="EC-RUC-1790012345001"), "a private company"),
])
def test_recognisably_non_public_receivers_are_off_budget(receiver: Receiver, why: str) -> None:
    found = perimeter([receiver], on=DAY)
    assert (found.code, found.status) == ("off-budget", Status.proposed)
    assert why in found.rule


def test_the_recipient_government_by_its_crs_channel_or_its_name_is_central() -> None:
    """The European Commission names Ecuador's government this way in budget support."""
    found = perimeter([Receiver("12000", None, "Recipient Government", "accountable")], on=DAY)
    assert (found.code, found.status) == ("central", Status.proposed)
    assert "CRS channel" in found.rule
    local = perimeter([implementing("Gobierno local", ref="12002")], on=DAY)
    assert local.code == "gad"


def test_a_placeholder_is_no_ref_and_no_name() -> None:
    for placeholder in ("N/A", "#", "nan", "-"):
        found = perimeter([implementing("Cantón Daule", ref=placeholder)], on=DAY)
        assert (found.code, found.reason) == ("gad", None), placeholder
    nameless = perimeter([implementing("nan")], on=DAY)
    assert nameless.code is None
    assert nameless.reason == "receiver unknown: nan"


@pytest.mark.parametrize(("name", "perimeter_code"), [
    ("Empresa Eléctrica Quito S.A.", None),  # the State's company: not taken for private
    ("Asociación de Municipalidades Ecuatorianas", "gad"),  # the GADs' own association
    ("Gobierno de Ecuador", "central"),
    ("Ministerio de Salud Pública, Ecuador", "central"),
])
def test_public_bodies_with_private_looking_names_are_not_off_budget(
    name: str, perimeter_code: str | None
) -> None:
    assert perimeter([implementing(name)], on=DAY).code == perimeter_code


def test_nothing_known_is_unmapped_for_the_review_list() -> None:
    found = perimeter([implementing("Comité de gestión")], on=DAY)
    assert (found.code, found.status) == (None, Status.unmapped)
    assert found.reason == "receiver unknown: Comité de gestión"
    none = perimeter([], on=DAY)
    assert none.code is None
    assert none.reason is not None
    assert "no receiver-org" in none.reason
    # A government type says nothing by itself: a foreign agency is type 10 too.
    agency = perimeter([implementing("Agencia de Cooperación", type="10")], on=DAY)
    assert agency.code is None


def test_receivers_in_different_perimeters_leave_the_amount_unmapped_naming_each() -> None:
    found = perimeter([implementing("Cantón Daule"), implementing("CARE", type="21")], on=DAY)
    assert found.code is None
    assert found.reason is not None
    assert "Cantón Daule → gad" in found.reason
    assert "CARE → off-budget" in found.reason
    same = perimeter([implementing("Cantón Daule"), implementing("Prefectura del Guayas")],
                     on=DAY)
    assert same.code == "gad"


def test_the_catalogue_names_only_perimeters_of_the_table_and_explains_every_row() -> None:
    entities = catalogue().entities
    assert len(entities) > 50
    perimeters = {code.code for code in table(Classification.perimeter)}
    for row in entities:
        assert row.perimeter in perimeters, row
        assert row.rationale, row
        assert row.source, row
        assert row.status in (Status.verified, Status.proposed), row
        assert row.ruc is None or (len(row.ruc) == 13 and row.ruc.isdigit()), row


def test_a_ruc_in_the_catalogue_is_verified_and_a_name_that_contradicts_it_is_named() -> None:
    cfn = "EC-RUC-1760003090001"  # Corporación Financiera Nacional's RUC
    found = perimeter([implementing("Corporación Financiera Nacional", ref=cfn)], on=DAY)
    assert (found.code, found.status, found.reason) == (
        "public-financial", Status.verified, None)
    clash = perimeter([implementing("Banco Pichincha C.A.", ref=cfn)], on=DAY)
    assert (clash.code, clash.status) == ("public-financial", Status.proposed)
    assert clash.reason is not None
    assert "off-budget" in clash.reason
    assert "Banco Pichincha" in clash.reason


MINISTRY = "Ministerio de Economía y Finanzas"


@pytest.mark.parametrize(("ref", "name"), [
    (None, "MINISTERIO DE ECONOMíA Y FINANZAS"),  # CAF's, entities as published
    (None, "MINISTERIO DE ECONOMIA Y FINANZAS"),
    (None, "Ministerio de Economía y Finanzas del Ecuador (MEF)"),
    (None, "MEF"),  # an acronym row, with the entity's official name
    ("EC-RUC-1760000900001", None),
    ("1760000900001", "Finance"),
])
def test_every_spelling_of_an_entity_is_the_one_entity_of_its_official_name(
    ref: str | None, name: str | None,
) -> None:
    found = entity(ref, name)
    assert found is not None
    assert (found.name, found.ruc, found.perimeter) == (MINISTRY, "1760000900001", "central")


@pytest.mark.parametrize(("ref", "name"), [
    ("PN-MIPPE", "MINISTERIO DE ECONOMIA Y FINANZAS"),  # Panama's, in the IDB's file
    (None, "PNUD"),  # an international organisation, not an Ecuadorian entity
    (None, "Fundación Esquel"),
])
def test_a_foreign_ref_or_an_international_name_is_no_ecuadorian_entity(
    ref: str | None, name: str,
) -> None:
    assert entity(ref, name) is None


def test_former_and_short_names_give_the_current_official_name() -> None:
    assert entity(None, "BANCO DEL ESTADO").name == "Banco de Desarrollo del Ecuador B.P."  # type: ignore[union-attr]
    assert entity("EC-MSP", None).name == "Ministerio de Salud Pública"  # type: ignore[union-attr]
    assert entity(None, "MUNICIPALIDAD DE QUITO").name == (  # type: ignore[union-attr]
        "Gobierno Autónomo Descentralizado del Distrito Metropolitano de Quito")
    official = {e.name for e in catalogue().entities if not e.official_name}
    assert all(e.official_name in official for e in catalogue().entities if e.official_name)
