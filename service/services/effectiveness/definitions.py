"""What each indicator of the aid-effectiveness scorecard measures, which monitoring
framework it comes from, and how it is approximated from IATI data in the store.

The indicators are those of the Global Partnership for Effective Development
Co-operation's (GPEDC) 2016–2019 monitoring framework (rounds of 2016 and 2018), whose
numbers are used here (`5a`, `5b`, `6`, `9b`, `10`, `4`, `1a`). The fourth round
(2023–2026) follows a reformed framework, launched at the 2022 Effective Development
Co-operation Summit with a country-anchored process, which revised and renumbered the
indicators; its numbers are not used, because the quantities IATI data can approximate
are those the 2016–2019 definitions name (money scheduled, disbursed, on budget, untied).
docs/effectiveness.md gives each approximation in full.

Sources (facts read, not text copied):

- GPEDC, *2018 Monitoring Guide for National Co-ordinators*, edition of 12 August 2018,
  www.effectivecooperation.org/2018monitoring (copy read at
  https://readkong.com/page/2018-monitoring-guide-for-national-co-ordinators-2701470).
- GPEDC, *2018 Monitoring Round: Technical Companion Document* (how each indicator is
  calculated), 2018, https://dokumen.tips/documents/technical-companion-document.html.
- OECD/UNDP, *Making Development Co-operation More Effective: 2019 Progress Report*,
  Part II, 2019, https://dokumen.tips/documents/part-ii-of-the-global-partnership-progress-report-oecd.html.
- GPEDC, *Global Partnership Monitoring 2.0 – Track 1: refinements of indicators 4, 5a,
  5b, 6, 9a and 9b*, http://effectivecooperation.org/monitoring-country-progress/global-partnership-monitoring-2-0/.
- GPEDC, *Guidance for 4th Global Partnership Monitoring Round (2023–2026)*, 22 January
  2023, https://www.effectivecooperation.org/book-page/guidance-4th-global-partnership-monitoring-round-2023-2026.
- IATI Standard 2.03 codelists TiedStatus, DisbursementChannel and BudgetType
  (`iati/resources/`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

FRAMEWORK = "GPEDC 2016–2019"


class Unit(StrEnum):
    """What an indicator's numerator and denominator count."""

    usd = "usd"
    activities = "activities"
    years = "years"


@dataclass(frozen=True, slots=True)
class Definition:
    """One indicator: its code, its number in the framework, what it measures (English,
    as the API speaks) and one sentence in Spanish for the dashboard."""

    code: str
    framework_number: str
    name: str
    definition: str
    unit: Unit
    nombre: str
    frase: str


ANNUAL_PREDICTABILITY = Definition(
    "5a", "5a", "Annual predictability",
    "Disbursements and expenditure dated in the year, as a percentage of the budgets for "
    "the year, among the activities with a budget for it (each activity's original "
    "budgets, its revised ones only where it has no original one for the year).",
    Unit.usd, "Previsibilidad anual",
    "Cuánto de lo presupuestado para el año se desembolsó o gastó ese año, entre las "
    "actividades con presupuesto para el año.",
)
MEDIUM_TERM_PREDICTABILITY = Definition(
    "5b", "5b", "Medium-term predictability",
    "How many of the next three years the donor's budgets or planned disbursements for "
    "Ecuador cover, out of three (overall: out of three per donor).",
    Unit.years, "Previsibilidad a mediano plazo",
    "Cuántos de los tres años siguientes cubren los presupuestos o desembolsos "
    "planificados del donante para el Ecuador.",
)
ON_BUDGET = Definition(
    "6", "6", "Aid on budget",
    "Budgets for the year whose receiver is in the Presupuesto General del Estado (the "
    "budget view's perimeter `central`), as a percentage of the budgets for the year "
    "whose receiver is a public body (any public perimeter); off-budget receivers are "
    "outside the denominator, receivers the view could not place are missing data.",
    Unit.usd, "Cooperación registrada en el presupuesto",
    "Qué parte de lo presupuestado para entidades públicas va a entidades del "
    "Presupuesto General del Estado.",
)
COUNTRY_SYSTEMS = Definition(
    "9b", "9b", "Use of country public financial management and procurement systems",
    "The mean of four shares of disbursements to the government sector: through the "
    "country's budget execution, financial reporting, auditing and procurement systems.",
    Unit.usd, "Uso de los sistemas nacionales",
    "Qué parte del dinero para el sector público usa los sistemas nacionales de "
    "ejecución presupuestaria, informes, auditoría y compras públicas.",
)
TREASURY = Definition(
    "9b-treasury", "9b (budget execution only)", "Disbursed through the Treasury",
    "Disbursements and expenditure dated in the year to a public body and disbursed "
    "through the Ministry of Finance or Treasury (DisbursementChannel 1), as a "
    "percentage of those to a public body whose disbursement channel is published.",
    Unit.usd, "Desembolsado a través del Tesoro",
    "Qué parte de lo desembolsado a entidades públicas pasó por el Ministerio de "
    "Economía y Finanzas o el Tesoro.",
)
UNTIED = Definition(
    "10", "10", "Untied aid",
    "Disbursements and expenditure dated in the year that are untied (TiedStatus 5), "
    "as a percentage of those whose tied status (3 partially tied, 4 tied, 5 untied) "
    "is published, the transaction's own else the activity's default.",
    Unit.usd, "Ayuda no ligada",
    "Qué parte de lo desembolsado no obliga a comprar bienes o servicios del país "
    "donante.",
)
TRANSPARENCY = Definition(
    "4", "4", "Transparency (the fields the ministry relies on)",
    "Activities with money in the year that have every field of the quality page's "
    "completeness: a sector, a location, a recipient country or region, transactions, "
    "a budget or planned disbursement, results, and money placed in a province.",
    Unit.activities, "Transparencia",
    "Qué parte de las actividades publica todos los datos que el ministerio necesita.",
)
RESULT_INDICATORS = Definition(
    "1a-indicators", "1a (results frameworks)", "Activities with result indicators",
    "Activities with money in the year that publish at least one result indicator.",
    Unit.activities, "Actividades con indicadores de resultados",
    "Qué parte de las actividades publica indicadores para medir sus resultados.",
)
PLAN_ALIGNMENT = Definition(
    "1a-plan", "1a.1 (alignment with the national plan)", "Aligned to the national plan",
    "Disbursements and expenditure dated in the year that the budget view places under "
    "an objective of the national development plan in force on their date (by the "
    "donor's own codes or the crosswalks), as a percentage of all of them.",
    Unit.usd, "Alineada al Plan Nacional de Desarrollo",
    "Qué parte de lo desembolsado corresponde a un objetivo del Plan Nacional de "
    "Desarrollo vigente.",
)

DEFINITIONS = (ANNUAL_PREDICTABILITY, MEDIUM_TERM_PREDICTABILITY, ON_BUDGET,
               COUNTRY_SYSTEMS, TREASURY, UNTIED, TRANSPARENCY, RESULT_INDICATORS,
               PLAN_ALIGNMENT)
BY_CODE = {definition.code: definition for definition in DEFINITIONS}

# Why 9b cannot be computed from IATI data, whatever the donor publishes.
NO_COUNTRY_SYSTEMS = (
    "cannot be computed: IATI 2.03 carries no flag for the use of the country's financial "
    "reporting, auditing or procurement systems; only the budget execution part is "
    "approximated (indicator 9b-treasury, from the disbursement channel)"
)
# Forward plans published only in organisation files are not in the store.
NO_ORGANISATION_FILES = (
    "organisation files (recipient-country-budget) are not stored: forward plans "
    "published only there are not counted"
)


class IndicatorCode(StrEnum):
    """The indicators' codes, as a query parameter takes them."""

    annual_predictability = "5a"
    medium_term_predictability = "5b"
    on_budget = "6"
    country_systems = "9b"
    treasury = "9b-treasury"
    untied = "10"
    transparency = "4"
    result_indicators = "1a-indicators"
    plan_alignment = "1a-plan"


assert {code.value for code in IndicatorCode} == set(BY_CODE)
