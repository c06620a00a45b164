"""The Ecuador budget view of an IATI activity: its money in Ecuador's own classifications.

For each amount of `mappings.amounts` (Ecuador's share, per year, in US dollars) and for
each classification of `CLASSIFIED`, the amount is divided among the codes its rules give,
each part a `Figure` carrying the rule, the table or crosswalk version, the rate and its
date. Precedence, per classification:

1. codes the donor published itself in `country-budget-items` — vocabulary 2 (country
   chart of accounts: income or expenditure ítems of the clasificador) or 3 (other
   country system: investment subsectors) — when they are codes of the Ecuadorian table,
   split by their percentages;
2. the reviewed crosswalks and catalogues (`mappings.finance`, `mappings.perimeter`,
   `mappings.sectors`, `mappings.policy`, `mappings.geography`), the transaction's own
   sectors, finance, flow and aid types, provider and receiver before the activity's;
3. unmapped, with the reason: such figures stay in the view (so every classification
   adds up to the same total) and form its review list.

The perimeter (which public budget, if any, the receiver's is), the instrument (grant,
loan, …) and the disbursement channel (through the Treasury or not, as the transaction
publishes it) are one code per amount, never split. Income ítems and fuentes apply only to
money that enters a public budget: an `off-budget` amount's are not applicable, a figure
of its own (`NOT_APPLICABLE`), neither mapped nor unmapped.

Plan objectives: the activity's SDG tags (goals, or targets counting as their goal), where
it has any, are the publisher's own statement of what the money serves, and come before its
sectors; each goal's part goes to the objectives `sdg-plan-objective` gives it in the plan
in force on the amount's date (see `mappings.plans`). Without SDG tags, the sectors decide
(`sector-plan-objective`). An objective's code names its plan (`PND-2021-2025/3`).

Sectors: one vocabulary is used — DAC 5-digit (1) if the activity has it, else DAC 3-digit
(2), else the first published — and its percentages are rebased, with a finding, when
they do not sum to 100; transaction sectors, which carry no percentage, share equally.
Every division goes through `mappings.money.split`: for every classification, the figures
of an amount add up to that amount to the cent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from functools import cache

from iati.elements.activity import Activity
from iati.elements.classification import TransactionSector
from iati.elements.common import Code as CodeElement
from mappings import boundaries, finance, geography, perimeter, plans, policy, sectors
from mappings.amounts import Amount, Finding, Measure, amounts_of, minor_unit
from mappings.crosswalks import (
    Resolution,
    Status,
    crosswalk,
    crosswalk_names,
    not_applicable,
    overrides_digest,
    unmapped,
)
from mappings.money import HUNDRED, split
from mappings.rates import series_version
from mappings.tables import Classification, file_version, table, tables

CLASSIFIED = (
    Classification.perimeter,
    Classification.instrument,
    Classification.disbursement_channel,
    Classification.income_item,
    Classification.fuente,
    Classification.investment_subsector,
    Classification.plan_objective,
    Classification.orientacion,
    Classification.province,
    Classification.canton,
    Classification.sector,
)
# Bumped when the engine's output changes shape (a classification added, say), so that
# `iati-ec remap` computes new views even where no table or crosswalk changed.
VIEW_FORMAT = "5"
DAC_PURPOSE, DAC_CATEGORY = "1", "2"
CHART_OF_ACCOUNTS, OTHER_COUNTRY_SYSTEM = "2", "3"  # BudgetIdentifierVocabulary


@dataclass(frozen=True, slots=True)
class Figure:
    """Part of one amount in one classification: its code (None: unmapped) and why."""

    location: str
    measure: Measure
    year: int
    classification: Classification
    code: str | None
    usd: Decimal
    original: Decimal
    currency: str
    rate: Decimal
    rate_date: date
    rule: str
    status: Status
    version: str
    reason: str | None = None


@dataclass(frozen=True)
class BudgetView:
    """An activity's figures in Ecuador's classifications, and what could not be taken."""

    iati_identifier: str | None
    mapping_version: str
    ecuador_share: Decimal | None
    figures: tuple[Figure, ...]
    findings: tuple[Finding, ...]

    def review(self) -> tuple[Figure, ...]:
        """The unmapped figures, each with its reason: what the ministry reviews."""
        return tuple(figure for figure in self.figures if figure.code is None)

    def total(self, measure: Measure, classification: Classification) -> Decimal:
        return sum(
            (f.usd for f in self.figures
             if f.measure is measure and f.classification is classification),
            Decimal(0),
        )


def budget_view(activity: Activity) -> BudgetView:
    """The budget view of `activity` (see the module's rules)."""
    found = amounts_of(activity)
    findings = [*found.findings, *geography.point_findings(activity.locations)]
    national = _national(activity, findings)
    resolver = _Resolver(activity, findings)
    figures: list[Figure] = []
    for amount in found.amounts:
        for classification in CLASSIFIED:
            given = national.get(classification)
            resolutions = given if given else resolver.resolve(classification, amount)
            figures += _figures(amount, classification, resolutions)
    return BudgetView(
        iati_identifier=activity.identifier,
        mapping_version=mapping_version(),
        ecuador_share=found.ecuador_share,
        figures=tuple(figures),
        findings=tuple(dict.fromkeys(findings)),
    )


def mapping_version() -> str:
    """One version for every table, crosswalk (with the overrides in effect), the province
    boundaries and the rate series the views come from."""
    return _mapping_version(overrides_digest())


def mapping_sources() -> tuple[str, ...]:
    """What `mapping_version` is made of: each data file (and the rates) with its version."""
    parts = [f"{t.classification}:{t.version}" for t in tables()]
    parts += [f"{name}:{crosswalk(name).version}" for name in crosswalk_names()]
    parts.append(f"boundaries:{boundaries.boundaries().version}")
    parts.append(f"rates:{series_version()}")
    parts.append(f"view-format:{VIEW_FORMAT}")
    return tuple(parts)


@cache
def _mapping_version(overrides: str) -> str:
    return file_version("\n".join(mapping_sources()).encode())


def _figures(
    amount: Amount, classification: Classification, resolutions: Sequence[Resolution]
) -> list[Figure]:
    shares = [resolution.share for resolution in resolutions]
    usd = split(amount.usd, shares)
    original = split(amount.original, shares, quantum=minor_unit(amount.original))
    return [
        Figure(amount.location, amount.measure, amount.year, classification, item.code,
               part_usd, part_original, amount.currency, amount.rate, amount.rate_date,
               item.rule, item.status, item.version, item.reason)
        for item, part_usd, part_original in zip(resolutions, usd, original, strict=True)
    ]


class _Resolver:
    """The crosswalks' resolutions of an activity's amounts, each worked out once."""

    def __init__(self, activity: Activity, findings: list[Finding]) -> None:
        self.activity = activity
        self.findings = findings
        self._known: dict[tuple[object, ...], tuple[Resolution, ...]] = {}
        self._places: dict[date, tuple[tuple[Resolution, ...], tuple[Resolution, ...]]] = {}
        self.goals, refused = plans.sdg_goals(
            [(tag.vocabulary or "1", tag.code or "") for tag in activity.tags])
        findings += refused

    def resolve(self, classification: Classification, amount: Amount) -> tuple[Resolution, ...]:
        transaction = amount.transaction
        key = (classification, amount.location if transaction else None, amount.on)
        if key not in self._known:
            self._known[key] = self._work_out(classification, amount)
        return self._known[key]

    def _work_out(self, classification: Classification, amount: Amount) -> tuple[Resolution, ...]:
        activity, on = self.activity, amount.on
        if classification is Classification.perimeter:
            return (perimeter.perimeter(_receivers(activity, amount), on=on),)
        if classification is Classification.instrument:
            return (finance.instrument(finance_type=self._finance_type(amount), on=on),)
        if classification is Classification.disbursement_channel:
            return (_channel(amount),)
        if classification in (Classification.income_item, Classification.fuente):
            [where] = self.resolve(Classification.perimeter, amount)
            if where.code == perimeter.OFF_BUDGET:
                return (not_applicable(
                    "off-budget: the receiver's money never enters a public budget, so no "
                    "income ítem or fuente applies", rule=f"perimeter off-budget ({where.rule})",
                    version=where.version),)
            return (self._finance(classification, amount),)
        if classification is Classification.investment_subsector:
            return self._by_sector(amount, sectors.investment_subsectors)
        if classification is Classification.plan_objective:
            aligned = plans.sdg_objectives(self.goals, on=on)
            return aligned or self._by_sector(amount, sectors.plan_objectives)
        if classification is Classification.sector:
            return self._dac_sectors(amount)
        if classification is Classification.orientacion:
            markers = [(m.vocabulary or "1", m.code or "", m.significance)
                       for m in activity.policy_markers]
            reporting = activity.reporting_org
            return policy.orientaciones(
                markers, on=on, publisher=(reporting.ref or "").strip() if reporting else None)
        if on not in self._places:  # provinces and cantons come together
            self._places[on] = geography.places(activity.locations, on=on)
        provinces, cantons = self._places[on]
        if all(place.code is None for place in provinces):  # no location in Ecuador
            receivers = [r.name for r in _receivers(activity, amount) if r.name]
            scope = activity.activity_scope.code if activity.activity_scope else None
            otherwise = geography.elsewhere(receivers, scope, on=on)
            if otherwise is not None:
                provinces, cantons = otherwise
        return provinces if classification is Classification.province else cantons

    def _finance_type(self, amount: Amount) -> str | None:
        transaction = amount.transaction
        return _code(transaction.finance_type if transaction else None) or _code(
            self.activity.default_finance_type)

    def _finance(self, classification: Classification, amount: Amount) -> Resolution:
        activity, transaction = self.activity, amount.transaction
        finance_type = self._finance_type(amount)
        flow_type = _code(transaction.flow_type if transaction else None) or _code(
            activity.default_flow_type)
        if classification is Classification.fuente:
            return finance.fuente(finance_type=finance_type, flow_type=flow_type, on=amount.on)
        aid_types = (transaction.aid_types if transaction and transaction.aid_types
                     else activity.default_aid_types)
        return finance.income_item(
            finance_type=finance_type, flow_type=flow_type,
            aid_types=[(a.vocabulary or DAC_PURPOSE, a.code or "") for a in aid_types],
            organisation_type=_provider_type(activity, amount), on=amount.on,
        )

    def _by_sector(
        self, amount: Amount,
        resolve: Callable[..., tuple[Resolution, ...]],
    ) -> tuple[Resolution, ...]:
        weighted = self._sectors(amount)
        if not weighted:
            return (unmapped("no sector published", rule="sectors"),)
        found: list[Resolution] = []
        for sector, weight in weighted:
            dac = self._as_dac(sector, amount)
            if isinstance(dac, Resolution):  # a publisher's own code no row maps
                found.append(replace(dac, share=weight))
                continue
            for part in dac:
                for item in resolve(part.vocabulary, part.code, on=amount.on):
                    share = item.share * weight / HUNDRED * part.share / HUNDRED
                    found.append(_through(replace(item, share=share), part))
        return tuple(found)

    def _as_dac(
        self, sector: TransactionSector, amount: Amount
    ) -> tuple[sectors.DacSector, ...] | Resolution:
        """The DAC codes `sector` is, a publisher's own code through its crosswalk row."""
        reporting = self.activity.reporting_org
        return sectors.as_dac(
            (reporting.ref or "").strip() if reporting else None,
            (sector.vocabulary or DAC_PURPOSE).strip(), (sector.code or "").strip(),
            sector.text(), on=amount.on,
        )

    def _dac_sectors(self, amount: Amount) -> tuple[Resolution, ...]:
        """The DAC sectors as published, with the shares the other sector splits use."""
        weighted = self._sectors(amount)
        if not weighted:
            return (unmapped("no sector published", rule="sectors"),)
        found: list[Resolution] = []
        for sector, weight in weighted:
            vocabulary = (sector.vocabulary or DAC_PURPOSE).strip()
            code = (sector.code or "").strip()
            if vocabulary in (DAC_PURPOSE, DAC_CATEGORY) and code:
                found.append(Resolution(code, weight, f"sector vocabulary {vocabulary}, "
                                        "as published", Status.published, ""))
                continue
            dac = self._as_dac(sector, amount)
            if isinstance(dac, Resolution):
                found.append(replace(dac, share=weight))
                continue
            found += [Resolution(part.code, weight * part.share / HUNDRED, part.via or "",
                                 part.status, "") for part in dac]
        return tuple(found)

    def _sectors(self, amount: Amount) -> list[tuple[TransactionSector, Decimal]]:
        """The sectors of one vocabulary that `amount` is divided by, with their shares."""
        transaction = amount.transaction
        if transaction is not None and transaction.sectors:
            chosen = _one_vocabulary(transaction.sectors)
            return [(sector, HUNDRED / len(chosen)) for sector in chosen]
        chosen = _one_vocabulary(self.activity.sectors)
        if not chosen:
            return []
        if len(chosen) == 1:
            return [(chosen[0], HUNDRED)]
        weights = [getattr(sector, "percentage", None) for sector in chosen]
        if any(weight is None for weight in weights) or sum(w or 0 for w in weights) == 0:
            return [(sector, HUNDRED / len(chosen)) for sector in chosen]
        total = sum((w or Decimal(0) for w in weights), Decimal(0))
        if total != HUNDRED:
            self.findings.append(Finding(
                "mapping.percentages-rebased",
                f"The sector percentages of vocabulary {chosen[0].vocabulary or '1'} sum to "
                f"{total}, not 100; each is taken out of their sum.",
                "sector",
            ))
        return [(sector, (w or Decimal(0)) * HUNDRED / total)
                for sector, w in zip(chosen, weights, strict=True)]


def _one_vocabulary(published: Sequence[TransactionSector]) -> list[TransactionSector]:
    by_vocabulary: dict[str, list[TransactionSector]] = {}
    for sector in published:
        by_vocabulary.setdefault((sector.vocabulary or DAC_PURPOSE).strip(), []).append(sector)
    for preferred in (DAC_PURPOSE, DAC_CATEGORY):
        if preferred in by_vocabulary:
            return by_vocabulary[preferred]
    return next(iter(by_vocabulary.values()), [])


def _national(
    activity: Activity, findings: list[Finding]
) -> dict[Classification, tuple[Resolution, ...]]:
    """The Ecuadorian codes the donor published in country-budget-items, by classification."""
    items = activity.country_budget_items
    if items is None or (items.vocabulary or "").strip() not in (
        CHART_OF_ACCOUNTS, OTHER_COUNTRY_SYSTEM
    ):
        return {}
    vocabulary = (items.vocabulary or "").strip()
    candidates = (
        (Classification.income_item, Classification.expenditure_item)
        if vocabulary == CHART_OF_ACCOUNTS else (Classification.investment_subsector,)
    )
    found: dict[Classification, list[tuple[str, Decimal]]] = {}
    for index, item in enumerate(items.budget_items, start=1):
        code = (item.code or "").strip()
        where = next((c for c in candidates if table(c).get(code) is not None), None)
        if where is None:
            findings.append(Finding(
                "mapping.unknown-budget-item",
                f"country-budget-items vocabulary {vocabulary}: {code!r} is not a code of "
                f"{', '.join(table(c).spec.title_en for c in candidates)}; the crosswalks "
                "are used instead.",
                f"country-budget-items/budget-item[{index}]",
            ))
            continue
        found.setdefault(where, []).append((code, item.percentage or Decimal(0)))
    return {
        classification: _published(classification, vocabulary, codes)
        for classification, codes in found.items()
        if sum(share for _, share in codes) > 0
    }


def _published(
    classification: Classification, vocabulary: str, codes: list[tuple[str, Decimal]]
) -> tuple[Resolution, ...]:
    total = sum((share for _, share in codes), Decimal(0))
    rule = f"country-budget-items vocabulary {vocabulary}, published by the donor"
    return tuple(
        Resolution(code, share * HUNDRED / total, rule, Status.published,
                   table(classification).version)
        for code, share in codes
    )


IMPLEMENTING, ACCOUNTABLE = "4", "2"  # OrganisationRole


def _through(item: Resolution, part: sectors.DacSector) -> Resolution:
    """`item`, found for the DAC code `part` that a publisher's own code was mapped to: the
    mapping named in its rule, and its status no surer than the mapping's."""
    if part.via is None:
        return item
    status = item.status
    if item.code is not None and Status.proposed in (item.status, part.status):
        status = Status.proposed
    return replace(item, rule=f"{part.via}; {item.rule}", status=status)


def _receivers(activity: Activity, amount: Amount) -> list[perimeter.Receiver]:
    """Who holds `amount` in their budget: the transaction's receiver-org, else the
    implementing participating-orgs, else the accountable ones (never the extending one,
    the donor's). An expenditure's receiver is the supplier paid: its provider-org, the
    implementer that spends, holds the money instead."""
    transaction = amount.transaction
    spent = amount.measure is Measure.expenditure
    given = None
    if transaction is not None:
        given = transaction.provider_org if spent else transaction.receiver_org
    if given is not None and ((given.ref or "").strip() or given.text()):
        role = "provider-org (spending)" if spent else "receiver-org"
        return [perimeter.Receiver(given.ref, given.type, given.text(), role)]
    for role, label in ((IMPLEMENTING, "implementing"), (ACCOUNTABLE, "accountable")):
        found = [perimeter.Receiver(org.ref, org.type, org.text(), label)
                 for org in activity.participating_orgs if (org.role or "").strip() == role
                 and ((org.ref or "").strip() or org.text())]
        if found:
            return list(dict.fromkeys(found))
    return []


def _channel(amount: Amount) -> Resolution:
    """The transaction's disbursement channel, as published (a flag, not a rule's result)."""
    transaction = amount.transaction
    code = _code(transaction.disbursement_channel if transaction is not None else None)
    rows = table(Classification.disbursement_channel)
    if code is None:
        return unmapped("no disbursement channel published", rule="disbursement-channel")
    if rows.get(code) is None:
        return unmapped(f"disbursement channel {code} is not in IATI's DisbursementChannel "
                        "codelist", rule="disbursement-channel")
    return Resolution(code, HUNDRED, "disbursement-channel, as published", Status.published,
                      rows.version)


def _provider_type(activity: Activity, amount: Amount) -> str | None:
    """The type of who gives `amount`: the transaction's provider-org, else the reporting
    organisation (for an expenditure, whose provider-org is the implementer spending it,
    the reporting organisation)."""
    transaction = amount.transaction
    provider = transaction.provider_org if (
        transaction is not None and amount.measure is not Measure.expenditure) else None
    given = (provider.type or "").strip() if provider is not None else ""
    if given:
        return given
    reporting = activity.reporting_org
    return reporting.type if reporting is not None else None


def _code(element: CodeElement | None) -> str | None:
    return (element.code or "").strip() or None if element is not None else None
