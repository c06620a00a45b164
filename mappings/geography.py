"""Where an activity's IATI locations fall in Ecuador: INEC DPA provinces and cantons, with shares.

The rules, so that a reviewer can check every resolution:

- **Shares.** IATI locations carry no percentages, so the activity is split equally among
  its locations in Ecuador: each gets 100/n percent, cut to four decimals, and the last one
  takes what is left, so each tuple sums to exactly 100. Resolutions that land on the same
  code by the same rule are summed.
- **Which locations.** A location whose administrative code names another country (an
  ISO 3166-1 code under vocabulary A4 other than ``EC``, or an ISO 3166-2 code of another
  country) is left out of the split; every other location is taken to be in Ecuador.
- **Codes first.** An administrative code is recognised when it is an ISO 3166-2:EC
  subdivision code (``EC-P``, under vocabulary A4 or none): crosswalk ``geo-iso3166-2``
  gives the province. Any other code (GeoNames under G1, GAUL, GADM, OpenStreetMap) has no
  crosswalk and is reported as not recognised; GeoNames' own province codes are not INEC's
  (the IDB publishes Pichincha as G1 code ``18``, which is Tungurahua in INEC's table).
- **Then names.** The location's name, then its description, split at commas
  ("Ecuador, Provincia Sucumbios"), is compared with accents, case, punctuation and spacing
  ignored, against the INEC names in force on the date and the aliases of crosswalk
  ``geo-names``. "Provincia (de)", "Province (of)" or "Cantón" beside a name say its level.
- **Ambiguous names.** A name that is both a province and a canton (Esmeraldas, Loja,
  Cañar, Pichincha, …) is the province only when the location says it is a level-1 area
  (the word "Provincia"/"Province", feature-designation ``ADM1``, or an administrative
  element of level 1 and none deeper); otherwise it is the canton. In "canton, province"
  texts an ambiguous part is the province when another part is a canton of it. The level
  never turns a name into what it is not, and a name shared by two cantons (Olmedo) or
  reached by an ``unmapped`` alias is left unmapped.
- **A canton gives its province.** A location known only to its province gives its canton
  share as unmapped ("province known, canton not published").
- **Then coordinates.** A location that neither its codes nor its names place, but that
  has a point (``pos``, "latitude longitude" in WGS 84), gets the province whose boundary
  in `mappings.boundaries` holds the point (or lies within its 2 km margin), as
  ``proposed``: the boundaries are Natural Earth's 1:10m admin-1, simplified. A point in
  no province (at sea, abroad) is unmapped with the reason; so is the point of a location
  that names only the country (the EU puts Quito's coordinates on "Ecuador"), which stands
  for the country, not a province. Cantons are never placed from points: no canton
  boundaries under an acceptable licence ship with iati-ec. A ``pos`` that is not two
  numbers in range is a finding (`point_findings`) and is not used.
- **Not used.** Gazetteer ids (location-id) have no crosswalk; the reason says so.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum
from functools import cache
from types import MappingProxyType

from iati.elements.geography import Location
from mappings import boundaries
from mappings.amounts import Finding
from mappings.crosswalks import Resolution, Row, Status, crosswalk, unmapped
from mappings.perimeter import gad_place  # the entity rules live with the perimeter
from mappings.tables import Classification, Code, table

ISO_CROSSWALK = "geo-iso3166-2"
NAME_CROSSWALK = "geo-names"
RULE = "geography"
# The code of an amount that covers the whole country rather than some provinces.
NATIONAL = "nacional"
NATIONAL_SCOPE = "4"  # ActivityScope: national
_QUANTUM = Decimal("0.0001")
_ISO_3166_2 = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")
_COUNTRY = frozenset({"ECUADOR", "REPUBLICA DEL ECUADOR", "REPUBLIC OF ECUADOR"})
_NO_CANTONS = "cantons are not placed from coordinates: no canton boundaries ship with iati-ec"


class Level(StrEnum):
    province = "province"
    canton = "canton"


_PREFIXES = (
    ("PROVINCIA DEL ", Level.province), ("PROVINCIA DE ", Level.province),
    ("PROVINCIA ", Level.province), ("PROVINCE OF ", Level.province),
    ("PROVINCE ", Level.province), ("CANTON DE ", Level.canton), ("CANTON OF ", Level.canton),
    ("CANTON ", Level.canton),
)
_SUFFIXES = ((" PROVINCE", Level.province), (" PROVINCIA", Level.province),
             (" CANTON", Level.canton))
_CLASSIFICATION = {Level.province: Classification.province, Level.canton: Classification.canton}


@dataclass(frozen=True, slots=True)
class _Found:
    """A province or canton that a code or a name gave, and the rule that gave it."""

    level: Level
    code: str
    rule: str
    status: Status
    version: str


@dataclass(frozen=True, slots=True)
class _Place:
    """What one location resolved to; `reason` says why a level is missing."""

    province: _Found | None = None
    canton: _Found | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class _Reading:
    """The provinces and cantons one name could be, and its own level word (if any)."""

    text: str
    provinces: tuple[_Found, ...]
    cantons: tuple[_Found, ...]
    hint: Level | None
    refused: str | None = None  # an unmapped alias's rationale


def places(
    locations: Sequence[Location], *, on: date
) -> tuple[tuple[Resolution, ...], tuple[Resolution, ...]]:
    """(province resolutions, canton resolutions) of an activity's locations in Ecuador on `on`."""
    in_ecuador = [location for location in locations if not _abroad(location)]
    if not in_ecuador:
        reason = "no location in Ecuador published" if locations else "no location published"
        return (unmapped(reason, rule=RULE),), (unmapped(reason, rule=RULE),)
    placed = [_place(location, on) for location in in_ecuador]
    shares = _equal_shares(len(placed))
    pairs = list(zip(placed, shares, strict=True))
    provinces = [_resolution(place.province, place.reason, share) for place, share in pairs]
    cantons = [_resolution(place.canton, _canton_reason(place), share) for place, share in pairs]
    return _merge(provinces), _merge(cantons)


def elsewhere(
    receivers: Sequence[str], scope: str | None, *, on: date
) -> tuple[tuple[Resolution, ...], tuple[Resolution, ...]] | None:
    """(provinces, cantons) of an amount that no location places in Ecuador: the GADs
    among its `receivers` (names), shared equally, else the whole country (`NATIONAL`) for
    a national activity (activity-scope 4); None if neither says."""
    placed = {name: code for name in receivers if (code := gad_place(name, on)) is not None}
    found = list(placed.items())
    if not found:
        if (scope or "").strip() != NATIONAL_SCOPE:
            return None
        national = (Resolution(NATIONAL, Decimal(100), "activity-scope 4: national",
                               Status.proposed, ""),)
        return national, national
    provinces, cantons = [], []
    provinces_version = table(Classification.province).version
    for (name, code), share in zip(found, _equal_shares(len(found)), strict=True):
        rule = f"receiver {name}: the GAD of {code.name_es}"
        if len(code.code) == 2:
            provinces.append(Resolution(code.code, share, rule, Status.proposed,
                                        provinces_version))
            cantons.append(Resolution(None, share, RULE, Status.unmapped, "",
                                      f"province {code.code} known from a provincial "
                                      "government, canton not published"))
        else:
            province = code.attributes.get("province_code") or code.code[:2]
            provinces.append(Resolution(province, share, f"{rule}; canton {code.code} lies in "
                                        f"province {province}", Status.proposed,
                                        provinces_version))
            cantons.append(Resolution(code.code, share, rule, Status.proposed,
                                      table(Classification.canton).version))
    return _merge(provinces), _merge(cantons)


def normalise(name: str) -> str:
    """`name` without accents, case, punctuation or repeated spaces ("Cañar" → "CANAR")."""
    stripped = "".join(
        char for char in unicodedata.normalize("NFKD", name) if not unicodedata.combining(char)
    )
    return " ".join(re.sub(r"[^0-9A-Za-z]+", " ", stripped).upper().split())


def _equal_shares(count: int) -> list[Decimal]:
    exact = Decimal(100) / count
    part = exact.quantize(_QUANTUM, rounding=ROUND_DOWN)
    if part == exact:
        part = exact  # 100, 50, 25, 20, …: no needless decimals
    return [part] * (count - 1) + [Decimal(100) - part * (count - 1)]


def _resolution(found: _Found | None, reason: str | None, share: Decimal) -> Resolution:
    if found is None:
        return Resolution(None, share, RULE, Status.unmapped, "", reason)
    return Resolution(found.code, share, found.rule, found.status, found.version)


def _canton_reason(place: _Place) -> str | None:
    if place.province is not None and place.canton is None:
        known = f"province {place.province.code} known, canton not published"
        return f"{known} ({place.reason})" if place.reason else known
    return place.reason


def _merge(resolutions: Iterable[Resolution]) -> tuple[Resolution, ...]:
    merged: dict[tuple[object, ...], Resolution] = {}
    for found in resolutions:
        key = (found.code, found.rule, found.status, found.version, found.reason)
        if key in merged:
            before = merged[key]
            found = Resolution(found.code, before.share + found.share, found.rule,
                               found.status, found.version, found.reason)
        merged[key] = found
    return tuple(merged.values())


def _abroad(location: Location) -> bool:
    for administrative in location.administratives:
        code = (administrative.code or "").strip().upper()
        if administrative.vocabulary not in (None, "A4"):
            continue
        if len(code) == 2 and code.isalpha() and code != "EC":
            return True
        if _ISO_3166_2.match(code) and not code.startswith("EC-"):
            return True
    return False


def _place(location: Location, on: date) -> _Place:
    coded, notes = _coded_province(location, on)
    named, name_notes = _named(location, on, _hint(location))
    notes += name_notes
    if coded is None:
        if named is not None:
            return named
        pointed, note = _pointed(location)
        if pointed is not None:
            return pointed
        return _Place(reason=_unplaced(location, [*notes, note] if note else notes))
    if named is None or named.canton is None:
        return _Place(province=coded)
    if named.province is not None and named.province.code == coded.code:
        return _Place(province=coded, canton=named.canton)
    return _Place(province=coded, reason=(
        f"its name gives canton {named.canton.code}, outside province {coded.code} of its code"
    ))


def _coded_province(location: Location, on: date) -> tuple[_Found | None, list[str]]:
    walk, notes = crosswalk(ISO_CROSSWALK), list[str]()
    for administrative in location.administratives:
        code = (administrative.code or "").strip().upper()
        vocabulary = administrative.vocabulary
        if vocabulary in (None, "A4") and code == "EC":
            continue  # the country itself
        rows = walk.lookup(code, on=on) if vocabulary in (None, "A4") else ()
        for row in rows:
            if row.target is not None:
                rule = f"crosswalk {walk.name} {code} ({row.status})"
                return _Found(Level.province, row.target, rule, row.status, walk.version), notes
        notes.append(
            f"administrative code {code or '(empty)'} (vocabulary {vocabulary or 'none'}, "
            f"level {administrative.level}) not recognised"
        )
    return None, notes


def _hint(location: Location) -> Level | None:
    """The level a location says it is: feature-designation ADM1/ADM2, else its deepest level."""
    designation = (location.feature_designation.code or "") if location.feature_designation else ""
    if designation.upper() in ("ADM1", "ADM2"):
        return Level.province if designation.upper() == "ADM1" else Level.canton
    levels = [a.level for a in location.administratives if a.level is not None and a.level > 0]
    if not levels:
        return None
    return Level.province if max(levels) == 1 else Level.canton


def _named(location: Location, on: date, hint: Level | None) -> tuple[_Place | None, list[str]]:
    notes: list[str] = []
    for field, narratives in (("name", location.name), ("description", location.description)):
        for narrative in narratives.narratives if narratives else ():
            text = (narrative.text or "").strip()
            if not text:
                continue
            place, note = _read_text(text, on, hint)
            if place is not None:
                return place, notes
            notes.append(f"{field} {text!r} {note}")
    return None, notes


def _read_text(text: str, on: date, hint: Level | None) -> tuple[_Place | None, str]:
    parts = [normalise(part) for part in text.split(",")]
    readings = [_read(part, on) for part in parts if part and part not in _COUNTRY]
    if not readings:
        return None, "names only the country"
    chosen: list[_Found] = []
    anchors = {c.code[:2] for r in readings if not r.provinces for c in r.cantons}
    for reading in readings:
        found = _choose(reading, hint, anchors)
        if isinstance(found, str):
            return None, found
        chosen.extend(found)
    return _combine(chosen, on)


def _read(part: str, on: date) -> _Reading:
    name, hint = part, None
    for prefix, level in _PREFIXES:
        if name.startswith(prefix):
            name, hint = name[len(prefix):], level
            break
    for suffix, level in _SUFFIXES:
        if hint is None and name.endswith(suffix):
            name, hint = name[: -len(suffix)], level
    provinces, refused_p = _candidates(name, Level.province, on)
    cantons, refused_c = _candidates(name, Level.canton, on)
    return _Reading(name, provinces, cantons, hint, refused_p or refused_c)


def _choose(reading: _Reading, hint: Level | None, anchors: set[str]) -> list[_Found] | str:
    """The reading's place, or why there is none (the module docstring's ambiguity rule)."""
    provinces, cantons = reading.provinces, reading.cantons
    if not provinces and not cantons:
        return f"is ambiguous: {reading.refused}" if reading.refused else (
            f"matches no province or canton ({reading.text})")
    level = reading.hint or hint
    if provinces and cantons:
        if level is Level.province or provinces[0].code in anchors:
            why = "a province and a canton; read as the province (level 1 given)"
            return [_decided(provinces[0], why, Status.verified)]
        why = "a province and a canton; read as the canton (no level 1 given)"
        if level is not Level.canton:
            cantons = tuple(_decided(c, why, Status.proposed) for c in cantons)
    if not cantons:
        return list(provinces)
    if len(cantons) > 1:
        return f"is shared by cantons {', '.join(c.code for c in cantons)}"
    return list(cantons)


def _decided(found: _Found, why: str, status: Status) -> _Found:
    weakest = Status.proposed if Status.proposed in (found.status, status) else status
    return _Found(found.level, found.code, f"{found.rule}; {why}", weakest, found.version)


def _combine(chosen: list[_Found], on: date) -> tuple[_Place | None, str]:
    cantons = {found.code: found for found in chosen if found.level is Level.canton}
    provinces = {found.code: found for found in chosen if found.level is Level.province}
    for found in cantons.values():
        implied = _province_of(found, on)
        provinces.setdefault(implied.code, implied)
    if not provinces:
        return None, "matches no province or canton"
    if len(provinces) > 1 or len(cantons) > 1:
        return None, f"names several places ({', '.join([*provinces, *cantons])})"
    province, canton = next(iter(provinces.values())), next(iter(cantons.values()), None)
    return _Place(province=province, canton=canton), ""


def _province_of(canton: _Found, on: date) -> _Found:
    cantons = table(Classification.canton)
    row = cantons.get(canton.code, on)
    code = row.attributes["province_code"] if row else canton.code[:2]
    rule = f"{canton.rule}; canton {canton.code} lies in province {code}"
    return _Found(Level.province, code, rule, canton.status, canton.version)


def _candidates(name: str, level: Level, on: date) -> tuple[tuple[_Found, ...], str | None]:
    """The places of `level` called `name` on `on`: INEC names first, then aliases."""
    found: dict[str, _Found] = {}
    rows = table(_CLASSIFICATION[level])
    for row in _official_names(level).get(name, ()):
        if row.in_force(on):
            rule = f"name {name} = {level} {row.code} {row.name_es} (table)"
            found.setdefault(row.code, _Found(level, row.code, rule, Status.verified, rows.version))
    walk, refused = crosswalk(NAME_CROSSWALK), None
    for alias in _aliases().get((name, level), ()):
        key = "/".join(alias.key)
        if alias.target is None:
            refused = alias.rationale
        elif alias.in_force(on) and rows.get(alias.target, on) is not None:
            rule = f"crosswalk {walk.name} {key} ({alias.status})"
            found.setdefault(alias.target,
                             _Found(level, alias.target, rule, alias.status, walk.version))
    return tuple(found.values()), (None if found else refused)


@cache
def _official_names(level: Level) -> Mapping[str, tuple[Code, ...]]:
    index: dict[str, list[Code]] = {}
    for row in table(_CLASSIFICATION[level]):
        index.setdefault(normalise(row.name_es), []).append(row)
    return MappingProxyType({name: tuple(rows) for name, rows in index.items()})


def _aliases() -> Mapping[tuple[str, str], tuple[Row, ...]]:
    return _alias_index(crosswalk(NAME_CROSSWALK).version)


@cache
def _alias_index(version: str) -> Mapping[tuple[str, str], tuple[Row, ...]]:
    """The aliases of the names crosswalk of `version` (the one in effect), by name."""
    index: dict[tuple[str, str], list[Row]] = {}
    for row in crosswalk(NAME_CROSSWALK):
        name, level = row.key
        index.setdefault((normalise(name), level), []).append(row)
    return MappingProxyType({key: tuple(rows) for key, rows in index.items()})


def _unplaced(location: Location, notes: list[str]) -> str:
    """Why a location gave no province: what it published, and why each part did not help."""
    for location_id in location.location_ids:
        notes.append(
            f"location-id {location_id.code} (vocabulary {location_id.vocabulary or 'none'}) "
            "not used: no gazetteer crosswalk"
        )
    if not notes:
        return "no administrative code, name, description or coordinates published"
    return "; ".join(notes)


def point_findings(locations: Sequence[Location]) -> tuple[Finding, ...]:
    """A finding for each location whose ``pos`` is not "latitude longitude" in range."""
    return tuple(
        Finding("mapping.invalid-point",
                f"The location's point {_pos(location)!r} is not \"latitude longitude\" in "
                "decimal degrees (latitude -90 to 90, longitude -180 to 180); it is not used.",
                f"location[{index}]/point/pos")
        for index, location in enumerate(locations, start=1)
        if _pos(location) and boundaries.parse_pos(_pos(location)) is None
    )


def _pos(location: Location) -> str:
    return (location.point.pos.text or "").strip() if location.point and location.point.pos else ""


def _pointed(location: Location) -> tuple[_Place | None, str | None]:
    """The province of the location's point (or why there is none, None: no point)."""
    pos = _pos(location)
    if not pos:
        return None, None
    srs = (location.point.srs_name or "") if location.point else ""
    if srs and "4326" not in srs:
        return None, f"coordinates {pos} not used: srsName {srs} is not WGS 84 (EPSG:4326)"
    if _country_wide(location):
        return None, (f"coordinates {pos} not used: the location names only the country, "
                      "so its point stands for the country, not a province")
    coordinates = boundaries.parse_pos(pos)
    if coordinates is None:
        return None, f"coordinates {pos!r} not used: not \"latitude longitude\" in range"
    found = boundaries.boundaries()
    placement = boundaries.locate(*coordinates)
    if placement is None:
        return None, f"coordinates {pos} fall in no province (at sea or abroad)"
    rule = f"coordinates {pos} in boundary ec-provinces {found.version} (Natural Earth admin-1)"
    if placement.distance_km:
        rule += f", {placement.distance_km:.1f} km outside its drawn edge"
    province = _Found(Level.province, placement.code, rule, Status.proposed, found.version)
    return _Place(province=province, reason=_NO_CANTONS), None


def _country_wide(location: Location) -> bool:
    """Whether the location says it is the whole country (its point is then the country's)."""
    designation = (location.feature_designation.code or "").upper() if (
        location.feature_designation) else ""
    if designation.startswith("PCL") or designation == "ADM0":
        return True
    parts = [normalise(part)
             for field in (location.name, location.description) if field
             for narrative in field.narratives
             for part in (narrative.text or "").split(",")]
    named = [part for part in parts if part]
    return bool(named) and all(part in _COUNTRY for part in named)
