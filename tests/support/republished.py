"""A real activity re-published by its implementing partner, the classic IATI duplicate.

USAID's activity US-GOV-1-518-A-00-07-00023 (Ecuadorian Sustainable Tourism Alliance), as
its implementing partner, the Academy for Educational Development (XI-DUNS-071031280),
would publish it: under its own identifier and reporting-org, with only the Spanish title,
spelt otherwise. It is derived from the real file with lxml.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, NamedTuple

from lxml import etree
from sqlalchemy import Engine

from service.models import KeyScope
from tests.support.databases import Load
from tests.support.loads import MINISTRY, USAID_AND_EXAMPLES, Keys
from tests.support.publishing import USAID_EC, Api, add_publisher, new_key
from tests.support.samples import PARSER, sample

ORIGINAL = "US-GOV-1-518-A-00-07-00023"
PARTNER = "XI-DUNS-071031280"
COPY = f"{PARTNER}-ESTA-ECUADOR"
SECOND = "XM-DAC-41114"  # UNDP, which pushes USAID's identifier as its own
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def one_activity(identifier: str, target: Path, *, reporting_org: str,
                 new_identifier: str | None = None, spanish_title: str | None = None) -> Path:
    """The real USAID Ecuador file's activity `identifier` alone, as another org reports it."""
    tree = etree.parse(str(sample(USAID_EC)), PARSER)
    root = tree.getroot()
    for activity in root.findall("iati-activity"):
        if activity.findtext("iati-identifier", "").strip() != identifier:
            root.remove(activity)
    [activity] = root.findall("iati-activity")
    activity.find("reporting-org").set("ref", reporting_org)  # type: ignore[union-attr]
    if new_identifier is not None:
        activity.find("iati-identifier").text = new_identifier  # type: ignore[union-attr]
    if spanish_title is not None:
        title = activity.find("title")
        assert title is not None
        for narrative in list(title):
            title.remove(narrative)
        etree.SubElement(title, "narrative", {XML_LANG: "es"}).text = spanish_title
    tree.write(str(target), xml_declaration=True, encoding="utf-8")
    return target


class Published(NamedTuple):
    """A test's copy of the republished load: the API on it, USAID's read key and the
    ministry's admin key."""

    api: Api
    read: str
    admin: str


class PublishedKeys(NamedTuple):
    read: str
    admin: str


def _republish(store: Engine, keys: Keys) -> PublishedKeys:
    """The partner's re-publication, and UNDP's refused push of USAID's identifier."""
    api = Api(store)
    with tempfile.TemporaryDirectory() as folder:
        # Both are partners in USAID's file, so known already (linked when it was pushed).
        copy = one_activity(ORIGINAL, Path(folder) / "aed.xml", reporting_org=PARTNER,
                            new_identifier=COPY,
                            spanish_title="ALIANZA ECUATORIANA DE TURISMO SOSTENIBLE – ESTA")
        answer = api.request("POST", "/api/v1/activities", key=new_key(
            store, PARTNER, KeyScope.publish), content=copy.read_bytes())
        assert answer.json()["counts"]["created"] == 1, answer.text
        same = one_activity(ORIGINAL, Path(folder) / "undp.xml", reporting_org=SECOND)
        answer = api.request("POST", "/api/v1/activities", key=new_key(
            store, SECOND, KeyScope.publish), content=same.read_bytes())
        assert answer.json()["counts"]["rejected"] == 1, answer.text
    add_publisher(store, MINISTRY, name="Ministerio de Relaciones Exteriores")
    return PublishedKeys(keys.read, new_key(store, MINISTRY, KeyScope.admin))


REPUBLISHED: Load[PublishedKeys] = Load("republished", _republish, base=USAID_AND_EXAMPLES)


def decide(api: Api, key: str, **body: Any) -> dict[str, Any]:
    """The ministry's decision on a pair of activities, recorded."""
    answer = api.request("POST", "/api/v1/coordination/duplicates/decisions", key=key,
                         json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]
