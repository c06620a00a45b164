"""Which instrument, income ítem and fuente de financiamiento an IATI activity's money is.

All are decided by chains of reviewed crosswalks, never by guesses at run time:

- instrument: the finance type's category in IATI's FinanceType codelist (grants, loans
  and other debt instruments, mezzanine, equity, debt relief, guarantees), then
  `finance-category-instrument`;
- fuente: `finance-type-fuente` (finance type → grant `701` or loan `202`), then, when the
  publisher gives a flow type, `flow-type-fuente` (flow type × fuente: whether that flow is
  in scope at all). Many lenders publish no flow type: its check is then skipped, and said
  so in the rule, rather than leaving the money unmapped;
- income ítem: the fuente as above, then `finance-income-subgroup` (fuente × naturaleza →
  subgroup `1803`, `2803` or `3603`), where the naturaleza (`1` current, `2` capital) comes
  from `aid-type-income-naturaleza`, and finally `organisation-type-income-item`
  (the provider's type × subgroup → the six-digit ítem; the provider is the
  transaction's provider-org, else the reporting organisation).

A key column `*` in a crosswalk row means "whatever this value is": a loan is `3603`
whatever it pays for, and a non-flow is out of scope whatever its finance type.
Several aid types that disagree on current or capital resolve to capital: an Ecuadorian
investment project carries its technical assistance within it (7306 consultancy is an
investment expense), so a project with a technical-assistance part is still a project.
Aid types the crosswalk leaves unmapped (the donor's administrative costs, …) give way to
those it maps; when none maps, the reasons of all are given. Aid types of vocabularies
other than 1 (OECD DAC) are ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from iati.codelists import load_codelist
from mappings.crosswalks import Crosswalk, Resolution, Row, Status, crosswalk, resolved, unmapped
from mappings.money import HUNDRED
from mappings.tables import Classification, table

__all__ = ["fuente", "income_item", "instrument"]

DAC_VOCABULARY = "1"
CAPITAL = "2"  # income naturaleza 2, Ingresos de Capital
ANY = "*"  # a key column that holds for any value
NO_FLOW_TYPE = "no flow type published: the flow was not checked"


@dataclass(frozen=True, slots=True)
class _Decided:
    """A crosswalk row that maps (not `unmapped`), with the crosswalk it belongs to."""

    walk: Crosswalk
    row: Row

    @property
    def target(self) -> str:
        assert self.row.target is not None  # the loader refuses a mapped row without one
        return self.row.target

    @property
    def rule(self) -> str:
        return resolved(self.walk, self.row).rule


@dataclass(frozen=True, slots=True)
class _Refused:
    """A key that a crosswalk leaves unmapped, by an `unmapped` row or by having no row."""

    walk: Crosswalk
    key: tuple[str, ...]
    row: Row | None

    @property
    def rule(self) -> str:
        if self.row is None:
            return f"crosswalk {self.walk.name} {'/'.join(self.key)} (no row)"
        return resolved(self.walk, self.row).rule

    @property
    def reason(self) -> str:
        pairs = zip(self.walk.key_columns, self.key, strict=True)
        named = ", ".join(f"{column} {value}" for column, value in pairs if value != ANY)
        if self.row is None:
            return f"{named}: no row in {self.walk.name}"
        return f"{named}: {self.row.rationale}"


def instrument(*, finance_type: str | None, on: date) -> Resolution:
    """Whether money of `finance_type` is a grant, a loan, equity, … (by its category)."""
    if not finance_type:
        return _missing(finance_type=finance_type)
    item = load_codelist("FinanceType").get(finance_type)
    if item is None or not item.category:
        return unmapped(f"finance type {finance_type} is not in IATI's FinanceType codelist",
                        rule="codelist FinanceType")
    step = _decide("finance-category-instrument", (item.category,), on)
    if isinstance(step, _Refused):
        return _refusal([], [step])
    return _result([step], Classification.instrument, on)


def fuente(*, finance_type: str | None, flow_type: str | None, on: date) -> Resolution:
    """The fuente de financiamiento of money of `finance_type` and `flow_type`."""
    if not finance_type:
        return _missing(finance_type=finance_type)
    chain = _fuente_chain(finance_type, flow_type, on)
    if isinstance(chain, Resolution):
        return chain
    return _unchecked_flow(_result(chain, Classification.fuente, on), flow_type)


def income_item(
    *,
    finance_type: str | None,
    flow_type: str | None,
    aid_types: Sequence[tuple[str, str]],
    organisation_type: str | None,
    on: date,
) -> Resolution:
    """The income ítem (six digits) of money a provider of `organisation_type` gives."""
    if not finance_type or not organisation_type:
        return _missing(finance_type=finance_type, organisation_type=organisation_type)
    chain = _fuente_chain(finance_type, flow_type, on)
    if isinstance(chain, Resolution):
        return chain
    chain_to_subgroup = _subgroup(chain, aid_types, on)
    if isinstance(chain_to_subgroup, Resolution):
        return chain_to_subgroup
    subgroup = chain_to_subgroup[-1].target
    item = _decide("organisation-type-income-item", (organisation_type, subgroup), on)
    if isinstance(item, _Refused):
        return _refusal(chain_to_subgroup, [item])
    return _unchecked_flow(
        _result([*chain_to_subgroup, item], Classification.income_item, on), flow_type)


def _unchecked_flow(found: Resolution, flow_type: str | None) -> Resolution:
    """`found`, its rule saying that no flow type was there to check, when none was."""
    if flow_type or found.code is None:
        return found
    return replace(found, rule=f"{found.rule}; {NO_FLOW_TYPE}")


_PUBLISH = {
    "finance_type": "no finance type: the donor should publish default-finance-type "
    "or the transaction's finance-type",
    "organisation_type": "no organisation type: the reporting organisation should publish "
    "reporting-org/@type (or the transaction its provider-org/@type)",
}


def _missing(**fields: str | None) -> Resolution:
    """Nothing mapped, naming every field of `fields` that is missing and who should send it."""
    reasons = [_PUBLISH[name] for name, given in fields.items() if not given]
    return unmapped("; ".join(reasons), rule="missing input")


def _fuente_chain(
    finance_type: str, flow_type: str | None, on: date
) -> list[_Decided] | Resolution:
    by_finance = _decide("finance-type-fuente", (finance_type,), on)
    if isinstance(by_finance, _Refused):
        return _refusal([], [by_finance])
    if not flow_type:  # not published: nothing to check the finance type against
        return [by_finance]
    by_flow = _decide_any("flow-type-fuente", (flow_type, by_finance.target), on)
    if isinstance(by_flow, _Refused):
        return _refusal([by_finance], [by_flow])
    return [by_finance, by_flow]


def _subgroup(
    chain: list[_Decided], aid_types: Sequence[tuple[str, str]], on: date
) -> list[_Decided] | Resolution:
    """`chain` extended to the income subgroup (through the naturaleza, for grants)."""
    name, fuente_code = "finance-income-subgroup", chain[-1].target
    if crosswalk(name).lookup(fuente_code, ANY, on=on):  # the subgroup ignores the use
        found = _decide(name, (fuente_code, ANY), on)
        return _refusal(chain, [found]) if isinstance(found, _Refused) else [*chain, found]
    naturaleza = _naturaleza(aid_types, on, chain)
    if isinstance(naturaleza, Resolution):
        return naturaleza
    chain = [*chain, *naturaleza]
    found = _decide(name, (fuente_code, naturaleza[0].target), on)
    return _refusal(chain, [found]) if isinstance(found, _Refused) else [*chain, found]


def _naturaleza(
    aid_types: Sequence[tuple[str, str]], on: date, chain: list[_Decided]
) -> list[_Decided] | Resolution:
    """The aid-type rows that decide current or capital: capital ones win over current."""
    codes = dict.fromkeys(code for vocabulary, code in aid_types if vocabulary == DAC_VOCABULARY)
    if not codes:
        return unmapped(
            "no aid type of vocabulary 1: the donor should publish default-aid-type or the "
            "transaction's aid-type, which tells grants for current spending from capital ones",
            rule=_rules(chain),
            version=_versions(chain),
        )
    steps = [_decide("aid-type-income-naturaleza", (code,), on) for code in codes]
    decided = [step for step in steps if isinstance(step, _Decided)]
    if not decided:
        return _refusal(chain, [step for step in steps if isinstance(step, _Refused)])
    capital = [step for step in decided if step.target == CAPITAL]
    return capital or decided


def _decide(name: str, key: tuple[str, ...], on: date) -> _Decided | _Refused:
    """The row of `key` in crosswalk `name` in force on `on`, if it maps."""
    walk = crosswalk(name)
    rows = walk.lookup(*key, on=on)
    if not rows or rows[0].status is Status.unmapped:
        return _Refused(walk, key, rows[0] if rows else None)
    return _Decided(walk, rows[0])


def _decide_any(name: str, key: tuple[str, ...], on: date) -> _Decided | _Refused:
    """Like `_decide`, but a row whose last key column is `*` answers for any value."""
    general = (*key[:-1], ANY)
    if crosswalk(name).lookup(*general, on=on):
        return _decide(name, general, on)
    return _decide(name, key, on)


def _refusal(chain: Sequence[_Decided], refused: Sequence[_Refused]) -> Resolution:
    """Why nothing maps: the reasons of the refusing rows, after the rows that led there."""
    return unmapped(
        "; ".join(step.reason for step in refused),
        rule="; ".join([*(step.rule for step in chain), *(step.rule for step in refused)]),
        version=_versions([*chain, *refused]),
    )


def _result(chain: Sequence[_Decided], classification: Classification, on: date) -> Resolution:
    """What the last row of `chain` gives, checked against its table on `on`."""
    code = chain[-1].target
    if table(classification).get(code, on) is None:
        return unmapped(
            f"{code} is not in the {classification} table on {on.isoformat()}",
            rule=_rules(chain),
            version=_versions(chain),
        )
    verified = all(step.row.status is Status.verified for step in chain)
    return Resolution(
        code=code,
        share=HUNDRED,
        rule=_rules(chain),
        status=Status.verified if verified else Status.proposed,
        version=_versions(chain),
    )


def _rules(chain: Sequence[_Decided]) -> str:
    return "; ".join(step.rule for step in chain) or "missing input"


def _versions(steps: Sequence[_Decided | _Refused]) -> str:
    return "; ".join(dict.fromkeys(f"{step.walk.name}@{step.walk.version}" for step in steps))
