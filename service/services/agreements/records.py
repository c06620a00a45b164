"""Recording the ministry's cooperation agreements: what a request gives, what is refused,
and the writes, each logged in the change feed.

A request gives the whole agreement (create, or replace on update). Everything refused is
refused at once, each misfit with its location (`body/objectives/1`), and nothing is
written: an end before the start, an organisation that is not registered, an instrument
not in the instruments table, an objective that is not one of the plan in force when the
agreement was signed (else when it starts), an activity named twice (identifiers compared
as the rest of the service compares them: in Unicode NFC), a metric read from an activity
the agreement does not name. Field-level misfits (a negative amount, a date that is not
ISO 8601) are refused by the request's schema before any of these.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, Field, JsonValue, WithJsonSchema
from sqlalchemy import delete
from sqlmodel import Session, col, select

from iati.codelists import load_codelist
from mappings.plans import plan_in_force
from mappings.tables import Classification, table
from service.errors import DomainError
from service.identifiers import identifier_key, invisible, within_limit
from service.models import (
    Agreement,
    AgreementActivity,
    AgreementMetric,
    AgreementObjective,
    AgreementParty,
    AgreementStatus,
    PartyRole,
    utcnow,
)
from service.services.changes import log_agreement_change
from service.services.organisations import find_organisation

Text = Annotated[str, Field(min_length=1, max_length=500, pattern=r"\S")]


def _iso_day(given: object) -> object:
    """`given` if it is ISO 8601 date text: a number would be read as a Unix time."""
    if not isinstance(given, (str, date)) or (
            isinstance(given, str) and not ISO_DAY.fullmatch(given)):
        raise ValueError("give an ISO 8601 date, YYYY-MM-DD")
    return given


ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
Day = Annotated[date, BeforeValidator(_iso_day)]
# Numbers as decimal text, so that the document states exactly what is taken and no binary
# float ever carries money: a quantity (a baseline, a target) signed, with up to 10
# decimals; an amount not negative, to the cent.
QUANTITY_TEXT = r"^-?[0-9]{1,18}(?:\.[0-9]{1,10})?$"
MONEY_TEXT = r"^[0-9]{1,18}(?:\.[0-9]{1,2})?$"


def _decimal_text(pattern: str, said: str) -> Any:
    def check(given: object) -> object:
        if not isinstance(given, (str, Decimal)) or (
                isinstance(given, str) and not re.fullmatch(pattern, given)):
            raise ValueError(said)
        return given

    return BeforeValidator(check)


Quantity = Annotated[
    Decimal, _decimal_text(QUANTITY_TEXT, "give a decimal as text, e.g. \"-12.5\""),
    WithJsonSchema({"type": "string", "pattern": QUANTITY_TEXT}, mode="validation"),
]
Money = Annotated[
    Decimal, _decimal_text(MONEY_TEXT, "give an amount as text, not negative, to the cent at "
                                       "most, e.g. \"1500000.00\""),
    WithJsonSchema({"type": "string", "pattern": MONEY_TEXT}, mode="validation"),
]
Position = Annotated[int, Field(strict=True, ge=1, le=10_000)]
INSTRUMENTS: list[JsonValue] = [
    *sorted({row.code for row in table(Classification.instrument).rows})]
CURRENCIES: list[JsonValue] = [*sorted(item.code for item in load_codelist("Currency"))]
CHILDREN = (AgreementParty, AgreementActivity, AgreementObjective, AgreementMetric)


class PartyIn(BaseModel):
    organisation: Text = Field(description="An identifier of a registered organisation")
    role: PartyRole


class TargetIn(BaseModel):
    period_start: Day
    period_end: Day
    value: Quantity


class IndicatorRef(BaseModel):
    """A published result indicator: the activity's identifier, the result's position
    among the activity's results and the indicator's among the result's (from 1), as the
    results pages give them."""

    iati_identifier: Text
    result: Position
    indicator: Position


class MetricIn(BaseModel):
    name: Text
    unit: Text | None = None
    baseline: Quantity | None = None
    baseline_date: Day | None = None
    ascending: bool = Field(default=True, strict=True, description="False: lower is better")
    targets: list[TargetIn] = Field(default_factory=list, max_length=100)
    indicator: IndicatorRef | None = Field(
        default=None, description="Where the actual values are read from (optional)")


class AgreementIn(BaseModel):
    """An agreement as the ministry records it."""

    code: Text = Field(description="The ministry's reference", examples=["CONV-2024-017"])
    title: Text
    description: str | None = Field(default=None, max_length=10_000)
    instrument: str = Field(description="A code of the instruments table",
                            examples=["grant"], json_schema_extra={"enum": INSTRUMENTS})
    status: AgreementStatus = AgreementStatus.in_force
    signed_on: Day | None = None
    start_date: Day | None = None
    end_date: Day | None = None
    amount: Money | None = None
    currency: str | None = Field(
        default=None, examples=["USD"], description="A code of IATI's Currency codelist",
        json_schema_extra={"anyOf": [{"type": "string", "enum": CURRENCIES}, {"type": "null"}]})
    parties: list[PartyIn] = Field(default_factory=list, max_length=50)
    activities: list[Text] = Field(
        default_factory=list, max_length=1000,
        description="IATI identifiers of the activities that implement it, any publisher's")
    objectives: list[Text] = Field(
        default_factory=list, max_length=100,
        description="National development plan objective codes (`PND-2024-2025/3`)")
    metrics: list[MetricIn] = Field(default_factory=list, max_length=100)


class InvalidAgreementError(DomainError):
    status: ClassVar[int] = 422
    code: ClassVar[str] = "agreement.invalid"
    title: ClassVar[str] = "Invalid agreement"

    def __init__(self, errors: list[dict[str, str]]) -> None:
        said = "; ".join(f"{e['location']}: {e['message']}" for e in errors[:3])
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        super().__init__(f"The agreement is not recorded: {said}{more}.", errors=errors)


class DuplicateAgreementError(DomainError):
    status: ClassVar[int] = 409
    code: ClassVar[str] = "agreement.duplicate-code"
    title: ClassVar[str] = "Agreement reference already recorded"

    def __init__(self, code: str, agreement_id: int) -> None:
        super().__init__(
            f"Agreement {agreement_id} has the reference {code!r}: update it, or give "
            "another reference.", agreement_id=agreement_id,
            errors=[{"location": "body/code", "message": "already recorded",
                     "type": "duplicate"}])


class AgreementNotFoundError(DomainError):
    status: ClassVar[int] = 404
    code: ClassVar[str] = "agreement.not-found"
    title: ClassVar[str] = "Unknown agreement"

    def __init__(self, agreement_id: int) -> None:
        super().__init__(f"No agreement has the id {agreement_id}.",
                         agreement_id=agreement_id)


def create_agreement(session: Session, given: AgreementIn) -> Agreement:
    """Record a new agreement (`agreement.created` in the change feed)."""
    children = _checked(session, given, agreement_id=None)
    agreement = Agreement(**_columns(given), version=1)
    session.add(agreement)
    session.flush()
    assert agreement.id is not None
    _add_children(session, agreement.id, children)
    log_agreement_change(session.connection(), agreement_id=agreement.id,
                         version=agreement.version, kind="agreement.created")
    return agreement


def update_agreement(session: Session, agreement_id: int, given: AgreementIn) -> Agreement:
    """Replace an agreement with `given` (`agreement.updated`, its version one more)."""
    agreement = get_agreement(session, agreement_id)
    children = _checked(session, given, agreement_id=agreement_id)
    for child in CHILDREN:
        session.exec(delete(child).where(col(child.agreement_id) == agreement_id))
    for name, value in _columns(given).items():
        setattr(agreement, name, value)
    agreement.version += 1
    agreement.updated_at = utcnow()
    session.add(agreement)
    session.flush()
    _add_children(session, agreement_id, children)
    log_agreement_change(session.connection(), agreement_id=agreement_id,
                         version=agreement.version, kind="agreement.updated")
    return agreement


def delete_agreement(session: Session, agreement_id: int) -> None:
    """Remove an agreement and its rows (`agreement.deleted`); its changes stay in the
    feed."""
    agreement = get_agreement(session, agreement_id)
    version = agreement.version + 1
    session.delete(agreement)
    session.flush()
    log_agreement_change(session.connection(), agreement_id=agreement_id, version=version,
                         kind="agreement.deleted")


def get_agreement(session: Session, agreement_id: int) -> Agreement:
    found = session.get(Agreement, agreement_id)
    if found is None:
        raise AgreementNotFoundError(agreement_id)
    return found


def _columns(given: AgreementIn) -> dict[str, Any]:
    return given.model_dump(include={
        "code", "title", "description", "instrument", "status", "signed_on", "start_date",
        "end_date", "amount", "currency"})


def _add_children(session: Session, agreement_id: int, children: list[Any]) -> None:
    for child in children:
        child.agreement_id = agreement_id
        session.add(child)
    session.flush()


def _checked(session: Session, given: AgreementIn, *, agreement_id: int | None) -> list[Any]:
    """The agreement's rows, or `InvalidAgreementError` with every misfit."""
    errors: list[dict[str, str]] = []

    def misfit(location: str, message: str, kind: str = "value_error") -> None:
        errors.append({"location": f"body/{location}", "message": message, "type": kind})

    _check_agreement(given, misfit)
    parties = _parties(session, given, misfit)
    activities = _activities(given, misfit)
    objectives = _objectives(given, misfit)
    metrics = _metrics(given, {row.identifier_key for row in activities}, misfit)
    if errors:
        raise InvalidAgreementError(errors)
    same_code = session.exec(select(Agreement.id).where(Agreement.code == given.code)).first()
    if same_code is not None and same_code != agreement_id:
        raise DuplicateAgreementError(given.code, same_code)
    return [*parties, *activities, *objectives, *metrics]


def _check_agreement(given: AgreementIn, misfit: Any) -> None:
    if given.start_date and given.end_date and given.end_date < given.start_date:
        misfit("end_date", f"ends ({given.end_date}) before it starts ({given.start_date})")
    if table(Classification.instrument).get(given.instrument) is None:
        known = ", ".join(sorted({row.code for row in table(Classification.instrument).rows}))
        misfit("instrument", f"{given.instrument!r} is not an instrument ({known})")
    if given.amount is not None and given.currency is None:
        misfit("currency", "an amount needs its currency", "missing")
    if given.currency is not None and given.currency not in load_codelist("Currency"):
        misfit("currency", f"{given.currency!r} is not a code of IATI's Currency codelist")


def _parties(session: Session, given: AgreementIn, misfit: Any) -> list[AgreementParty]:
    found = []
    for index, party in enumerate(given.parties):
        organisation = find_organisation(session, party.organisation)
        if organisation is None or organisation.id is None:
            misfit(f"parties/{index}/organisation",
                   f"{party.organisation!r} is not a registered organisation")
            continue
        found.append(AgreementParty(position=index + 1, organisation_id=organisation.id,
                                    role=party.role.value))
    return found


def _activities(given: AgreementIn, misfit: Any) -> list[AgreementActivity]:
    found: dict[str, AgreementActivity] = {}
    for index, identifier in enumerate(given.activities):
        if not within_limit(identifier) or invisible(identifier):
            misfit(f"activities/{index}", "not an IATI identifier (too long, or a control "
                   "or invisible character)")
            continue
        key = identifier_key(identifier)
        if key in found:
            misfit(f"activities/{index}",
                   f"{identifier!r} is named already (activities/{found[key].position - 1})",
                   "duplicate")
            continue
        found[key] = AgreementActivity(position=index + 1, iati_identifier=identifier,
                                       identifier_key=key)
    return list(found.values())


def plan_day(given: AgreementIn) -> date:
    """The day whose plan in force the agreement's objectives belong to: its signing,
    else its start, else today."""
    return given.signed_on or given.start_date or utcnow().date()


def _objectives(given: AgreementIn, misfit: Any) -> list[AgreementObjective]:
    on = plan_day(given)
    plan = plan_in_force(on)
    found: dict[str, AgreementObjective] = {}
    for index, code in enumerate(given.objectives):
        if plan is None:
            misfit(f"objectives/{index}", f"no national development plan is in force on {on}")
        elif code not in plan.objectives:
            misfit(f"objectives/{index}",
                   f"{code!r} is not an objective of {plan.code}, in force on {on}")
        elif code in found:
            misfit(f"objectives/{index}", f"{code!r} is named already", "duplicate")
        else:
            found[code] = AgreementObjective(position=index + 1, code=code)
    return list(found.values())


def _metrics(given: AgreementIn, named: set[str], misfit: Any) -> list[AgreementMetric]:
    found = []
    for index, metric in enumerate(given.metrics):
        for number, target in enumerate(metric.targets):
            if target.period_end < target.period_start:
                misfit(f"metrics/{index}/targets/{number}/period_end",
                       f"ends ({target.period_end}) before it starts ({target.period_start})")
        indicator = metric.indicator
        key = identifier_key(indicator.iati_identifier) if indicator else None
        if key is not None and key not in named:
            misfit(f"metrics/{index}/indicator/iati_identifier",
                   "not one of the agreement's activities")
        found.append(AgreementMetric(
            position=index + 1, name=metric.name, unit=metric.unit, baseline=metric.baseline,
            baseline_date=metric.baseline_date, ascending=metric.ascending,
            targets=[{"period_start": target.period_start.isoformat(),
                      "period_end": target.period_end.isoformat(),
                      "value": format(target.value, "f")} for target in metric.targets],
            iati_identifier=indicator.iati_identifier if indicator else None,
            identifier_key=key, result_position=indicator.result if indicator else None,
            indicator_position=indicator.indicator if indicator else None,
        ))
    return found
