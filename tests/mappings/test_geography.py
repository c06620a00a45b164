"""IATI locations resolve to Ecuador's provinces and cantons by code, then by name, with reasons."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from iati.elements.geography import Location
from iati.reader import read_activities, read_activity
from mappings.crosswalks import Resolution, Status, crosswalk
from mappings.geography import (
    ISO_CROSSWALK,
    NAME_CROSSWALK,
    NATIONAL,
    elsewhere,
    normalise,
    places,
)
from mappings.tables import Classification, table
from tests.support.samples import SHARED

TODAY = date(2024, 6, 30)


def locations(*snippets: str) -> list[Location]:
    """The locations of an activity in Ecuador made of the given `<location>` snippets."""
    xml = f"""<iati-activities version="2.03"><iati-activity>
      <iati-identifier>EC-TEST-1</iati-identifier>
      <recipient-country code="EC" percentage="100"/>
      {"".join(snippets)}
    </iati-activity></iati-activities>"""
    return read_activity(xml.encode()).locations


def named(name: str, extra: str = "") -> str:
    return f"<location><name><narrative>{name}</narrative></name>{extra}</location>"


def codes(resolutions: tuple[Resolution, ...]) -> list[str | None]:
    return [resolution.code for resolution in resolutions]


def total(resolutions: tuple[Resolution, ...]) -> Decimal:
    return sum((resolution.share for resolution in resolutions), Decimal(0))


def test_every_crosswalk_target_is_in_its_table() -> None:
    provinces, cantons = table(Classification.province), table(Classification.canton)
    assert {row.target for row in crosswalk(ISO_CROSSWALK)} <= {row.code for row in provinces}
    assert len(crosswalk(ISO_CROSSWALK)) == 24
    for row in crosswalk(NAME_CROSSWALK):
        level = row.key[1]
        assert level in ("province", "canton"), row.line
        if row.target is not None:
            assert row.target in (provinces if level == "province" else cantons), row.line


def test_an_iso_3166_2_code_gives_the_province_and_no_canton() -> None:
    found = locations('<location><administrative vocabulary="A4" level="1" code="EC-P"/>'
                      "</location>")
    provinces, cantons = places(found, on=TODAY)
    assert codes(provinces) == ["17"]
    assert provinces[0].status is Status.verified
    assert codes(cantons) == [None]
    assert cantons[0].reason == "province 17 known, canton not published"


def test_names_match_ignoring_accents_case_and_spacing() -> None:
    assert normalise("  santo   Domingo de los Tsáchilas ") == "SANTO DOMINGO DE LOS TSACHILAS"
    provinces, _ = places(locations(named("santo domingo de los tsachilas")), on=TODAY)
    assert codes(provinces) == ["23"]
    provinces, cantons = places(locations(named("Rumiñahui")), on=TODAY)
    assert (codes(provinces), codes(cantons)) == (["17"], ["1705"])


@pytest.mark.parametrize(("name", "province", "canton"), [
    ("Esmeraldas", "08", "0801"), ("Loja", "11", "1101"), ("Cañar", "03", "0303"),
    ("Santa Elena", "24", "2401"), ("Santo Domingo", "23", "2301"),
])
def test_an_ambiguous_name_is_the_canton_unless_level_1_is_given(
    name: str, province: str, canton: str
) -> None:
    provinces, cantons = places(locations(named(name)), on=TODAY)
    assert (codes(provinces), codes(cantons)) == ([province], [canton])
    assert cantons[0].status is Status.proposed
    for level_1 in ('<feature-designation code="ADM1"/>',
                    '<administrative vocabulary="G1" level="1" code="99"/>'):
        provinces, cantons = places(locations(named(name, level_1)), on=TODAY)
        assert (codes(provinces), codes(cantons)) == ([province], [None])
    provinces, cantons = places(locations(named(f"Provincia de {name}")), on=TODAY)
    assert (codes(provinces), codes(cantons)) == ([province], [None])


def test_pichincha_without_a_level_is_the_canton_of_manabi() -> None:
    provinces, cantons = places(locations(named("Pichincha")), on=TODAY)
    assert (codes(provinces), codes(cantons)) == (["13"], ["1311"])
    provinces, cantons = places(locations(named("Quito, Pichincha")), on=TODAY)
    assert (codes(provinces), codes(cantons)) == (["17"], ["1701"])


def test_a_name_two_cantons_share_is_not_guessed() -> None:
    provinces, cantons = places(locations(named("Olmedo")), on=TODAY)
    assert codes(provinces) == codes(cantons) == [None]
    assert "shared by cantons 1116, 1318" in (provinces[0].reason or "")
    provinces, _ = places(locations(named("Bolívar", '<feature-designation code="ADM1"/>')),
                          on=TODAY)
    assert codes(provinces) == ["02"]
    provinces, _ = places(locations(named("Baños")), on=TODAY)
    assert codes(provinces) == [None]
    assert "ambiguous" in (provinces[0].reason or "")


def test_la_concordia_takes_the_code_in_force_on_the_date() -> None:
    found = locations(named("La Concordia"))
    provinces, cantons = places(found, on=date(2019, 6, 30))
    assert (codes(provinces), codes(cantons)) == (["08"], ["0808"])
    provinces, cantons = places(found, on=date(2022, 6, 30))
    assert (codes(provinces), codes(cantons)) == (["23"], ["2302"])


def test_a_canton_named_against_the_province_of_the_code_is_not_taken() -> None:
    found = locations('<location><name><narrative>Guayaquil</narrative></name>'
                      '<administrative vocabulary="A4" code="EC-P"/></location>')
    provinces, cantons = places(found, on=TODAY)
    assert codes(provinces) == ["17"]
    assert codes(cantons) == [None]
    assert "0901" in (cantons[0].reason or "")


def test_unresolvable_locations_say_what_was_missing() -> None:
    found = locations(
        '<location><point srsName="http://www.opengis.net/def/crs/EPSG/0/4326">'
        "<pos>-1.0 -85.0</pos></point></location>",
        '<location><location-id vocabulary="G1" code="3652462"/>'
        '<administrative vocabulary="A3" level="1" code="ECU.18_1"/></location>',
        named("Atlantis"),
        "<location/>",
    )
    provinces, cantons = places(found, on=TODAY)
    reasons = [resolution.reason or "" for resolution in provinces]
    assert codes(provinces) == [None] * 4
    assert "coordinates -1.0 -85.0 fall in no province (at sea or abroad)" in reasons[0]
    assert "ECU.18_1 (vocabulary A3, level 1) not recognised" in reasons[1]
    assert "location-id 3652462 (vocabulary G1) not used" in reasons[1]
    assert "'Atlantis' matches no province or canton" in reasons[2]
    assert reasons[3] == "no administrative code, name, description or coordinates published"
    assert total(provinces) == total(cantons) == 100


def test_no_location_gives_one_unmapped_resolution_each() -> None:
    provinces, cantons = places([], on=TODAY)
    assert [(r.code, r.share, r.reason) for r in (*provinces, *cantons)] == [
        (None, Decimal(100), "no location published")] * 2
    abroad = locations('<location><administrative vocabulary="A4" level="0" code="CO"/>'
                       "</location>")
    provinces, _ = places(abroad, on=TODAY)
    assert provinces[0].reason == "no location in Ecuador published"


def test_locations_share_equally_and_shares_sum_to_exactly_100() -> None:
    found = locations(named("Cuenca"), named("Guayaquil"), named("Provincia Napo"))
    provinces, cantons = places(found, on=TODAY)
    assert codes(provinces) == ["01", "09", "15"]
    assert codes(cantons) == ["0101", "0901", None]
    assert total(provinces) == total(cantons) == Decimal(100)
    assert [r.share for r in provinces] == [Decimal("33.3333"), Decimal("33.3333"),
                                            Decimal("33.3334")]
    two_in_one = locations(named("Cuenca"), named("Gualaceo"))
    provinces, cantons = places(two_in_one, on=TODAY)
    assert set(codes(provinces)) == {"01"}  # one row per canton it came from
    assert [r.share for r in provinces] == [Decimal(50), Decimal(50)]
    assert total(provinces) == total(cantons) == 100


def sample_activities(name: str) -> dict[str, list[Location]]:
    path = SHARED / "iati" / "samples" / "real" / name
    if not path.exists():
        pytest.skip(f"reference sample {name} not available")
    return {
        record.model.identifier or "": record.model.locations
        for record in read_activities(path.read_bytes())
        if any(country.code == "EC" for country in record.model.recipient_countries)
    }


def test_real_ecuador_samples_resolve_by_their_names() -> None:
    idb = sample_activities("dportal-iadb-p3.xml")["XI-IATI-IADB-EC-L1269"]
    provinces, cantons = places(idb, on=TODAY)  # G1 code 18 is GeoNames', not INEC's
    assert (codes(provinces), codes(cantons)) == (["17"], [None])
    bmz = sample_activities("dportal-germany-bmz-p10.xml")["DE-1-202065092"]
    provinces, cantons = places(bmz, on=TODAY)
    assert (codes(provinces), codes(cantons)) == (["17"], ["1701"])
    eu = sample_activities("dportal-eu-intpa-p80.xml")
    assert codes(places(eu["XI-IATI-EC_INTPA-2018/403-002"], on=TODAY)[0]) == ["21"]
    assert codes(places(eu["XI-IATI-EC_INTPA-2018/403-089"], on=TODAY)[0]) == ["13"]
    country_only, _ = places(eu["XI-IATI-EC_INTPA-2018/39974/0"], on=TODAY)
    assert codes(country_only) == [None]
    assert "names only the country" in (country_only[0].reason or "")
    assert "its point stands for the country, not a province" in (country_only[0].reason or "")


def test_real_ecuador_activities_always_sum_to_100() -> None:
    for name in ("dportal-iadb-p3.xml", "dportal-eu-intpa-p80.xml",
                 "dportal-canada-idrc-denmark-p91.xml", "dportal-spain-aecid-p16.xml"):
        for found in sample_activities(name).values():
            provinces, cantons = places(found, on=TODAY)
            assert total(provinces) == total(cantons) == 100


@pytest.mark.parametrize(
    ("receiver", "province", "canton"),
    [
        ("GOBIERNO PROVINCIAL DE MANABÍ", "13", None),
        ("GOBIERNO DE LA PROVINCIA DE PICHINCHA", "17", None),  # not Pichincha canton
        ("Prefectura de Loja", "11", None),
        ("MUNICIPALIDAD DE QUITO", "17", "1701"),
        ("Cantón Daule", "09", "0906"),
        ("GAD Municipal de Loja", "11", "1101"),
        ("MUNICIPIO DE LOJA DE L A REPUBLICA DE ECUADOR", "11", "1101"),
        ("GOBIERNO AUTÓNOMO DESCENTRALIZADO DEL MUNICIPIO DE SAMBORONDÓN", "09", "0916"),
    ],
)
def test_a_gad_among_the_receivers_places_money_no_location_places(
    receiver: str, province: str, canton: str | None
) -> None:
    """Real executors' names (CAF's loans, which publish no location)."""
    found = elsewhere([receiver], None, on=TODAY)
    assert found is not None
    provinces, cantons = found
    assert codes(provinces) == [province]
    assert codes(cantons) == [canton]
    assert {r.status for r in provinces} == {Status.proposed}
    assert receiver in provinces[0].rule  # the rule that decided it is recorded
    if canton is None:
        assert "canton not published" in (cantons[0].reason or "")


def test_two_gads_share_equally_and_a_national_activity_is_nacional() -> None:
    provinces, cantons = elsewhere(
        ["MUNICIPALIDAD DE QUITO", "GOBIERNO PROVINCIAL DE MANABÍ"], None, on=TODAY) or ((), ())
    assert codes(provinces) == ["17", "13"]
    assert total(provinces) == total(cantons) == 100
    national = elsewhere(["MINISTERIO DE SALUD PÚBLICA"], "4", on=TODAY)
    assert national is not None
    assert [codes(level) for level in national] == [[NATIONAL], [NATIONAL]]
    assert national[0][0].rule == "activity-scope 4: national"
    assert elsewhere(["MINISTERIO DE SALUD PÚBLICA"], "2", on=TODAY) is None
    assert elsewhere(["Junta parroquial de Tumbaco"], None, on=TODAY) is None  # no parishes
