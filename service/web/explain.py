"""The budget view's rules and reasons in Spanish: one phrase for each sentence the mapping
engine writes (`mappings/engine.py`, `finance.py`, `perimeter.py`, `sectors.py`, `plans.py`,
`policy.py`, `geography.py`), and the crosswalk rationales it quotes, from
`spanish/rationales.csv` (an unofficial translation)."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from mappings.tables import Classification, table
from service.web.phrasebook import Phrasebook, Reading, Said, Spanish, spoken

SPANISH = Path(__file__).parent / "spanish"
DATE = r"\d{4}-\d{2}-\d{2}"

CROSSWALKS = {
    "aid-type-income-naturaleza": "tipo de ayuda → naturaleza del ingreso",
    "finance-category-instrument": "categoría de financiamiento → modalidad",
    "finance-income-subgroup": "fuente y naturaleza → subgrupo de ingreso",
    "finance-type-fuente": "tipo de financiamiento → fuente",
    "flow-type-fuente": "tipo de flujo → fuente",
    "geo-iso3166-2": "código ISO 3166-2 → provincia",
    "geo-names": "nombre de lugar → provincia o cantón",
    "organisation-type-income-item": "tipo de organización → ítem de ingreso",
    "policy-marker-orientacion": "marcador de política → orientación del gasto",
    "publisher-policy-marker": "marcador propio del publicador → marcador CAD",
    "publisher-sector": "sector propio del publicador → sector CAD",
    "sdg-plan-objective": "ODS → objetivo del plan",
    "sector-investment-subsector": "sector CAD → subsector de inversión",
    "sector-plan-objective": "sector CAD → objetivo del plan",
}
ROW_STATUS = {"verified": "verificada", "proposed": "propuesta", "unmapped": "sin asignar",
              "no row": "sin fila"}
KEY_COLUMNS = {
    "aid_type": "tipo de ayuda", "finance_category": "categoría de financiamiento",
    "finance_type": "tipo de financiamiento", "flow_type": "tipo de flujo",
    "fuente": "fuente", "naturaleza": "naturaleza", "income_subgroup": "subgrupo de ingreso",
    "organisation_type": "tipo de organización", "policy_marker": "marcador de política",
}
ROLES = {"receiver-org": "receptor", "implementing": "ejecutor", "accountable": "responsable",
         "provider-org (spending)": "proveedor que gasta"}
NOT_PUBLIC = {
    "an international NGO": "una ONG internacional", "a national NGO": "una ONG nacional",
    "a regional NGO": "una ONG regional", "an NGO": "una ONG",
    "a public-private partnership": "una asociación público-privada",
    "a multilateral organisation": "un organismo multilateral", "a foundation": "una fundación",
    "a private company": "una empresa privada",
}
LEVELS = {"province": "provincia", "canton": "cantón"}
CLASSES = {
    "income_item": "ítem de ingreso", "fuente": "fuente de financiamiento",
    "instrument": "modalidad", "orientación": "orientación del gasto",
    "investment_subsector": "subsector de inversión", "plan_objective": "objetivo del plan",
}
PND_2025 = (r"The objectives of PND 2025-2029 are not loaded yet \(not found in any source"
            r"(?P<alignment>, nor the plan's alignment of 96 of its 98 metas with SDG targets, "
            r"asamblea-2025)?\); proposed by theme: ")


@cache
def rationales() -> dict[str, str]:
    """The crosswalk rationales the reasons quote, English → Spanish."""
    with (SPANISH / "rationales.csv").open(encoding="utf-8") as rows:
        return {row["rationale_en"]: row["rationale_es"] for row in csv.DictReader(rows)}


def perimeter_name(code: str) -> str:
    row = table(Classification.perimeter).get(code)
    return row.name_es if row is not None else code


def _crosswalk(reading: Reading) -> str:
    name, key, status = reading["name"], reading["key"], reading["status"]
    said = f"correspondencia «{CROSSWALKS.get(name, name)}»"
    if name == "policy-marker-orientacion" and key == "none":
        key = "sin marcador"
    said += f", clave {key}" if key else ""
    said += f" ({ROW_STATUS[status]})" if status else ""
    if reading["target"]:
        said += f" → {reading['target']} ({ROW_STATUS[reading['target_status']]})"
    if reading["tags"]:
        said += f", por la etiqueta ODS {reading['tags']}"
    if reading["candidates"]:
        said += f", 1 de {reading['candidates']} candidatos"
    if reading["via"]:
        said += f", para {reading['via']} por su categoría {reading['category']}"
    return said


def _refused(reading: Reading) -> str:
    pairs = [pair.split(" ", 1) for pair in reading["named"].split(", ")]
    named = ", ".join(f"{KEY_COLUMNS[column]} {value}" for column, value in pairs)
    why = reading["why"]
    if why.startswith("no row in "):
        walk = why.removeprefix("no row in ")
        return f"{named}: sin fila en la correspondencia «{CROSSWALKS.get(walk, walk)}»"
    return f"{named}: {rationales()[why]}"


def _also(reading: Reading) -> str:
    parts = [part.split(" (", 1) for part in reading["others"].split("; ")]
    said = []
    for code, why in parts:
        inner = BUDGET.say(why.removesuffix(")")).text
        said.append(f"{perimeter_name(code)} ({inner})")
    return "también: " + "; ".join(said)


def _pnd(reading: Reading) -> str:
    themes = reading["themes"].replace("eje de Riesgos", "eje Riesgos")
    themes = themes.replace(" (security)", " (seguridad)").replace(" / ", " o ")
    themes = themes.replace(" falls under ", " corresponde al ")
    if reading["sdg"]:
        themes = "ODS " + themes.removeprefix("SDG ")
    sourced = (", ni la alineación del plan de 96 de sus 98 metas con las metas de los ODS, "
               "asamblea-2025") if reading["alignment"] else ""
    said = (f"Los objetivos del PND 2025-2029 aún no están cargados (no se encontraron en "
            f"ninguna fuente{sourced}); propuesto por tema: {themes}")
    if reading["security"]:
        said += (" (seguridad y justicia estaban en el eje social del PND 2024-2025; el eje 4 "
                 "Institucional es la alternativa)")
    return said + (". Asígnelo a un objetivo cuando se lea el texto del plan"
                   if reading["map"] else "")


RECEIVER = (r"(?P<role>receiver-org|implementing|accountable|provider-org \(spending\)) "
            r"(?P<label>[^;]+?): ")
IDENTITIES: list[tuple[str, Spanish]] = [
    (r"ref (?P<ref>\S+): the CRS channel of the recipient country's government",
     "ref {ref}: el canal CRS del gobierno del país receptor"),
    (r"RUC (?P<ruc>\d+) in the entities catalogue", "RUC {ruc} en el catálogo de entidades"),
    (r"RUC (?P<ruc>\d+): a private company", "RUC {ruc}: una empresa privada"),
    (r"RUC (?P<ruc>\d+): a natural person", "RUC {ruc}: una persona natural"),
    (r"ref (?P<ref>\S+): an acronym in the entities catalogue",
     "ref {ref}: una sigla del catálogo de entidades"),
    (r"name in the entities catalogue \((?P<name>[^;]+)\)",
     "nombre en el catálogo de entidades ({name})"),
    (r"a municipal, metropolitan or provincial enterprise",
     "una empresa municipal, metropolitana o provincial"),
    (r"a parish GAD's name, of (?P<place>[^;]+)", "nombre de un GAD parroquial, de {place}"),
    (r"a GAD's name, of (?P<place>[^;]+)", "nombre de un GAD, de {place}"),
    (r"ref (?P<ref>\S+): a foreign or international organisation",
     "ref {ref}: una organización extranjera o internacional"),
    (r"a company form in the name", "una forma societaria en el nombre"),
    (r"a foundation's or association's name: a private non-profit",
     "nombre de fundación o asociación: una entidad privada sin fines de lucro"),
    (r"receiver unknown", "receptor desconocido"),
    (r"type (?P<type>\S+): (?P<kind>" + "|".join(NOT_PUBLIC) + ")",
     lambda r: f"tipo {r['type']}: {NOT_PUBLIC[r['kind']]}"),
]


def _with_role(pattern: str, spanish: Spanish) -> tuple[str, Spanish]:
    """An identity after the receiver's role and name, as a rule gives it ("implementing
    X: name in the entities catalogue (…)"); alone, it is a reason's ("also: …")."""
    said = spoken(spanish)
    return RECEIVER + pattern, lambda r: f"{ROLES[r['role']]} {r['label']}: {said(r)}"


PHRASES: list[tuple[str, Spanish]] = [
    (r"crosswalk (?P<name>[a-z0-9-]+)(?: (?P<key>[^\s()]+))?(?: \((?P<status>verified|proposed"
     r"|unmapped|no row)\))?(?: → (?P<target>\S+) \((?P<target_status>\w+)\))?"
     r"(?: for tag (?P<tags>\d/[\d.]+(?:, \d/[\d.]+)*)(?:, 1 of (?P<candidates>\d+) candidates)?)?"
     r"(?: for (?P<via>\S+) via category (?P<category>\S+))?", _crosswalk),
    (r"no flow type published: the flow was not checked",
     "sin tipo de flujo publicado: no se verificó el flujo"),
    (r"perimeter off-budget \((?P<inner>.+)\)",
     lambda r: f"perímetro fuera del presupuesto ({r.say('inner')})"),
    (r"sector vocabulary (?P<v>\S+), as published",
     "sector del vocabulario {v}, tal como se publicó"),
    (r"disbursement-channel, as published", "canal de desembolso, tal como se publicó"),
    (r"country-budget-items vocabulary (?P<v>\S+), published by the donor",
     "partidas presupuestarias del país (country-budget-items), vocabulario {v}, publicadas "
     "por el cooperante"),
    (r"activity-scope 4: national", "alcance de la actividad 4: nacional"),
    (r"receiver (?P<name>[^;]+): the GAD of (?P<place>[^;]+)",
     "receptor {name}: el GAD de {place}"),
    (r"name (?P<name>[^;]+) = (?P<level>province|canton) (?P<code>\d+) (?P<es>[^;]+) \(table\)",
     lambda r: f"nombre {r['name']} = {LEVELS[r['level']]} {r['code']} {r['es']} (tabla)"),
    (r"canton (?P<c>\d+) lies in province (?P<p>\d+)",
     "el cantón {c} está en la provincia {p}"),
    (r"a province and a canton; read as the province \(level 1 given\)",
     "una provincia y un cantón; se lee como la provincia (se dio el nivel 1)"),
    (r"a province and a canton; read as the canton \(no level 1 given\)",
     "una provincia y un cantón; se lee como el cantón (no se dio el nivel 1)"),
    (r"coordinates (?P<pos>[^;]+?) in boundary ec-provinces (?P<v>\S+) \(Natural Earth admin-1\)"
     r"(?:, (?P<km>[\d.]+) km outside its drawn edge)?",
     lambda r: f"coordenadas {r['pos']} dentro del límite provincial ec-provinces {r['v']} "
     f"(Natural Earth admin-1)" + (f", a {r['km']} km de su borde dibujado" if r["km"] else "")),
    (r"geography", "geografía"),
    (r"sectors", "sectores"),
    (r"missing input", "datos faltantes"),
    (r"perimeter", "perímetro"),
    (r"disbursement-channel", "canal de desembolso"),
    (r"codelist FinanceType", "lista de códigos FinanceType de IATI"),
    # Reasons.
    (r"receiver unknown: no receiver-org, and no implementing or accountable "
     r"participating-org", "receptor desconocido: no hay organización receptora "
     "(receiver-org) ni organización participante ejecutora o responsable"),
    (r"receiver unknown: (?P<names>.+)", "receptor desconocido: {names}"),
    (r"receivers in different perimeters: (?P<named>.+)",
     lambda r: "receptores en perímetros distintos: " + "; ".join(
         f"{name} → {perimeter_name(code)}" for name, code in
         (part.rsplit(" → ", 1) for part in r["named"].split("; ")))),
    (r"also: (?P<others>.+)", _also),
    (r"off-budget: the receiver's money never enters a public budget, so no income ítem or "
     r"fuente applies", "fuera del presupuesto: el dinero del receptor nunca entra en un "
     "presupuesto público, así que no le corresponden ítem de ingreso ni fuente"),
    (r"no disbursement channel published", "no se publicó el canal de desembolso"),
    (r"disbursement channel (?P<code>\S+) is not in IATI's DisbursementChannel codelist",
     "el canal de desembolso {code} no está en la lista DisbursementChannel de IATI"),
    (r"no sector published", "no se publicó ningún sector"),
    (r"a sector of vocabulary (?P<v>\S+) without a code",
     "un sector del vocabulario {v} sin código"),
    (r"the publisher's own sector code (?P<code>\S+?)(?: \((?P<narrative>.*)\))? has no DAC "
     r"code in crosswalk publisher-sector",
     lambda r: f"el código de sector propio del publicador {r['code']}"
     + (f" ({r['narrative']})" if r["narrative"] else "")
     + " no tiene código CAD en la correspondencia «sector propio del publicador → sector CAD»"),
    (r"the crosswalk rows' shares sum to (?P<total>\S+), not 100",
     "las partes de las filas de la correspondencia suman {total}, no 100"),
    (r"sector vocabulary '(?P<v>[^']*)' is not mapped: only DAC 5-digit purpose codes \(1\) "
     r"and DAC 3-digit categories \(2\) are", "el vocabulario de sectores «{v}» no se asigna: "
     "solo los códigos CAD de 5 dígitos (1) y las categorías CAD de 3 dígitos (2)"),
    (r"'(?P<code>[^']*)' is not a code of the IATI (?P<codelist>\w+) codelist",
     "«{code}» no es un código de la lista {codelist} de IATI"),
    (r"no crosswalk row for (?P<codelist>\w+) code (?P<code>\S+)(?: nor for its category "
     rf"(?P<category>\S+))? in force on (?P<on>{DATE})",
     lambda r: f"ninguna fila de la correspondencia para el código {r['code']} de "
     f"{r['codelist']}" + (f" ni para su categoría {r['category']}" if r["category"] else "")
     + f" vigente el {r['on']}"),
    (rf"(?P<code>\S+) is not a target in force on (?P<on>{DATE})",
     "{code} no es un destino vigente el {on}"),
    (rf"no national development plan in the tables is in force on (?P<on>{DATE})"
     rf"(?:; the first, (?P<plan>\S+), is in force from (?P<since>{DATE}))?",
     lambda r: f"ningún Plan Nacional de Desarrollo de las tablas está vigente el {r['on']}"
     + (f"; el primero, {r['plan']}, rige desde el {r['since']}" if r["plan"] else "")),
    (rf"no crosswalk row for SDG goal (?P<goal>\S+) of (?P<plan>\S+) in force on (?P<on>{DATE})",
     "ninguna fila de la correspondencia para el ODS {goal} del {plan} vigente el {on}"),
    (r"the crosswalk rows of SDG goal (?P<goal>\S+) split it by shares that do not sum to 100",
     "las filas de la correspondencia del ODS {goal} lo reparten en partes que no suman 100"),
    (rf"(?P<code>\S+) is not an objective of (?P<plan>\S+) in force on (?P<on>{DATE})",
     "{code} no es un objetivo del {plan} vigente el {on}"),
    (PND_2025 + r"(?P<sdg>SDG )?(?P<themes>.+?)(?P<security> \(security and justice sat in the "
     r"social eje of PND 2024-2025; eje 4 Institucional is the alternative\))?"
     r"(?P<map>\. Map it to an objective once the plan's text is read)?", _pnd),
    (r"no finance type: the donor should publish default-finance-type or the transaction's "
     r"finance-type", "sin tipo de financiamiento: el cooperante debería publicar "
     "default-finance-type o el finance-type de la transacción"),
    (r"no organisation type: the reporting organisation should publish reporting-org/@type "
     r"\(or the transaction its provider-org/@type\)", "sin tipo de organización: la "
     "organización que reporta debería publicar reporting-org/@type (o la transacción su "
     "provider-org/@type)"),
    (r"finance type (?P<code>\S+) is not in IATI's FinanceType codelist",
     "el tipo de financiamiento {code} no está en la lista FinanceType de IATI"),
    (r"no aid type of vocabulary 1: the donor should publish default-aid-type or the "
     r"transaction's aid-type, which tells grants for current spending from capital ones",
     "sin tipo de ayuda del vocabulario 1: el cooperante debería publicar default-aid-type o "
     "el aid-type de la transacción, que distingue las donaciones para gasto corriente de las "
     "de capital"),
    (rf"(?P<code>\S+) is not in the (?P<table>\S+) table on (?P<on>{DATE})",
     lambda r: f"{r['code']} no está en la tabla de {CLASSES.get(r['table'], r['table'])} "
     f"el {r['on']}"),
    (r"policy marker (?P<code>\S+) has (?:significance '(?P<sig>[^']*)', not a "
     r"PolicySignificance code|(?P<none>no significance))(?P<ask>: the donor should publish "
     r"policy-marker/@significance)?",
     lambda r: f"el marcador de política {r['code']} "
     + ("no tiene importancia (significance)" if r["none"]
        else f"tiene la importancia «{r['sig']}», que no es un código PolicySignificance")
     + (": el cooperante debería publicar policy-marker/@significance" if r["ask"] else "")),
    (r"policy-marker-orientacion has no row for no marker",
     "la correspondencia «marcador de política → orientación del gasto» no tiene fila para "
     "«sin marcador»"),
    (r"no location in Ecuador published", "no se publicó ninguna ubicación en el Ecuador"),
    (r"no location published", "no se publicó ninguna ubicación"),
    (r"province (?P<p>\d+) known from a provincial government, canton not published",
     "provincia {p} conocida por un gobierno provincial; no se publicó el cantón"),
    (r"province (?P<p>\d+) known, canton not published(?: \((?P<why>.+)\))?",
     lambda r: f"provincia {r['p']} conocida; no se publicó el cantón"
     + (f" ({r.say('why')})" if r["why"] else "")),
    (r"cantons are not placed from coordinates: no canton boundaries ship with iati-ec",
     "los cantones no se ubican por coordenadas: iati-ec no incluye límites cantonales"),
    (r"its name gives canton (?P<c>\S+), outside province (?P<p>\S+) of its code",
     "su nombre da el cantón {c}, fuera de la provincia {p} de su código"),
    (r"administrative code (?P<code>[^;]+) \(vocabulary (?P<v>\S+), level (?P<level>\S+)\) not "
     r"recognised", "código administrativo {code} (vocabulario {v}, nivel {level}) no "
     "reconocido"),
    (r"(?P<field>name|description) (?P<text>'[^']*'|\"[^\"]*\") (?P<note>names only the "
     r"country|matches no province or canton(?: \([^;]*\))?|names several places \([^;]*\)|"
     r"is ambiguous: .*|is shared by cantons [^;]*)", lambda r: _place_note(r)),
    (r"location-id (?P<code>\S+) \(vocabulary (?P<v>\S+)\) not used: no gazetteer crosswalk",
     "location-id {code} (vocabulario {v}) no usado: no hay correspondencia de nomenclátor"),
    (r"no administrative code, name, description or coordinates published",
     "no se publicó código administrativo, nombre, descripción ni coordenadas"),
    (r"coordinates (?P<pos>[^;]+?) not used: srsName (?P<srs>[^;]+) is not WGS 84 \(EPSG:4326\)",
     "coordenadas {pos} no usadas: el srsName {srs} no es WGS 84 (EPSG:4326)"),
    (r"coordinates (?P<pos>[^;]+?) not used: the location names only the country, so its point "
     r"stands for the country, not a province", "coordenadas {pos} no usadas: la ubicación "
     "nombra solo al país, así que su punto representa al país, no a una provincia"),
    (r"coordinates (?P<pos>[^;]+?) not used: not \"latitude longitude\" in range",
     "coordenadas {pos} no usadas: no son «latitud longitud» dentro de rango"),
    (r"coordinates (?P<pos>[^;]+?) fall in no province \(at sea or abroad\)",
     "las coordenadas {pos} no caen en ninguna provincia (en el mar o en el exterior)"),
    (r"(?P<named>(?:" + "|".join(KEY_COLUMNS) + r") [^,:]+(?:, (?:" + "|".join(KEY_COLUMNS)
     + r") [^,:]+)*): (?P<why>.+)", lambda r: _refused(r) if _known_refusal(r["why"])
     else _missing(r)),
]


class _UnknownError(Exception):
    """Raised inside a phrase that matched a pattern but quotes a text no one translated."""


def _known_refusal(why: str) -> bool:
    return why.startswith("no row in ") or why in rationales()


def _missing(reading: Reading) -> str:
    raise _UnknownError(reading.match.string)


def _place_note(reading: Reading) -> str:
    note = reading["note"]
    for english, spanish in (
        ("names only the country", "nombra solo al país"),
        ("matches no province or canton", "no coincide con ninguna provincia ni cantón"),
        ("names several places", "nombra varios lugares"),
        ("is ambiguous: ", "es ambiguo: "),
        ("is shared by cantons", "lo comparten los cantones"),
    ):
        if note.startswith(english):
            rest = note.removeprefix(english)
            if english == "is ambiguous: ":
                rest = rationales()[rest]
            field = "nombre" if reading["field"] == "name" else "descripción"
            return f"{field} {reading['text']} {spanish}{rest}"
    raise _UnknownError(note)


class BudgetPhrasebook(Phrasebook):
    """The engine's sentences, and any crosswalk rationale quoted alone (an unmapped row's
    reason is its rationale as written)."""

    def _sentence(self, sentence: str) -> Said | None:
        if sentence in rationales():
            return Said(rationales()[sentence])
        try:
            return super()._sentence(sentence)
        except (_UnknownError, KeyError):
            return None


BUDGET = BudgetPhrasebook([*(_with_role(pattern, spanish) for pattern, spanish in IDENTITIES),
                           *IDENTITIES, *PHRASES])


def rule(text: str) -> Said:
    """A figure's rule in Spanish."""
    return BUDGET.say(text)


def reason(text: str | None) -> Said:
    """A figure's reason (why it is unmapped, not applicable or proposed) in Spanish."""
    return BUDGET.say(text or "")


__all__ = ["BUDGET", "perimeter_name", "rationales", "reason", "rule"]
