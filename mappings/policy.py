"""Which orientaciones del gasto an activity's amount goes to, from its DAC policy markers.

The crosswalk `policy-marker-orientacion` gives each marker of vocabulary 1 (OECD DAC) its
orientación, or says why the catalogue has none for it; a marker may split between two
orientaciones (`share`). A publisher's own marker (vocabulary 99) counts as the DAC marker
that crosswalk `publisher-policy-marker` (keyed by the publisher's reporting-org ref, the
vocabulary and the code) says it is, with its own significance; without a row it counts
for nothing, and the rule names its key for the ministry to decide. How several markers
combine, since Ecuador's orientaciones of one amount add up to 100 while DAC markers each
describe the whole activity:

1. A marker "not targeted" (significance 0) counts for nothing; neither does a marker the
   crosswalk leaves unmapped.
2. Principal objectives (significance 2, 3 and 4) come before significant ones (1): when
   any mapped marker is principal, the significant ones are left out.
3. The markers kept share the amount equally; markers that lead to the same orientaciones
   (climate mitigation and adaptation) count once. The shares are rounded to hundredths
   by largest remainder, so they sum to exactly 100.
4. A mapped marker without a significance (or with one outside the codelist) is used only
   to say what is missing when no other marker decides.
5. With no targeted marker left, the amount goes to the crosswalk's row for no marker
   (Ninguno).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from mappings.crosswalks import Crosswalk, Resolution, Row, Status, crosswalk, resolved, unmapped
from mappings.money import HUNDRED, split
from mappings.tables import Classification, table

__all__ = ["orientaciones"]

CROSSWALK = "policy-marker-orientacion"
PUBLISHER_CROSSWALK = "publisher-policy-marker"
DAC_VOCABULARY, OWN_VOCABULARY = "1", "99"  # PolicyMarkerVocabulary
NOT_TARGETED = "0"
NO_MARKER = "none"  # the crosswalk key of the row used when no marker decides
PRINCIPAL, SIGNIFICANT = 2, 1
_RANK = {"1": SIGNIFICANT, "2": PRINCIPAL, "3": PRINCIPAL, "4": PRINCIPAL}


@dataclass(frozen=True, slots=True)
class _Marker:
    """A targeted DAC marker and its crosswalk rows in force (none when it has no row);
    `via`, the row that made a publisher's own marker this DAC marker."""

    code: str
    significance: str | None
    rows: tuple[Row, ...]
    via: Row | None = None
    unread: str | None = None  # a publisher's own marker no row maps: its key, as a rule

    @property
    def rank(self) -> int | None:
        return _RANK.get(self.significance or "")

    @property
    def mapped(self) -> bool:
        return any(row.status is not Status.unmapped for row in self.rows)


def orientaciones(
    markers: Sequence[tuple[str, str, str | None]], *, on: date, publisher: str | None = None
) -> tuple[Resolution, ...]:
    """The orientaciones of an amount whose activity (published by `publisher`) has
    `markers` (vocabulary, code, significance), with shares summing to 100."""
    walk = crosswalk(CROSSWALK)
    targeted = [
        _marker(walk, publisher, vocabulary, code, significance, on)
        for vocabulary, code, significance in markers
        if code not in ("", NO_MARKER) and significance != NOT_TARGETED
        and vocabulary in (DAC_VOCABULARY, OWN_VOCABULARY)
    ]
    mapped = [marker for marker in targeted if marker.mapped]
    ranked = [marker for marker in mapped if marker.rank is not None]
    if ranked:
        top = max(marker.rank or 0 for marker in ranked)
        return _shared(walk, [marker for marker in ranked if marker.rank == top], on)
    if mapped:
        return (_without_significance(walk, mapped),)
    return (_ninguno(walk, targeted, on),)


def _marker(
    walk: Crosswalk, publisher: str | None, vocabulary: str, code: str,
    significance: str | None, on: date,
) -> _Marker:
    """The DAC marker `code` is: itself, or what the publisher's own marker's row says."""
    if vocabulary == DAC_VOCABULARY:
        return _Marker(code, significance, walk.lookup(code, on=on))
    own = crosswalk(PUBLISHER_CROSSWALK)
    rows = [row for row in own.lookup(publisher or "", vocabulary, code, on=on)
            if row.target is not None and row.status is not Status.unmapped]
    if not rows:  # no row: counts for nothing, its key named where Ninguno is chosen
        key = "/".join((publisher or "-", vocabulary, code))
        return _Marker(code, significance, (), unread=f"crosswalk {own.name} {key} (no row)")
    row = rows[0]
    assert row.target is not None
    return _Marker(row.target, significance, walk.lookup(row.target, on=on), row)


def _shared(walk: Crosswalk, markers: Sequence[_Marker], on: date) -> tuple[Resolution, ...]:
    """Equal shares for each distinct set of orientaciones the markers lead to."""
    own = crosswalk(PUBLISHER_CROSSWALK)
    rows: dict[str, list[tuple[Crosswalk, Row]]] = {}
    for marker in markers:
        for row in marker.rows:
            if row.target is not None:
                rows.setdefault(row.target, []).extend(
                    [(walk, row)] if marker.via is None else [(own, marker.via), (walk, row)])
    weights: dict[str, Decimal] = {}
    for group in dict.fromkeys(_targets(marker) for marker in markers):
        for target, share in group:
            weights[target] = weights.get(target, Decimal(0)) + share
    parts = split(HUNDRED, list(weights.values()))
    return tuple(
        _resolution(target, part, rows[target], on)
        for target, part in zip(weights, parts, strict=True)
    )


def _targets(marker: _Marker) -> tuple[tuple[str, Decimal], ...]:
    """The orientaciones a marker leads to, each with its percentage of the marker."""
    return tuple(
        (row.target, HUNDRED if row.share is None else row.share)
        for row in marker.rows
        if row.target is not None
    )


def _resolution(
    code: str, share: Decimal, rows: Sequence[tuple[Crosswalk, Row]], on: date
) -> Resolution:
    """The resolution of one orientación, named by every row that led to it."""
    rule = "; ".join(dict.fromkeys(resolved(walk, row).rule for walk, row in rows))
    walk = rows[-1][0]
    if table(Classification.orientacion).get(code, on) is None:
        reason = f"{code} is not in the orientación table on {on.isoformat()}"
        return Resolution(None, share, rule, Status.unmapped, walk.version, reason)
    verified = all(row.status is Status.verified for _, row in rows)
    status = Status.verified if verified else Status.proposed
    return Resolution(code, share, rule, status, walk.version)


def _without_significance(walk: Crosswalk, markers: Sequence[_Marker]) -> Resolution:
    """Nothing mapped: the mapped markers lack a significance that says how they count."""
    reasons = [
        f"policy marker {marker.code} has "
        + (f"significance {marker.significance!r}, not a PolicySignificance code"
           if marker.significance else "no significance")
        for marker in markers
    ]
    return unmapped(
        "; ".join(reasons) + ": the donor should publish policy-marker/@significance",
        rule="; ".join(resolved(walk, row).rule for marker in markers for row in marker.rows),
        version=walk.version,
    )


def _ninguno(walk: Crosswalk, refused: Sequence[_Marker], on: date) -> Resolution:
    """The row for no marker, naming after it the markers that were there but map to nothing."""
    row = next((row for row in walk.lookup(NO_MARKER, on=on) if row.target), None)
    if row is None or row.target is None:
        return unmapped(f"{CROSSWALK} has no row for no marker", rule=f"crosswalk {CROSSWALK}")
    passed_over = [
        resolved(walk, row).rule if row
        else marker.unread or f"crosswalk {CROSSWALK} {marker.code} (no row)"
        for marker in refused
        for row in marker.rows or (None,)
    ]
    found = _resolution(row.target, HUNDRED, [(walk, row)], on)
    return Resolution(
        found.code, found.share, "; ".join([found.rule, *passed_over]),
        found.status, found.version, found.reason,
    )
