"""What the overlap report answers: alerts of donors meeting, with the activities behind them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from service.services.coordination.features import Facts

Years = tuple[int | None, int | None]


class OverlapKind(StrEnum):
    sector_province = "sector-province"
    sector_national = "sector-national"  # provinces unknown: compared at national level
    implementing_partner = "implementing-partner"


class SectorLevel(StrEnum):
    sector = "sector"
    sector_category = "sector_category"


class OverlapActivity(BaseModel):
    """An activity behind an alert, with its money (US dollars by measure) in the alert's
    years: in its province and sector, in its sector (a national one, with the provinces
    its money is in, null for a part whose province is unknown), or in all (an
    implementing-partner alert)."""

    iati_identifier: str
    reporting_org: str | None
    title: str | None
    start_date: date | None
    end_date: date | None
    years: list[int]
    sectors: list[str]
    province_usd: dict[str, Decimal] | None = None
    sector_usd: dict[str, Decimal] | None = None
    amounts_usd: dict[str, Decimal] | None = None
    provinces: list[str | None] | None = None


class PurposeMatch(BaseModel):
    """Why two activities of different donors look alike in purpose."""

    a: str
    b: str
    sector_categories: list[str]
    title_similarity: float


class OverlapAlert(BaseModel):
    """Donors meeting: in a sector and a province, in a sector at national level (`province`
    null: some of the money's provinces are unknown), or at an implementing partner."""

    kind: OverlapKind
    sector: str | None = None
    province: str | None = None
    implementing_partner: str | None = None
    years: list[int]
    donors: list[str]
    activities: list[OverlapActivity]
    matches: list[PurposeMatch] = []


class OverlapReport(BaseModel):
    sector_level: SectorLevel
    alerts: list[OverlapAlert]


def shown(facts: Facts, years: list[int], **extra: Any) -> OverlapActivity:
    """An activity of an alert: its facts, the alert's `years` and its money (`extra`)."""
    return OverlapActivity(
        iati_identifier=facts.identifier, reporting_org=facts.reporting_org, title=facts.title,
        start_date=facts.start, end_date=facts.end, years=years, sectors=sorted(facts.sectors),
        **extra,
    )
