"""The dashboard's filters: read from a page's query string (empty form fields ignored),
turned into the API's `ActivityFilter`, and written back as API query strings. Every
public page shows the activities for Ecuador only (`ecuador=true` in the API's terms;
see `service.services.ecuador`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from mappings.tables import Classification
from service.search import MAX_LENGTH
from service.services.query import ActivityFilter

LISTED = ("q", "reporting_org", "participating_org", "sector", "province", "plan_objective",
          "activity_status")


@dataclass(frozen=True)
class PageFilters:
    """The filters a dashboard page was asked for; `year` selects activities running in it."""

    values: dict[str, str]
    year: int | None

    @classmethod
    def of(cls, params: QueryParams) -> PageFilters:
        values = {name: params[name].strip() for name in LISTED
                  if params.get(name) and params[name].strip()}
        if "q" in values:
            values["q"] = values["q"][:MAX_LENGTH]
        raw_year = (params.get("year") or "").strip()
        year = int(raw_year) if raw_year.isdigit() and 1900 <= int(raw_year) <= 2200 else None
        return cls(values, year)

    def activity_filter(self) -> ActivityFilter:
        one = {name: [value] for name, value in self.values.items() if name != "q"}
        classified: dict[Classification, Sequence[str]] = {
            Classification(name): one.pop(name)
            for name in ("province", "plan_objective") if name in one
        }
        return ActivityFilter(
            reporting_org=one.get("reporting_org", ()),
            participating_org=one.get("participating_org", ()),
            sector=one.get("sector", ()),
            activity_status=one.get("activity_status", ()),
            active_from=date(self.year, 1, 1) if self.year else None,
            active_to=date(self.year, 12, 31) if self.year else None,
            classified=classified, q=self.values.get("q"), ecuador=True,
        )

    def query(self, **extra: str | list[str] | None) -> str:
        """The API query string of these filters (and `extra` parameters)."""
        pairs: list[tuple[str, str]] = [*self.values.items(), ("ecuador", "true")]
        if self.year:
            pairs += [("active_from", f"{self.year}-01-01"), ("active_to", f"{self.year}-12-31")]
        for name, value in extra.items():
            if value is None:
                continue
            pairs += [(name, v) for v in value] if isinstance(value, list) else [(name, value)]
        return urlencode(pairs)

    def page_query(self, **extra: str | None) -> str:
        """The dashboard query string of these filters (and `extra`)."""
        pairs = list(self.values.items()) + ([("year", str(self.year))] if self.year else [])
        pairs += [(name, value) for name, value in extra.items() if value is not None]
        return urlencode(pairs)
