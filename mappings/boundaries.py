"""Ecuador's province boundaries: which province a point lies in, and an SVG map of them.

The boundaries are `data/ec-provinces.geojson`: Natural Earth's 1:10m admin-1 provinces
(public domain), simplified to about 110 m and keyed by INEC DPA code; SOURCES.md and
`mappings/tools/build_provinces.py` say how the file was made. At that scale coasts and
borders are drawn to a kilometre or two (Guayaquil and Esmeraldas fall just outside
them), so a point outside every province but within `NEAR_KM` of one is taken as the
nearest, and the placement says so; further out (sea, abroad) it is in none. A province
found from coordinates is therefore only ever `proposed`. Natural Earth has no polygon
for the "zonas no delimitadas" (90): their ground lies within neighbouring provinces here.

The map is equirectangular, x scaled by the cosine of the mainland's central latitude;
the Galápagos (about 1,000 km offshore) are moved east next to the coast and framed as
an inset, so that the mainland fills the picture.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from mappings.tables import file_version

BOUNDARY_FILE = Path(__file__).resolve().parent / "data" / "ec-provinces.geojson"
GALAPAGOS = "20"
GALAPAGOS_SHIFT = 7.6  # degrees east: the islands' eastern tip lands 0.6° off the mainland
_MAP_LATITUDE = -1.5  # the mainland's central latitude, for the x scale
_MARGIN = 0.02  # of the picture, on each side
# Beyond the scale's error on the coast (Guayaquil 1.2 km, Esmeraldas 0.8 km outside) and
# short of the nearest foreign towns (Ipiales, Colombia, is 3.9 km from Carchi).
NEAR_KM = 2.0
_KM_PER_DEGREE = 111.32

Ring = tuple[tuple[float, float], ...]
Polygon = tuple[Ring, ...]  # outer ring, then holes
Projection = Callable[[float, float, str], tuple[float, float]]


@dataclass(frozen=True, slots=True)
class Province:
    """One province's boundary: its polygons (islands apart) and their bounding box."""

    code: str
    name: str
    polygons: tuple[Polygon, ...]
    box: tuple[float, float, float, float]  # west, south, east, north

    def contains(self, longitude: float, latitude: float) -> bool:
        west, south, east, north = self.box
        if not (west <= longitude <= east and south <= latitude <= north):
            return False
        return any(_in_polygon(polygon, longitude, latitude) for polygon in self.polygons)


@dataclass(frozen=True, slots=True)
class Placement:
    """The province a point lies in, or the nearest within `NEAR_KM` (`distance_km` > 0)."""

    code: str
    distance_km: float


@dataclass(frozen=True)
class Boundaries:
    """The boundary file, read once: its provinces, version and recorded source."""

    provinces: tuple[Province, ...]
    version: str  # see `mappings.tables.file_version`
    source: str


@cache
def boundaries() -> Boundaries:
    """The provinces of `BOUNDARY_FILE`, read once per process."""
    content = BOUNDARY_FILE.read_bytes()
    collection = json.loads(content)
    provinces = tuple(_province(feature) for feature in collection["features"])
    return Boundaries(provinces, file_version(content), str(collection["source"]))


def province_at(latitude: Decimal, longitude: Decimal) -> str | None:
    """The INEC code of the province that the WGS 84 point lies in, or None (sea, abroad)."""
    placement = locate(latitude, longitude)
    return placement.code if placement else None


def locate(latitude: Decimal, longitude: Decimal) -> Placement | None:
    """Where the WGS 84 point lies: a province, the nearest within `NEAR_KM`, or None."""
    lat, lon = float(latitude), float(longitude)
    provinces = boundaries().provinces
    for province in provinces:
        if province.contains(lon, lat):
            return Placement(province.code, 0.0)
    margin = NEAR_KM / _KM_PER_DEGREE / max(math.cos(math.radians(lat)), 0.1)
    nearest: Placement | None = None
    for province in provinces:
        west, south, east, north = province.box
        if not (west - margin <= lon <= east + margin and south - margin <= lat <= north + margin):
            continue
        distance = _distance_km(province, lon, lat)
        if distance <= NEAR_KM and (nearest is None or distance < nearest.distance_km):
            nearest = Placement(province.code, distance)
    return nearest


def parse_pos(pos: str) -> tuple[Decimal, Decimal] | None:
    """(latitude, longitude) of an IATI ``pos`` ("latitude longitude", decimal degrees), or
    None when it is not two numbers in range."""
    parts = pos.split()
    if len(parts) != 2:
        return None
    try:
        latitude, longitude = Decimal(parts[0]), Decimal(parts[1])
    except InvalidOperation:
        return None
    if not (latitude.is_finite() and longitude.is_finite()):
        return None
    return (latitude, longitude) if abs(latitude) <= 90 and abs(longitude) <= 180 else None


def province_paths(width: int, height: int) -> dict[str, str]:
    """SVG path data of each province, by code, fitted into `viewbox(width, height)`.

    Draw them with `fill-rule="evenodd"` (a hole is a ring of its own)."""
    return dict(_paths(width, height))


@cache
def _paths(width: int, height: int) -> tuple[tuple[str, str], ...]:
    project = _projection(width, height)
    paths = []
    for province in boundaries().provinces:
        parts = []
        for polygon in province.polygons:
            for ring in polygon:
                points = [project(lon, lat, province.code) for lon, lat in ring[:-1]]
                parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in points) + "Z")
        paths.append((province.code, "".join(parts)))
    return tuple(paths)


def viewbox(width: int, height: int) -> str:
    """The SVG `viewBox` that `province_paths(width, height)` is drawn in."""
    return f"0 0 {width} {height}"


@cache
def galapagos_inset(width: int, height: int) -> str:
    """SVG path data of the frame around the moved Galápagos, to draw as a dashed line."""
    project = _projection(width, height)
    west, south, east, north = _box(_points(GALAPAGOS))
    pad = 0.15
    corners = [project(west - pad, north + pad, GALAPAGOS), project(east + pad, south - pad,
                                                                      GALAPAGOS)]
    (x0, y0), (x1, y1) = corners
    return f"M{x0:.1f},{y0:.1f}H{x1:.1f}V{y1:.1f}H{x0:.1f}Z"


def _projection(width: int, height: int) -> Projection:
    """(longitude, latitude, province) → (x, y) in the picture, the islands moved."""
    scale_x = math.cos(math.radians(_MAP_LATITUDE))

    def plane(lon: float, lat: float, code: str) -> tuple[float, float]:
        shift = GALAPAGOS_SHIFT if code == GALAPAGOS else 0.0
        return (lon + shift) * scale_x, -lat

    everything = [plane(lon, lat, p.code) for p in boundaries().provinces
                  for lon, lat in _points(p.code)]
    west, south, east, north = _box(everything)
    usable_w, usable_h = width * (1 - 2 * _MARGIN), height * (1 - 2 * _MARGIN)
    scale = min(usable_w / (east - west), usable_h / (north - south))
    left = (width - scale * (east - west)) / 2
    top = (height - scale * (north - south)) / 2

    def project(lon: float, lat: float, code: str) -> tuple[float, float]:
        x, y = plane(lon, lat, code)
        return left + (x - west) * scale, top + (y - south) * scale

    return project


def _points(code: str) -> Iterable[tuple[float, float]]:
    province = next(p for p in boundaries().provinces if p.code == code)
    for polygon in province.polygons:
        for ring in polygon:
            yield from ring


def _box(points: Iterable[tuple[float, float]]) -> tuple[float, float, float, float]:
    xs, ys = zip(*points, strict=True)
    return min(xs), min(ys), max(xs), max(ys)


def _province(feature: dict[str, Any]) -> Province:
    properties, geometry = feature["properties"], feature["geometry"]
    coordinates = geometry["coordinates"]
    multipolygon = coordinates if geometry["type"] == "MultiPolygon" else [coordinates]
    polygons = tuple(
        tuple(tuple((float(x), float(y)) for x, y in ring) for ring in polygon)
        for polygon in multipolygon
    )
    box = _box([point for polygon in polygons for point in polygon[0]])
    return Province(str(properties["code"]), str(properties["name"]), polygons, box)


def _distance_km(province: Province, lon: float, lat: float) -> float:
    """The distance from the point to the province's nearest edge, in kilometres."""
    scale = math.cos(math.radians(lat))
    best = math.inf
    for polygon in province.polygons:
        for ring in polygon:
            for (x1, y1), (x2, y2) in itertools.pairwise(ring):
                ax, ay, bx, by = (x1 - lon) * scale, y1 - lat, (x2 - lon) * scale, y2 - lat
                dx, dy = bx - ax, by - ay
                length = dx * dx + dy * dy
                t = 0.0 if length == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / length))
                best = min(best, math.hypot(ax + t * dx, ay + t * dy))
    return best * _KM_PER_DEGREE


def _in_polygon(polygon: Polygon, x: float, y: float) -> bool:
    """Even–odd rule over the outer ring and its holes: inside the outer, in no hole."""
    inside = False
    for ring in polygon:
        for (x1, y1), (x2, y2) in itertools.pairwise(ring):
            if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
    return inside
