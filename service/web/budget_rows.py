"""The activity page's budget view: each figure with its classification and code named, its
rule and status in the page's language, and beside every figure that is not verified (or
published by the provider) why, and what would settle it — the review list's fixes."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from mappings.crosswalks import Status
from mappings.tables import Classification
from service.services.budget.review import FIXES, Fix, fix_of, override_paths
from service.services.budget.views import FigurePublic
from service.web import explain, labels
from service.web.i18n import word

SETTLED = (Status.verified.value, Status.published.value)
FIXES_ES = {
    Fix.load_plan: "Cargar en las tablas el Plan Nacional de Desarrollo vigente en esas fechas, "
    "con sus filas de correspondencia.",
    Fix.ask_locations: "Pedir al cooperante sus ubicaciones en el Ecuador (códigos "
    "administrativos, nombres o coordenadas), o receptores que el catálogo de entidades ubique.",
    Fix.add_receiver: "Añadir el receptor al catálogo de entidades del Ecuador, o pedir al "
    "cooperante una organización receptora con su identificador (RUC).",
    Fix.ask_publisher: "Pedir al cooperante: {cause}",
    Fix.override_unmapped_row: "Una fila de correspondencia deja este dinero sin asignar a "
    "propósito (su justificación es el motivo); reemplace la fila para asignarlo.",
    Fix.decide_rows: "Decidir las filas de correspondencia: el ministerio confirma o "
    "reemplaza cada clave indicada.",
    Fix.review_table: "Revisar la tabla de {classification} y sus correspondencias.",
}
PROPOSED = ("Criterio razonado de iati-ec, no de una fuente oficial: pendiente de revisión "
            "del ministerio.", "iati-ec's reasoned judgment, not an official source: for the "
            "ministry to review.")
CHANNEL = ("Solo el cooperante lo dice: publicando el canal de desembolso de cada transacción "
           "(transaction/disbursement-channel).", "Only the provider can say: by publishing "
           "each transaction's disbursement channel (transaction/disbursement-channel).")
CONFIRM_RECEIVER = ("Confirmar el receptor: añadirlo con su RUC al catálogo de entidades, o "
                    "pedir al cooperante el RUC del receptor.", "Confirm the receiver: add it "
                    "with its RUC to the entity catalogue, or ask the provider for its RUC.")


@dataclass(frozen=True)
class Row:
    """One figure as the page shows it."""

    year: int
    measure: str
    classification: str
    code: str
    amount_usd: Decimal
    rule: str
    status: str
    reason: str | None
    fix: str | None
    overrides: tuple[str, ...]
    unofficial: bool  # its code's name is an unofficial translation (a DAC sector's)


def rows(figures: list[FigurePublic], lang: str) -> list[Row]:
    return [_row(figure, lang) for figure in figures]


def _row(figure: FigurePublic, lang: str) -> Row:
    english = lang == "en"
    reason, fix, overrides = _why(figure, lang)
    return Row(
        year=figure.year, measure=word(figure.measure, lang),
        classification=word(f"class_{figure.classification}", lang),
        code=labels.classified(figure.classification, figure.code, lang),
        amount_usd=figure.amount_usd,
        rule=figure.rule if english else explain.rule(figure.rule).text,
        status=word("status_" + figure.status.replace("-", "_"), lang),
        reason=reason, fix=fix, overrides=overrides,
        unofficial=not english and figure.code is not None
        and figure.classification == Classification.sector.value,
    )


def _why(figure: FigurePublic, lang: str) -> tuple[str | None, str | None, tuple[str, ...]]:
    """Why the figure is not settled, what would settle it, and the keys to decide."""
    if figure.status in SETTLED:
        return None, None, ()
    english = lang == "en"
    given = figure.unmapped_reason
    reason = (given if english else explain.reason(given).text) if given else None
    if figure.status == Status.not_applicable.value:
        return reason, None, ()
    overrides = tuple(override_paths([figure.rule]))
    if figure.status == Status.proposed.value:
        generic = PROPOSED[english]
        fix = (CONFIRM_RECEIVER[english] if figure.classification
               == Classification.perimeter.value and not overrides else None)
        return f"{generic} {reason}" if reason else generic, fix, overrides
    if figure.classification == Classification.disbursement_channel.value:
        return reason, CHANNEL[english], ()
    kind = fix_of(figure.classification, given or "", [figure.rule])
    template = FIXES[kind] if english else FIXES_ES[kind]
    fix = template.format(cause=reason or "",
                          classification=word(f"class_{figure.classification}", lang).lower())
    return reason, fix, overrides


__all__ = ["Row", "rows"]
