"""Which public budget, if any, the receiver of an amount belongs to: its perimeter.

Article 292 of the Constitution leaves social security, public banks, public enterprises
and the decentralised governments (GADs) out of the Presupuesto General del Estado, so
money lent or given to Ecuador sits in one of six perimeters (`perimeters.csv`): `central`
(the PGE), `gad`, `social-security`, `public-financial`, `public-enterprise`, or
`off-budget` — money that never enters a public budget (foreign and international
organisations implementing themselves, NGOs, private companies and banks).

The receiver is the transaction's receiver-org, else the activity's implementing
participating-orgs (role 4), else its accountable ones (role 2), never the extending one
(role 3, the donor's side). Each is identified, in order:

1. by its ref: an Ecuadorian RUC (`EC-RUC-…`, or its 13 digits alone) in the entities
   catalogue (`verified`); the CRS channel code of the recipient government (12000–12003);
   a RUC whose third digit is 9 (a company) or below 6 (a person) is `off-budget`; an
   Ecuadorian ref of the publisher's making (`EC-MSP`) by its acronym (`proposed`);
2. by its name, set against the catalogue of Ecuadorian entities and against the forms of
   a GAD's name ("GOBIERNO PROVINCIAL DE MANABÍ", "Cantón Daule", "MUNICIPALIDAD DE
   QUITO"), accents, case, punctuation and spacing aside (`proposed`);
3. as recognisably not public (`off-budget`, `proposed`): a foreign or international ref
   (another country's register, `XM-`/`XI-`, a CRS channel code of another government, an
   NGO, a multilateral or the private sector), an NGO, multilateral,
   foundation or private-sector type, a company form in the name (S.A., C.A., Cía. Ltda.),
   a foundation's or association's name (Fundación …, Asociación …).

A placeholder where a ref should be ("N/A", "#", "nan") counts as no ref.

Nothing known leaves the amount unmapped ("receiver unknown"), for the review list. Two
candidates that disagree (two catalogue rows, a ref and a name) give a `proposed` figure
naming both. Receivers in different perimeters leave it unmapped, naming each: the
perimeter is one value per amount, never a split.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from iati.codelists import load_codelist
from mappings.crosswalks import Resolution, Status, unmapped
from mappings.money import HUNDRED
from mappings.tables import Classification, Code, file_version, table

__all__ = ["Entity", "Receiver", "catalogue", "entity", "normalised", "perimeter"]

CATALOGUE = Path(__file__).resolve().parent / "data" / "catalogues" / "ec-entities.csv"
OFF_BUDGET, GAD = "off-budget", "gad"
INTERNATIONAL_KIND = "international"  # a catalogue kind: not an Ecuadorian entity
RUC = re.compile(r"^(?:EC-RUC-)?((?:0[1-9]|1\d|2[0-4]|30)[0-69]\d{10})$")  # bare too
# International identifiers' prefixes; another country's register is recognised by the
# OrganisationRegistrationAgency codelist (US-EIN-…, GB-COH-…).
INTERNATIONAL = ("XM-", "XI-")
# CRS channel codes, which publishers give as refs: the recipient government's (12xxx),
# and the kinds that are never an Ecuadorian public body: other governments (11xxx,
# 13xxx), NGOs (2xxxx), multilaterals (4xxxx) and the private sector (6xxxx).
CHANNELS = {"12000": "central", "12001": "central", "12002": GAD,
            "12003": "public-enterprise"}
FOREIGN_CHANNELS = ("11", "13", "2", "4", "6")
# What publishers write where they have no identifier, or no name.
NO_REF = frozenset({"", "N/A", "NA", "NAN", "NONE", "NULL", "#", "-", "0", "UNKNOWN"})
NO_NAME = frozenset({"nan", "n a", "none", "null", "unknown", "unspecified"})
# IATI OrganisationType codes that are never an Ecuadorian public body.
NOT_PUBLIC_TYPES = {
    "21": "an international NGO", "22": "a national NGO", "23": "a regional NGO",
    "24": "an NGO", "30": "a public-private partnership", "40": "a multilateral organisation",
    "60": "a foundation", "70": "a private company", "71": "a private company",
    "72": "a private company", "73": "a private company",
}
# Company forms at the end of a name, once normalised ("S.A." is "s a").
COMPANY_FORMS = re.compile(
    r"\b(?:s a|c a|s a s|s a de c v|cia ltda|ltda|ltd|limited|s l|s r l|srl|b v|ag|inc"
    r"|llc|llp|gmbh|plc|corp|corporation)$")
# The State's own companies under company law (electricity distributors): public.
STATE_COMPANIES = re.compile(r"^(?:empresa electrica|corporacion electrica)\b")
# Forms of a GAD's name, once normalised; what follows is the place.
GAD_FORMS = re.compile(
    r"^(?:(?:h |muy ilustre |ilustre |i |m i )?(?:gobierno autonomo descentralizado|gad"
    r"|gobierno)(?: municipal| provincial| parroquial(?: rural)?| metropolitano)?"
    r"(?: autonomo)?"
    r"|gadm|gadp|(?:h |muy ilustre |ilustre |i |m i )?(?:municipalidad|municipio"
    r"|consejo provincial|prefectura|alcaldia|junta parroquial(?: rural)?)(?: metropolitana)?"
    r"|canton|distrito metropolitano)"
    r"(?: (?:del|de|el))?(?: (?:canton|provincia|ciudad|municipio|parroquia"
    r"|distrito metropolitano)(?: (?:del|de))?)? (?P<place>[a-z ]+)$"
)
PARISH = re.compile(r"\b(?:parroquial|parroquia)\b")  # parishes: no table to check against
# Private non-profits' names; the GADs' own associations are public.
CIVIL_FORMS = re.compile(
    r"^(?:fundacion|asociacion|corporacion de derecho privado|ong) "
    r"(?!(?:de )?(?:municipalidades|gobiernos|consejos provinciales|juntas parroquiales))")
LOCAL_ENTERPRISE = re.compile(r"\bempresa (?:publica )?(?:municipal|metropolitana|provincial)\b")
# What publishers add to an entity's name: the country ("del Ecuador", "de la República
# del Ecuador", ", Ecuador"), and its acronym in brackets ("… (MIDUVI)").
COUNTRY = re.compile(r"(?: (?:del|de|de la|de l a) (?:republica|rep))?(?: (?:del|de))? ecuador$")
BRACKETS = re.compile(r"\s*\(([^)]*)\)\s*")


@dataclass(frozen=True, slots=True)
class Receiver:
    """An organisation that receives an amount, as the activity names it."""

    ref: str | None
    type: str | None
    name: str | None
    role: str  # where it was found: "receiver-org", "implementing", "accountable"

    @property
    def label(self) -> str:
        return self.name or self.ref or "(no name)"


@dataclass(frozen=True, slots=True)
class Entity:
    """A row of the catalogue of Ecuadorian entities."""

    name: str
    perimeter: str
    kind: str
    ruc: str | None
    status: Status
    rationale: str
    source: str
    # The entity's official name, when `name` is another name for it (an acronym, a
    # shorter or former name): a row of its own.
    official_name: str | None = None


@dataclass(frozen=True, slots=True)
class Catalogue:
    entities: tuple[Entity, ...]
    by_name: dict[str, tuple[Entity, ...]]
    by_ruc: dict[str, tuple[Entity, ...]]
    version: str
    by_official: dict[str, Entity]  # the rows whose name is an entity's official name


@dataclass(frozen=True, slots=True)
class _Identity:
    """What one receiver is: a perimeter (None: unknown), how sure, and why."""

    perimeter: str | None
    status: Status
    rule: str
    others: tuple[str, ...] = ()  # disagreeing candidates, "perimeter (why)"


def normalised(name: str) -> str:
    """`name` with accents, case, punctuation, spacing and a bracketed aside set aside."""
    decomposed = unicodedata.normalize("NFKD", BRACKETS.sub(" ", name))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())


@cache
def catalogue() -> Catalogue:
    """The catalogue of Ecuadorian entities and their perimeters, read once."""
    content = CATALOGUE.read_bytes()
    entities = tuple(
        Entity(name=row["name"].strip(), perimeter=row["perimeter"].strip(),
               kind=row["kind"].strip(), ruc=(row.get("ruc") or "").strip() or None,
               status=Status(row["status"].strip()), rationale=row["rationale"].strip(),
               source=row["source"].strip(),
               official_name=(row.get("official_name") or "").strip() or None)
        for row in csv.DictReader(io.StringIO(content.decode("utf-8")))
    )
    named = {e.name for e in entities}
    aliases = {e.name for e in entities if e.official_name}
    wrong = sorted(e.name for e in entities
                   if e.official_name and (e.official_name not in named
                                           or e.official_name in aliases))
    if wrong:
        raise ValueError(f"{CATALOGUE.name}: official names that are no row's own: {wrong}")
    perimeters = {code.code for code in table(Classification.perimeter)}
    unknown = sorted({e.perimeter for e in entities} - perimeters)
    if unknown:
        raise ValueError(f"{CATALOGUE.name}: perimeters not in perimeters.csv: {unknown}")
    by_name: dict[str, list[Entity]] = {}
    by_ruc: dict[str, list[Entity]] = {}
    for entity in entities:
        by_name.setdefault(normalised(entity.name), []).append(entity)
        if entity.ruc:
            by_ruc.setdefault(entity.ruc, []).append(entity)
    return Catalogue(entities, {k: tuple(v) for k, v in by_name.items()},
                     {k: tuple(v) for k, v in by_ruc.items()}, file_version(content),
                     {e.name: e for e in entities if not e.official_name})


def perimeter(receivers: Sequence[Receiver], *, on: date) -> Resolution:
    """The perimeter of an amount that `receivers` receive (see the module)."""
    version = f"ec-entities@{catalogue().version}"
    if not receivers:
        return unmapped("receiver unknown: no receiver-org, and no implementing or "
                        "accountable participating-org", rule="perimeter", version=version)
    found = [(receiver, _identity(receiver, on)) for receiver in receivers]
    unknown = [receiver.label for receiver, identity in found if identity.perimeter is None]
    if unknown:
        return unmapped(f"receiver unknown: {'; '.join(unknown)}", rule="perimeter",
                        version=version)
    codes = dict.fromkeys(identity.perimeter for _, identity in found)
    if len(codes) > 1:
        named = "; ".join(f"{r.label} → {i.perimeter}" for r, i in found)
        return unmapped(f"receivers in different perimeters: {named}", rule="perimeter",
                        version=version)
    [code] = codes
    assert code is not None
    identities = [identity for _, identity in found]
    others = [other for identity in identities for other in identity.others]
    status = Status.verified if all(
        i.status is Status.verified for i in identities) and not others else Status.proposed
    rules = "; ".join(dict.fromkeys(f"{r.role} {r.label}: {i.rule}" for r, i in found))
    return Resolution(code=code, share=HUNDRED, rule=rules, status=status, version=version,
                      reason=f"also: {'; '.join(others)}" if others else None)


def entity(ref: str | None, name: str | None) -> Entity | None:
    """The Ecuadorian entity of the catalogue an organisation is, read as `perimeter` reads
    a receiver: by its RUC, by an Ecuadorian ref's acronym, else — when it has no ref or an
    Ecuadorian one — by its name. International organisations are not Ecuadorian entities.
    A row naming the entity otherwise (`official_name`) stands for the entity's own row, and
    rows sharing a RUC are one entity, named by the first."""
    given = _ref(Receiver(ref, None, None, ""))
    match = RUC.match(given)
    if match is not None:
        listed = catalogue().by_ruc.get(match.group(1), ())
    elif given.startswith("EC-"):
        listed = catalogue().by_name.get(normalised(given[3:]), ())
    else:
        listed = ()
    if not listed and name and (not given or given.startswith("EC-")) and (
            normalised(name) not in NO_NAME):
        listed = _listed(name)
    found = next((row for row in listed if row.kind != INTERNATIONAL_KIND), None)
    if found is not None and found.official_name:
        found = catalogue().by_official[found.official_name]
    if found is None or found.ruc is None:
        return found
    return catalogue().by_ruc[found.ruc][0]


def _identity(receiver: Receiver, on: date) -> _Identity:
    candidates = [c for c in (_by_ref(receiver), _by_name(receiver, on), _not_public(receiver))
                  if c is not None and c.perimeter is not None]
    if not candidates:
        return _Identity(None, Status.unmapped, "receiver unknown")
    chosen = candidates[0]
    others = tuple(dict.fromkeys(
        f"{c.perimeter} ({c.rule})" for c in candidates[1:] if c.perimeter != chosen.perimeter
    )) + chosen.others
    status = chosen.status if not others else Status.proposed
    return _Identity(chosen.perimeter, status, chosen.rule, others)


def _ref(receiver: Receiver) -> str:
    """The receiver's ref, upper-cased; empty when it is a placeholder ("N/A", "#")."""
    ref = (receiver.ref or "").strip().upper()
    return "" if ref in NO_REF else ref


def _by_ref(receiver: Receiver) -> _Identity | None:
    ref = _ref(receiver)
    if ref in CHANNELS:
        return _Identity(CHANNELS[ref], Status.proposed,
                         f"ref {ref}: the CRS channel of the recipient country's government")
    match = RUC.match(ref)
    if match is None:
        # An Ecuadorian ref of the publisher's own making ("EC-MSP", "EC-CONAFIPS"): its
        # acronym, if the catalogue knows it.
        listed = catalogue().by_name.get(normalised(ref[3:])) if ref.startswith("EC-") else None
        return _chosen(listed, f"ref {receiver.ref}: an acronym in the entities catalogue",
                       Status.proposed) if listed else None
    ruc = match.group(1)
    listed = catalogue().by_ruc.get(ruc, ())
    if listed:
        return _chosen(listed, f"RUC {ruc} in the entities catalogue", Status.verified)
    if ruc[2] == "9":
        return _Identity(OFF_BUDGET, Status.proposed, f"RUC {ruc}: a private company")
    if ruc[2] < "6":
        return _Identity(OFF_BUDGET, Status.proposed, f"RUC {ruc}: a natural person")
    return None  # a public RUC not in the catalogue: the name must tell which body


def _by_name(receiver: Receiver, on: date) -> _Identity | None:
    if not receiver.name or normalised(receiver.name) in NO_NAME:
        return None
    listed = _listed(receiver.name)
    if listed:
        return _chosen(listed, f"name in the entities catalogue ({listed[0].name})",
                       Status.proposed)
    for name in _name_forms(receiver.name):
        gad = _gad(name, on)
        if gad is not None:
            return _Identity(GAD, Status.proposed, gad)
    return None


def _name_forms(name: str) -> list[str]:
    """The normalised forms a name is looked up by: whole, and each part of "A - B"."""
    return list(dict.fromkeys(form for part in [name, *re.split(r"\s[-–]\s", name)]
                              for form in _forms(normalised(part))))


def _listed(name: str) -> tuple[Entity, ...]:
    """The catalogue rows of the first form of `name` the catalogue knows (none: empty)."""
    for form in _name_forms(name):
        listed = catalogue().by_name.get(form, ())
        if listed:
            return listed
    return ()


def _forms(name: str) -> list[str]:
    """`name` (normalised) and the same without what publishers add to it, in order."""
    forms = [name]
    bare = COUNTRY.sub("", name).strip()
    forms.append(bare)
    words = bare.split()
    if len(words) > 2 and words[-1] in catalogue().by_name and len(words[-1]) <= 8:
        forms.append(" ".join(words[:-1]))  # a trailing acronym the catalogue knows
    return list(dict.fromkeys(form for form in forms if form))


def _not_public(receiver: Receiver) -> _Identity | None:
    ref = _ref(receiver)
    if _foreign(ref) or (len(ref) == 5 and ref.isdigit() and ref.startswith(
            FOREIGN_CHANNELS)):
        return _Identity(OFF_BUDGET, Status.proposed,
                         f"ref {receiver.ref}: a foreign or international organisation")
    kind = NOT_PUBLIC_TYPES.get((receiver.type or "").strip())
    if kind is not None:
        return _Identity(OFF_BUDGET, Status.proposed, f"type {receiver.type}: {kind}")
    name = normalised(receiver.name or "")
    if STATE_COMPANIES.match(name):
        return None  # a company, but the State's: its name must be in the catalogue
    if COMPANY_FORMS.search(name):
        return _Identity(OFF_BUDGET, Status.proposed, "a company form in the name")
    if CIVIL_FORMS.match(name):
        return _Identity(OFF_BUDGET, Status.proposed,
                         "a foundation's or association's name: a private non-profit")
    return None


def _foreign(ref: str) -> bool:
    """Whether `ref` is an international identifier or another country's register's."""
    return ref.startswith(INTERNATIONAL) or "-".join(ref.split("-", 2)[:2]) in _agencies()


@cache
def _agencies() -> frozenset[str]:
    """The registration agencies' prefixes (OrganisationRegistrationAgency, each `XX-YYY`),
    but Ecuador's."""
    return frozenset(item.code.upper() for item in load_codelist(
        "OrganisationRegistrationAgency") if not item.code.upper().startswith("EC-"))


def _chosen(listed: Sequence[Entity], rule: str, status: Status) -> _Identity:
    """The first catalogue row; any other row of another perimeter named beside it."""
    first = listed[0]
    others = tuple(dict.fromkeys(f"{e.perimeter} ({e.name})" for e in listed[1:]
                                 if e.perimeter != first.perimeter))
    sure = status if first.status is Status.verified else Status.proposed
    return _Identity(first.perimeter, sure if not others else Status.proposed, rule, others)


def _gad(name: str, on: date) -> str | None:
    """Why `name` is a GAD or a GAD's enterprise (None: it is not recognisably one)."""
    if LOCAL_ENTERPRISE.search(name):
        return "a municipal, metropolitan or provincial enterprise"
    match = GAD_FORMS.match(name)
    if match is None:
        return None
    place = match.group("place").strip()
    if PARISH.search(name):
        return f"a parish GAD's name, of {place.upper()}"
    for named in (place, place.removeprefix("la ")):
        if any(code.in_force(on) for code in _places().get(named, ())):
            return f"a GAD's name, of {named.upper()}"
    return None


# GAD names that say the province's government, not a canton's.
PROVINCIAL = re.compile(r"\b(?:provincial|provincia|prefectura|gadp)\b")
PROVINCE_WORDS = re.compile(r"^(?:la )?provincia (?:del |de )?")


def gad_place(name: str, on: date) -> Code | None:
    """The province or canton (a row of its table) whose GAD `name` names, if it names one:
    a provincial government (``GOBIERNO PROVINCIAL DE MANABÍ``) its province, any other GAD
    (``MUNICIPALIDAD DE QUITO``, ``Cantón Daule``) its canton; None for a parish, a name
    that is no GAD's, or a place no table has in force on `on`."""
    if normalised(name) in NO_NAME:
        return None
    for form in _forms(normalised(name)):
        match = GAD_FORMS.match(form)
        if match is None or PARISH.search(form):
            continue
        place = PROVINCE_WORDS.sub("", match.group("place").strip())  # "de la provincia de X"
        width = 2 if PROVINCIAL.search(form) else 4
        for named in (place, place.removeprefix("la ")):
            codes = [code for code in _places().get(named, ()) if code.in_force(on)]
            chosen = [code for code in codes if len(code.code) == width] or (
                codes if len(codes) == 1 else [])
            if len(chosen) == 1:
                return chosen[0]
    return None


@cache
def _places() -> dict[str, tuple[Code, ...]]:
    """Ecuador's provinces and cantons by their normalised names, each with its dates."""
    found: dict[str, list[Code]] = {}
    for classification in (Classification.province, Classification.canton):
        for code in table(classification):
            found.setdefault(normalised(code.name_es), []).append(code)
    return {name: tuple(codes) for name, codes in found.items()}
