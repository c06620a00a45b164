"""What an activity is about: sectors, tags, budget items, humanitarian scope, markers."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field

from iati.elements.common import Narratives
from iati.xml import Attr, Child, IatiElement


class TransactionSector(Narratives):
    """A sector (transaction level: no percentage)."""

    vocabulary: Annotated[str | None, Attr("vocabulary")] = None
    vocabulary_uri: Annotated[str | None, Attr("vocabulary-uri")] = None
    code: Annotated[str | None, Attr("code")] = None


class Sector(TransactionSector):
    """A sector of the activity and its share."""

    percentage: Annotated[Decimal | None, Attr("percentage")] = None


class Tag(Narratives):
    """A tag from a vocabulary (SDG goals and targets, the reporter's own, …)."""

    code: Annotated[str | None, Attr("code")] = None
    vocabulary: Annotated[str | None, Attr("vocabulary")] = None
    vocabulary_uri: Annotated[str | None, Attr("vocabulary-uri")] = None


class BudgetItem(IatiElement):
    """A line of the recipient country's budget classification the activity maps to."""

    code: Annotated[str | None, Attr("code")] = None
    percentage: Annotated[Decimal | None, Attr("percentage")] = None
    description: Annotated[Narratives | None, Child("description")] = None


class CountryBudgetItems(IatiElement):
    """The activity mapped onto a country budget classification (vocabulary)."""

    vocabulary: Annotated[str | None, Attr("vocabulary")] = None
    budget_items: Annotated[list[BudgetItem], Child("budget-item")] = Field(default_factory=list)


class HumanitarianScope(Narratives):
    """An emergency or appeal the activity responds to."""

    type: Annotated[str | None, Attr("type")] = None
    vocabulary: Annotated[str | None, Attr("vocabulary")] = None
    vocabulary_uri: Annotated[str | None, Attr("vocabulary-uri")] = None
    code: Annotated[str | None, Attr("code")] = None


class PolicyMarker(Narratives):
    """A policy objective (gender, environment, …) and how significant it is."""

    vocabulary: Annotated[str | None, Attr("vocabulary")] = None
    vocabulary_uri: Annotated[str | None, Attr("vocabulary-uri")] = None
    code: Annotated[str | None, Attr("code")] = None
    significance: Annotated[str | None, Attr("significance")] = None
