"""The Spanish pages' words, without a browser: every rule and reason the mapping engine
writes for real files, every crosswalk rationale a reason can quote and every validation
message has its Spanish; the Spanish names of IATI codes follow the codelists; codes are
shown with their names; the English pages keep the library's English."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from iati.codelists import load_codelist
from iati.findings import CATALOGUE
from mappings.crosswalks import Status, crosswalk_names, file_crosswalk
from mappings.engine import budget_view
from service.web import explain, labels, messages
from tests.support.samples import CAF_LOANS, EXAMPLES, ecuador_activities, sample

RULESETS = Path(__file__).resolve().parents[2] / "iati" / "resources" / "rulesets"


@pytest.fixture(scope="module")
def sentences() -> set[str]:
    """Every distinct rule and reason of the budget views of a real lender's loans, a real
    bilateral donor's grants, the IDB's loans to Ecuador and the worked examples."""
    files = [CAF_LOANS, sample("real/usaid-ec.xml"), sample("real/dportal-iadb-p3.xml"),
             *sorted(EXAMPLES.glob("*.xml"))]
    found: set[str] = set()
    for path in files:
        for activity in ecuador_activities(path):
            for figure in budget_view(activity).figures:
                found.update(text for text in (figure.rule, figure.reason) if text)
    return found


def test_every_rule_and_reason_of_real_files_is_said_in_spanish(sentences: set[str]) -> None:
    unknown = {text: said.unknown for text in sentences
               if (said := explain.BUDGET.say(text)).unknown}
    assert unknown == {}
    assert len(sentences) > 300


def test_every_rationale_a_reason_quotes_is_said_in_spanish() -> None:
    unmapped = {row.rationale for name in crosswalk_names() for row in file_crosswalk(name)
                if row.status is Status.unmapped and row.rationale}
    assert {text for text in unmapped if explain.BUDGET.say(text).unknown} == set()


@pytest.mark.parametrize(("english", "spanish"), [
    ("implementing MINISTERIO DE SALUD PúBLICA: name in the entities catalogue "
     "(Ministerio de Salud Pública)",
     "ejecutor MINISTERIO DE SALUD PúBLICA: nombre en el catálogo de entidades "
     "(Ministerio de Salud Pública)"),
    ("crosswalk publisher-sector XM-DAC-46008/99/8 → 121 (proposed); crosswalk "
     "sector-investment-subsector 2/121 (proposed)",
     "correspondencia «sector propio del publicador → sector CAD», clave XM-DAC-46008/99/8 "
     "→ 121 (propuesta); correspondencia «sector CAD → subsector de inversión», clave "
     "2/121 (propuesta)"),
    ("receivers in different perimeters: A → central; B → gad",
     "receptores en perímetros distintos: A → Presupuesto General del Estado (gobierno "
     "central); B → Gobiernos autónomos descentralizados"),
    ("aid_type G01: the donor's own administrative costs, not a transfer to Ecuador; "
     "aid_type B01: core contribution to a multilateral's own budget, not a flow to Ecuador",
     "tipo de ayuda G01: costos administrativos propios del donante, no una transferencia "
     "al Ecuador; tipo de ayuda B01: aporte básico al presupuesto propio de un organismo "
     "multilateral, no un flujo hacia el Ecuador"),
])
def test_sentences_joined_by_semicolons_are_said_one_by_one(english: str, spanish: str) -> None:
    said = explain.BUDGET.say(english)
    assert (said.text, said.unknown) == (spanish, ())


def test_an_unknown_sentence_is_kept_as_written_and_reported() -> None:
    said = explain.BUDGET.say("no sector published; a sentence nobody wrote")
    assert said.text == "no se publicó ningún sector; a sentence nobody wrote"
    assert said.unknown == ("a sentence nobody wrote",)


def _ruleset_messages() -> set[str]:
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            info = node.get("ruleInfo")
            if isinstance(info, dict) and "message" in info:
                found.add(str(info["message"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in RULESETS.rglob("*.json"):
        walk(json.loads(path.read_text(encoding="utf-8")))
    return found


def test_every_validation_message_is_said_in_spanish() -> None:
    own = {entry.template.replace("!r", "").format(actual="'x'", expected="y")
           for entry in CATALOGUE.values() if entry.template != "{actual}"}
    codelist = ('The activity status code is invalid. "9" is not a valid value for attribute '
                "@code, in element <activity-status> (codelist ActivityStatus).")
    said = {text: messages.phrasebook().say(text) for text in
            {*_ruleset_messages(), *own, codelist}}
    assert {text for text, spanish in said.items() if spanish.unknown} == set()
    assert messages.finding("9.3.1", codelist, "es") == (
        "«9» no es un valor válido para el atributo @code del elemento <activity-status> "
        "(lista de códigos ActivityStatus).")
    assert messages.finding("9.3.1", codelist, "en") == codelist


def test_the_spanish_names_follow_the_codelists() -> None:
    """Each translated name was made from the codelist's English name it records; a
    changed codelist fails here until its translation is reviewed."""
    path = Path(labels.__file__).parent / "spanish" / "codelists.csv"
    with path.open(encoding="utf-8") as rows:
        listed = list(csv.DictReader(rows))
    stale = [(row["codelist"], row["code"]) for row in listed
             if (item := load_codelist(row["codelist"]).get(row["code"])) is None
             or item.name != row["name_en"]]
    assert stale == []
    for codelist in ("Sector", "SectorCategory", "ActivityDateType", "TransactionType"):
        missing = [item.code for item in load_codelist(codelist)
                   if labels.code(codelist, item.code, "es") == item.name]
        assert missing == [], codelist


def test_codes_are_shown_with_their_names() -> None:
    assert labels.classified("income_item", "360301", "es") == (
        "360301 — De Organismos Multilaterales")
    assert labels.classified("fuente", "202", "es") == "202 — Préstamos Externos"
    assert labels.classified("fuente", "202", "en") == "202 — External loans"
    assert labels.classified("fuente", "n/a", "es") == "No aplica"
    assert labels.classified("sector", "72010", "es") == (
        "72010 — Asistencia material y servicios de socorro")
    assert labels.sector("720", "es") == "720 — Respuesta de emergencia"
    assert labels.sector("720", "en") == "720 — Emergency Response"
    assert str(labels.published_sector("99", "8", "Salud", "es")) == (
        '8 — <span class="published">Salud</span> (Propio de la organización que reporta)')
    assert labels.code("ActivityDateType", "2", "es") == "Inicio real"
    assert labels.code("ActivityDateType", "2", "en") == "Actual start"
