"""Ecuador as a provider, on SQLite and PostgreSQL: the ministry pushes its own south-south
cooperation (three documented projects, `tests/fixtures/provided`) through the push API
as a primary reporter; it is listed and totalled apart, published in its own dataset, and
left out of every figure of the cooperation received."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from lxml import etree

from iati.elements.activity import Activity
from iati.elements.organisations import ParticipatingOrg
from service.config import Settings
from service.models import KeyScope
from service.services.provided import Modality, Providers, modality_of, third_party_funders
from tests.support.databases import Databases
from tests.support.loads import USAID_AND_EXAMPLES, Keys, Loaded
from tests.support.publishing import Api, add_publisher, new_key
from tests.support.samples import PARSER

MINISTRY = Settings.model_fields["publisher_ref"].default
FIXTURE = Path(__file__).parents[1] / "fixtures" / "provided" / "ecuador-south-south.xml"
HAITI = "EC-RUC-1760000820001-CSS-HT-2010-ARTIBONITE"
SOCIO_BOSQUE = "EC-RUC-1760000820001-CSS-SV-2011-SOCIOBOSQUE"
DISABILITY = "EC-RUC-1760000820001-CSS-SV-2011-DISCAPACIDAD"
MINISTRY_NAME = "Ministerio de Relaciones Exteriores y Movilidad Humana"
PROVIDERS = Providers(frozenset({MINISTRY}))
# What the received side shows: every measure of the aggregates, in both scopes, the debt
# view and the public pages.
RECEIVED = [
    ("/api/v1/aggregates", {"measure": ["commitment", "disbursement", "expenditure"],
                            "group_by": "year"}),
    ("/api/v1/aggregates", {"measure": ["commitment", "disbursement", "expenditure"],
                            "group_by": "year", "ecuador": "true"}),
    ("/api/v1/aggregates", {"group_by": "sector", "ecuador": "true"}),
    ("/api/v1/debt", {"ecuador": "true"}),
    ("/api/v1/publishers", {"ecuador": "true"}),
]
# The public pages of the cooperation received, whose content must not change.
PAGES = ["/", "/?measure=commitment", "/actividades", "/organizaciones", "/resultados",
         "/coordinacion", "/deuda"]
FRESHNESS = re.compile(r'<p class="freshness">.*?</p>', re.DOTALL)


class Pushed(NamedTuple):
    """The USAID load before and after the ministry pushed its own cooperation: the API,
    a read key, the ministry's key, and the received side's answers and pages before."""

    api: Api
    read: str
    ministry: str
    answers: dict[str, Any]
    pages: dict[str, str]


@pytest.fixture(scope="module")
def pushed(databases: Databases) -> Iterator[Pushed]:
    """`loaded` (one copy for the module's tests, which only read it), with the ministry's
    three projects pushed through the API once the received side was read."""
    made = databases.copy(USAID_AND_EXAMPLES)
    try:
        keys: Keys = made.value
        api = Api(made.engine)
        answers, pages = _received(api, keys.read)
        ministry, outcome = _ministry_pushes(api, FIXTURE.read_bytes())
        assert outcome["counts"]["created"] == 3, outcome
        yield Pushed(api, keys.read, ministry, answers, pages)
    finally:
        databases.drop(made)


def _received(api: Api, key: str) -> tuple[dict[str, Any], dict[str, str]]:
    answers = {f"{url} {params}": _get(api, key, url, **params) for url, params in RECEIVED}
    pages = {url: FRESHNESS.sub("", api.request("GET", url).text) for url in PAGES}
    return answers, pages


def _ministry_pushes(api: Api, content: bytes) -> tuple[str, dict[str, Any]]:
    add_publisher(api.engine, MINISTRY, name=MINISTRY_NAME)
    key = new_key(api.engine, MINISTRY, KeyScope.publish, KeyScope.read)
    answer = api.request("POST", "/api/v1/activities", key=key, content=content)
    assert answer.status_code in (200, 201), answer.text
    return key, dict(answer.json())


def _get(api: Api, key: str, url: str, **params: Any) -> Any:
    answer = api.request("GET", url, key=key, params=params)
    assert answer.status_code == 200, (url, answer.text)
    return answer.json()


def test_the_ministrys_own_cooperation_is_listed_and_totalled_apart(pushed: Pushed) -> None:
    api, key = pushed.api, pushed.ministry
    listed = _get(api, key, "/api/v1/provided/activities")
    assert listed["providers"] == [MINISTRY]
    by_id = {item["iati_identifier"]: item for item in listed["activities"]}
    assert list(by_id) == sorted([HAITI, SOCIO_BOSQUE, DISABILITY])
    haiti = by_id[HAITI]
    assert (haiti["recipient_countries"], haiti["modality"], haiti["sectors"]) == (
        ["HT"], "south-south", ["73010"])
    # The Haitian ambassador's figure, USD 15 million, spent by the army's engineers.
    assert haiti["amounts_usd"] == {"commitment": "0.00", "disbursement": "0.00",
                                    "expenditure": "15000000.00"}
    assert (haiti["start_date"], haiti["end_date"]) == ("2010-02-01", "2011-09-30")
    assert by_id[SOCIO_BOSQUE]["recipient_countries"] == ["SV"]
    assert by_id[SOCIO_BOSQUE]["amounts_usd"]["expenditure"] == "0.00"  # no amount published
    by_country = _get(api, key, "/api/v1/provided")
    assert by_country["activities"] == 3
    assert by_country["by_modality"] == {"south-south": 3, "triangular": 0}
    assert by_country["rows"] == [{
        "group": {"recipient_country": "HT"}, "measure": "expenditure",
        "amount_usd": "15000000.00", "activities": 1,
    }]
    assert by_country["totals_usd"] == {"commitment": "0.00", "disbursement": "0.00",
                                        "expenditure": "15000000.00"}
    crossed = _get(api, key, "/api/v1/provided",
                   group_by=["year", "sector", "modality", "recipient_country"])
    assert [row["group"] for row in crossed["rows"]] == [
        {"year": 2011, "sector": "73010", "modality": "south-south", "recipient_country": "HT"}]


def test_nothing_provided_is_counted_as_received(pushed: Pushed) -> None:
    api = pushed.api
    answers, pages = _received(api, pushed.read)
    # The data-quality scorecards in Ecuador's scope: the ministry is a publisher (its
    # pushes are its record) with no activity for Ecuador; the donors' are unchanged.
    key = f"/api/v1/publishers {RECEIVED[-1][1]}"
    [ministry] = [row for row in answers[key] if row["organisation"] == MINISTRY]
    assert ministry["live_activities"] == 0
    answers[key].remove(ministry)
    assert answers == pushed.answers
    assert pages == pushed.pages
    # No budget view counts a cent of it: Ecuador has no share of another country's.
    view = _get(api, pushed.ministry, "/api/v1/activity/budget-view", iati_identifier=HAITI)
    assert view["ecuador_share"] is None
    assert (view["totals"], view["figures"]) == ([], [])
    # The public pages show it on its own page only.
    assert HAITI not in api.request("GET", "/actividades", params={"q": "Artibonite"}).text
    assert api.request("GET", f"/actividades/{HAITI}").status_code == 404
    page = api.request("GET", "/cooperacion-ofrecida")
    assert page.status_code == 200
    assert HAITI in page.text
    assert "US$ 15.000.000,00" in page.text


def test_the_ministrys_own_dataset_is_published_as_a_primary_reporter(pushed: Pushed) -> None:
    api = pushed.api
    index = api.request("GET", "/iati/datasets.json").json()["result"]["results"]
    [own] = [item for item in index if item["name"].endswith("cooperacion-ofrecida")]
    extras = {extra["key"]: extra["value"] for extra in own["extras"]}
    assert (extras["reporting_org_ref"], extras["publisher_iati_id"]) == (MINISTRY, MINISTRY)
    assert extras["secondary_publisher"] == ""  # its own data: a primary reporter
    assert extras["activity_count"] == "3"
    [resource] = own["resources"]
    answer = api.request("GET", resource["url"].removeprefix("http://iati-ec"))
    assert answer.status_code == 200
    assert answer.headers["etag"] == f'W/"{resource["hash"]}"'
    again = api.request("GET", resource["url"].removeprefix("http://iati-ec"),
                        headers={"If-None-Match": answer.headers["etag"]})
    assert (again.status_code, again.content) == (304, b"")
    root = etree.fromstring(answer.content, PARSER)
    identifiers = root.xpath("//iati-activity/iati-identifier/text()")
    assert identifiers == sorted([HAITI, SOCIO_BOSQUE, DISABILITY])
    for reporting in root.iter("reporting-org"):
        assert reporting.get("ref") == MINISTRY
        assert reporting.get("secondary-reporter") in (None, "0", "false")
    # The donors' datasets are unchanged: none holds the ministry's activities.
    others = [item for item in index if item is not own]
    assert all(HAITI not in str(item) for item in others)


def test_a_secondary_report_by_the_ministry_is_not_its_own_cooperation(
    loaded: Loaded,
) -> None:
    tree = etree.parse(str(FIXTURE), PARSER)
    for reporting in tree.getroot().iter("reporting-org"):
        reporting.set("secondary-reporter", "1")
    key, outcome = _ministry_pushes(loaded.api, etree.tostring(
        tree, xml_declaration=True, encoding="utf-8"))
    assert outcome["counts"]["created"] == 3
    listed = _get(loaded.api, key, "/api/v1/provided/activities")
    assert (listed["activities"], listed["secondary_left_out"]) == ([], 3)


def _haiti() -> Activity:
    from iati.reader import read_activities  # the reader of pushed files

    [found] = [record.model for record in read_activities(FIXTURE.read_bytes())
               if record.model.iati_identifier.text == HAITI]
    return found  # type: ignore[no-any-return]


@pytest.mark.parametrize(("funder", "expected"), [
    ("XM-DAC-5-7", Modality.triangular),  # Germany's BMZ: a third party
    ("EC-RUC-1760000580001", Modality.south_south),  # another Ecuadorian body
    ("HT-MOFA", Modality.south_south),  # the recipient country's own
    (MINISTRY, Modality.south_south),  # the provider itself
])
def test_a_third_party_funder_makes_the_cooperation_triangular(
    funder: str, expected: Modality
) -> None:
    activity = _haiti()
    assert modality_of(activity, PROVIDERS) is Modality.south_south
    funded = activity.model_copy(update={"participating_orgs": [
        *activity.participating_orgs, ParticipatingOrg(ref=funder, role="1", type="10")]})
    assert modality_of(funded, PROVIDERS) is expected
    assert third_party_funders(funded, PROVIDERS) == (
        [funder] if expected is Modality.triangular else [])


def test_collaboration_type_8_is_triangular() -> None:
    activity = _haiti()
    assert activity.collaboration_type is not None
    marked = activity.model_copy(update={"collaboration_type": activity.collaboration_type
                                         .model_copy(update={"code": "8"})})
    assert modality_of(marked, PROVIDERS) is Modality.triangular


def test_the_totals_are_the_sum_of_the_rows_to_the_cent() -> None:
    from service.services.provided import _divided

    activity = _haiti()
    weighted = activity.model_copy(update={"recipient_countries": [
        c.model_copy(update={"code": code, "percentage": Decimal(share)})
        for c, code, share in zip(activity.recipient_countries * 3, ("HT", "DO", "CU"),
                                  ("33.33", "33.33", "33.34"), strict=True)]})
    parts = list(_divided(weighted, weighted.transactions[0], 100))
    # one dollar over three countries: 33 + 33 + 34 cents, by mappings.money.split
    assert [(country, cents) for country, _, cents in parts] == [
        ("HT", 33), ("DO", 33), ("CU", 34)]
