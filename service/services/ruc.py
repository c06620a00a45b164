"""Ecuadorian taxpayer numbers checked with python-stdnum (`stdnum.ec.ruc`, `stdnum.ec.ci`).

A RUC that fails its check digit is reported as "check digit fails", never as invalid:
the tax authority (SRI) has issued RUCs that fail the published check, so the number is
shown, with what the check says, and nothing is refused or dropped because of it.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel
from stdnum.ec import ci, ruc
from stdnum.exceptions import InvalidChecksum, ValidationError

from service.services.organisations import ECUADOR_RUC


class RucStatus(StrEnum):
    valid = "valid"
    check_digit_fails = "check digit fails"
    not_a_ruc = "not a RUC"  # wrong length or characters, or an unknown province


class RucCheck(BaseModel):
    """What the check of one RUC (or cédula) says."""

    number: str
    kind: str  # ruc | cedula
    status: RucStatus
    message: str | None = None


def check_ruc(number: str) -> RucCheck:
    """The check of `number`, a RUC (13 digits) or a cédula (10 digits), spaces and
    hyphens aside."""
    digits = ruc.compact(number)
    kind, module = ("cedula", ci) if len(digits) == 10 else ("ruc", ruc)
    try:
        module.validate(digits)
    except InvalidChecksum as error:
        return RucCheck(number=digits, kind=kind, status=RucStatus.check_digit_fails,
                        message=str(error))
    except ValidationError as error:
        return RucCheck(number=digits, kind=kind, status=RucStatus.not_a_ruc, message=str(error))
    return RucCheck(number=digits, kind=kind, status=RucStatus.valid)


def ruc_checks(refs: list[str], catalogue_ruc: str | None = None) -> list[RucCheck]:
    """The checks of an entry's `EC-RUC-…` refs and of its catalogue entity's RUC."""
    numbers = [ref.strip()[len(ECUADOR_RUC):] for ref in refs
               if ref.strip().upper().startswith(ECUADOR_RUC)]
    numbers += [catalogue_ruc] if catalogue_ruc else []
    return [check_ruc(number) for number in dict.fromkeys(numbers)]
