"""The links read from real activities: every provider- and receiver-activity-id,
related-activity and other-identifier the XML gives, except an activity naming itself."""

from __future__ import annotations

from collections import Counter

import pytest
from lxml import etree

from iati.reader import read_activities
from service.links import activity_links
from service.models import LinkKind
from service.projection import ParentRow, query_rows
from tests.support.publishing import PARSER
from tests.support.samples import sample

FILES = ["real/usaid-ec.xml", "real/dportal-eu-intpa-p80.xml",
         "real/dportal-spain-aecid-p16.xml"]
PATHS = {
    LinkKind.transaction_incoming: ("transaction/provider-org", "provider-activity-id"),
    LinkKind.transaction_outgoing: ("transaction/receiver-org", "receiver-activity-id"),
    LinkKind.related_activity: ("related-activity", "ref"),
    LinkKind.other_identifier: ("other-identifier", "ref"),
}


def _expected(activity: etree._Element) -> Counter[tuple[LinkKind, str]]:
    own = (activity.findtext("iati-identifier") or "").strip()
    found: Counter[tuple[LinkKind, str]] = Counter()
    for kind, (path, attribute) in PATHS.items():
        for element in activity.findall(path):
            target = (element.get(attribute) or "").strip()
            if target and target != own:
                found[(kind, target)] += 1
    return found


@pytest.mark.parametrize("file", FILES)
def test_every_reference_to_another_activity_is_a_link(file: str) -> None:
    elements = etree.parse(str(sample(file)), PARSER).getroot().findall("iati-activity")
    records = list(read_activities(sample(file)))
    assert len(records) == len(elements)
    selves = 0
    for element, record in zip(elements, records, strict=True):
        links = activity_links(record.model)
        assert Counter((link.kind, link.target) for link in links) == _expected(element)
        own = record.model.identifier
        selves += sum(1 for path, attribute in PATHS.values()
                      for e in element.findall(path) if (e.get(attribute) or "").strip() == own)
    if file == "real/dportal-eu-intpa-p80.xml":
        assert selves > 0  # the EU names its own activity as provider: no link


def test_a_transaction_link_points_to_its_transaction_row() -> None:
    record = next(r for r in read_activities(sample("real/usaid-ec.xml"))
                  if any(t.receiver_org and t.receiver_org.receiver_activity_id
                         for t in r.model.transactions))
    rows = query_rows(record.model)
    outgoing = [row for row in rows.activity_links
                if row["kind"] == LinkKind.transaction_outgoing.value]
    assert outgoing
    for row in outgoing:
        parent = row["transaction_id"]
        assert isinstance(parent, ParentRow)
        assert parent.table == "transactions"
        assert rows.transactions[parent.index]["receiver_activity_id"].strip() == row["target"]
        assert rows.transactions[parent.index]["type"] == row["type"]
