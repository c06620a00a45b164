"""An activity as IATI XML with its Ecuadorian income ítems as country-budget-items."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from lxml import etree
from sqlalchemy import Engine

from iati.validate import validate
from mappings.amounts import Measure
from mappings.budget_items import income_budget_items
from service.models import KeyScope
from tests.support.publishing import Api, add_publisher, new_key

CAF = "XM-DAC-46008"
IDENTIFIER = f"{CAF}-MIX-1"


def _commitment(amount: str, aid_type: str) -> str:
    return f"""<transaction><transaction-type code="2"/>
      <transaction-date iso-date="2024-02-01"/>
      <value value-date="2024-02-01">{amount}</value>
      <aid-type code="{aid_type}"/></transaction>"""


ACTIVITY = f"""<iati-activities version="2.03"><iati-activity default-currency="USD" xml:lang="es">
  <iati-identifier>{IDENTIFIER}</iati-identifier>
  <reporting-org ref="{CAF}" type="40"><narrative>CAF</narrative></reporting-org>
  <title><narrative>Agua y saneamiento</narrative></title>
  <description><narrative>Apoyo presupuestario y obras</narrative></description>
  <participating-org role="1" ref="{CAF}" type="40"><narrative>CAF</narrative></participating-org>
  <activity-status code="2"/>
  <activity-date type="1" iso-date="2024-01-01"/>
  <recipient-country code="EC"/>
  <sector vocabulary="1" code="14020"/>
  <default-flow-type code="10"/>
  <default-finance-type code="110"/>
  {_commitment("300.00", "A01")}
  {_commitment("700.00", "C01")}
</iati-activity></iati-activities>""".encode()



def test_the_xml_carries_the_income_items_with_percentages_of_the_commitments(
    store: Engine,
) -> None:
    add_publisher(store, CAF, name="CAF")
    api = Api(store)
    key = new_key(store, CAF, KeyScope.publish)
    pushed = api.request("POST", "/api/v1/activities", key=key, content=ACTIVITY).json()
    assert pushed["counts"]["created"] == 1, pushed
    answer = api.request("GET", f"/api/v1/activities/{IDENTIFIER}", key=key,
                         params={"format": "xml", "country_budget_items": "ecuador"})
    assert answer.status_code == 200
    root = etree.fromstring(answer.content)
    items = root.find("iati-activity/country-budget-items")
    assert items is not None
    assert items.get("vocabulary") == "2"
    found = {item.get("code"): Decimal(item.get("percentage") or "0")
             for item in items.findall("budget-item")}
    assert found == {"180301": Decimal(30), "280301": Decimal(70)}
    report = validate(answer.content, today=date(2026, 1, 1))
    schema = [f for record in report.records for f in record.findings if f.stage == "schema"]
    assert schema == []

    plain = api.request("GET", f"/api/v1/activities/{IDENTIFIER}", key=key,
                        params={"format": "xml"})
    assert b"country-budget-items" not in plain.content
    assert plain.headers["etag"] != answer.headers["etag"]


def test_percentages_are_hundredths_that_sum_to_100() -> None:
    totals = {Measure.commitment: {"180301": Decimal(1), "280301": Decimal(1),
                                   "360301": Decimal(1)}}
    element = income_budget_items(totals)
    assert element is not None
    shares = [item.percentage for item in element.budget_items]
    assert sum(shares, Decimal(0)) == 100
    assert shares == [Decimal("33.34"), Decimal("33.33"), Decimal("33.33")]


def test_budgets_are_used_when_there_are_no_commitments_and_nothing_without_either() -> None:
    element = income_budget_items({Measure.budget: {"180302": Decimal("5.00")}})
    assert element is not None
    assert [(i.code, i.percentage) for i in element.budget_items] == [("180302", 100)]
    assert income_budget_items({Measure.expenditure: {"180302": Decimal(5)}}) is None
