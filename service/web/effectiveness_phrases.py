"""The scorecard's reasons and missing-data notes in Spanish: one phrase for each sentence
`service.services.effectiveness` writes (the API gives them in English, as written); an
unofficial translation, the amounts written as Spanish writes them."""

from __future__ import annotations

from decimal import Decimal

from service.services.effectiveness.definitions import NO_COUNTRY_SYSTEMS, NO_ORGANISATION_FILES
from service.web import i18n
from service.web.phrasebook import Phrasebook, Reading, Said

USD = r"(?P<usd>-?[\d,]+\.\d{2}) USD"
YEAR = r"(?P<year>\d{4})"
NOT = "no se puede calcular: "
FIELDS = {
    "sector": "sector", "location": "ubicación",
    "recipient country or region": "país o región receptora",
    "transactions": "transacciones", "budget": "presupuesto ni desembolso planificado",
    "results": "resultados", "ecuador province": "dinero ubicado en una provincia",
    "a result indicator": "indicador de resultados",
}


def _usd(reading: Reading, group: str = "usd") -> str:
    return i18n.money(Decimal(reading[group].replace(",", "")), "es")


def _escaped(text: str) -> str:
    return "".join("\\" + c if c in ".()[]?*+^$|{}\\" else c for c in text)


PHRASES = Phrasebook([
    (rf"cannot be computed: no budget for {YEAR} among the (?P<n>\d+) activities with "
     rf"money in (?P=year)",
     NOT + "ninguna de las {n} actividades con dinero en {year} tiene presupuesto para ese año"),
    (rf"cannot be computed: the budgets for {YEAR} add up to zero",
     NOT + "los presupuestos para {year} suman cero"),
    (rf"cannot be computed: no budget for {YEAR}", NOT + "no hay presupuestos para {year}"),
    (rf"cannot be computed: none of the budgets for {YEAR} goes to a public body "
     rf"\({USD} outside every public budget, (?P<other>-?[\d,]+\.\d{{2}}) USD to receivers "
     r"not placed\)",
     lambda r: NOT + f"ninguno de los presupuestos para {r['year']} va a una entidad pública "
     f"({_usd(r)} fuera de todo presupuesto público, {_usd(r, 'other')} a receptores sin "
     "ubicar)"),
    (_escaped(NO_COUNTRY_SYSTEMS),
     NOT + "IATI 2.03 no dice si se usan los sistemas nacionales de informes financieros, "
     "auditoría o compras públicas; solo se aproxima la parte de ejecución presupuestaria "
     "(indicador 9b-treasury, por el canal de desembolso)"),
    (rf"cannot be computed: no disbursement or expenditure in {YEAR} to a public body",
     NOT + "no hay desembolsos ni gastos en {year} a entidades públicas"),
    (r"cannot be computed: no disbursement channel is published for the money to public "
     r"bodies", NOT + "no se publica el canal de desembolso del dinero a entidades públicas"),
    (rf"cannot be computed: no disbursement or expenditure in {YEAR}",
     NOT + "no hay desembolsos ni gastos en {year}"),
    (r"cannot be computed: no tied status is published for the year's money",
     NOT + "no se publica si la ayuda del año es ligada"),
    (rf"(?P<n>\d+) activities disbursed or spent {USD} in {YEAR} without a budget for "
     r"(?P=year)",
     lambda r: f"{r['n']} actividades desembolsaron o gastaron {_usd(r)} en {r['year']} sin "
     "presupuesto para ese año"),
    (rf"(?P<n>\d+) revised budgets for {YEAR} left out where the activity has an original "
     r"one", "{n} presupuestos revisados para {year} no se cuentan: la actividad tiene el "
     "original"),
    (r"no budget or planned disbursement for (?P<years>[\d, ]+)",
     "sin presupuesto ni desembolso planificado para {years}"),
    (_escaped(NO_ORGANISATION_FILES),
     "los archivos de organización (recipient-country-budget) no se guardan: no se cuentan "
     "los planes publicados solo allí"),
    (rf"(?P<n>\d+) activities' budgets for {YEAR} \({USD}\) have a receiver the budget view "
     r"could not place \(see the review list\)",
     lambda r: f"los presupuestos para {r['year']} de {r['n']} actividades ({_usd(r)}) van a "
     "un receptor que la vista presupuestaria no pudo ubicar (ver la lista de revisión)"),
    (rf"(?P<n>\d+) activities disbursed or spent {USD} to public bodies without a "
     r"disbursement channel",
     lambda r: f"{r['n']} actividades desembolsaron o gastaron {_usd(r)} a entidades "
     "públicas sin canal de desembolso"),
    (rf"(?P<n>\d+) activities disbursed or spent {USD} without a tied status",
     lambda r: f"{r['n']} actividades desembolsaron o gastaron {_usd(r)} sin decir si la "
     "ayuda es ligada"),
    (r"(?P<n>\d+) activities without (?P<field>" + "|".join(FIELDS) + ")",
     lambda r: f"{r['n']} actividades sin {FIELDS[r['field']]}"),
    (rf"{USD} under no objective of a plan in force \(see the review list: a plan's "
     r"objectives not loaded, or no crosswalk\)",
     lambda r: f"{_usd(r)} sin objetivo de un plan vigente (ver la lista de revisión: "
     "objetivos de un plan aún no cargados, o sin tabla de correspondencia)"),
])


def say(text: str | None, lang: str) -> Said:
    """A reason or note of the scorecard in `lang` (English: as written)."""
    if text is None:
        return Said("")
    if lang != "es":
        return Said(text)
    return PHRASES.say(text)
