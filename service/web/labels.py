"""Names for the codes the dashboard shows: provinces, plan objectives, DAC sectors and
organisations, in the words of their own tables."""

from __future__ import annotations

from functools import cache

from sqlalchemy import select
from sqlalchemy.engine import Connection

from iati.codelists import load_codelist
from mappings.geography import NATIONAL
from mappings.tables import Classification, table
from service.services.merges import ORG_REF, ORGANISATION


def province(code: str | None) -> str | None:
    if code == NATIONAL:
        return "Nacional"
    row = table(Classification.province).get(code) if code else None
    return row.name_es.title() if row is not None else None


def plan_objective(code: str | None) -> str | None:
    row = table(Classification.plan_objective).get(code) if code else None
    return f"{code}. {row.name_es}" if row is not None else None


@cache
def sector(code: str | None) -> str | None:
    """A DAC sector's or category's name (the codelists have it in English and French)."""
    if not code:
        return None
    item = load_codelist("Sector" if len(code) == 5 else "SectorCategory").get(code)
    return f"{code} {item.name}" if item is not None and item.name else code


def organisations(connection: Connection, refs: set[str]) -> dict[str, str]:
    """The registry's name of each identifier in `refs` that it knows."""
    if not refs:
        return {}
    statement = (
        select(ORG_REF.c.ref, ORGANISATION.c.name)
        .join(ORGANISATION, ORGANISATION.c.id == ORG_REF.c.organisation_id)
        .where(ORG_REF.c.ref.in_(sorted(refs)))
    )
    return {str(ref): str(name) for ref, name in connection.execute(statement)}


# Spanish names of the few codelists the pages name most; other codes show the
# codelist's own (English) name.
SPANISH = {
    "ActivityStatus": {"1": "En preparación", "2": "En ejecución", "3": "Finalizada",
                       "4": "Cerrada", "5": "Cancelada", "6": "Suspendida"},
    "OrganisationRole": {"1": "Financiadora", "2": "Responsable", "3": "Intermediaria",
                         "4": "Ejecutora"},
    "TransactionType": {"1": "Fondos recibidos", "2": "Compromiso", "3": "Desembolso",
                        "4": "Gasto", "5": "Reembolso de intereses", "6": "Reembolso de "
                        "préstamo", "7": "Reintegro", "8": "Compra de acciones",
                        "9": "Venta de acciones", "10": "Garantía de crédito",
                        "11": "Compromiso recibido", "12": "Desembolso saliente a otra "
                        "actividad", "13": "Compromiso saliente a otra actividad"},
    "LoanRepaymentType": {"1": "Cuotas iguales de principal", "2": "Anualidad (cuota fija)",
                          "3": "Pago único al vencimiento", "5": "Otro"},
    "LoanRepaymentPeriod": {"1": "Anual", "2": "Semestral", "4": "Trimestral",
                            "12": "Mensual"},
}


@cache
def code(codelist: str, value: str | None, lang: str) -> str:
    """The name of `value` in `codelist`, in Spanish where the pages have it."""
    if not value:
        return "—"
    if lang == "es" and value in SPANISH.get(codelist, {}):
        return SPANISH[codelist][value]
    item = load_codelist(codelist).get(value)
    return item.name if item is not None and item.name else value


def expenditure_item(code: str | None) -> str | None:
    row = table(Classification.expenditure_item).get(code) if code else None
    return row.name_es if row is not None else None
