"""Migrations are history: the rows a migration fills for stored activities do not depend
on the application's code, and equal what pushing the same activities writes.

The demo's real files are pushed (USAID's first 40 activities only, which carry its many
outgoing links) with the implementer's side of a real AECID grant (the only incoming
link: the demo's providers name their own activities), one activity with links is
deleted, then the store goes back to 0006 (before the text search and the links)
and up again to the head: 0007 refills `activity_text` and 0010 `activity_link` from the
stored documents alone. Both must give back the rows push wrote (0007 as it always did
also for the deleted activity), and those rows must be what the XML files themselves say,
read here with lxml, apart from the service's reader.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from lxml import etree
from sqlalchemy import Engine, text

from service.db import downgrade_database, upgrade_database
from service.models import KeyScope
from service.search import words
from service.services.demo import demo_files, publisher_parts
from service.services.push import Publisher
from tests.support.publishing import Api, add_publisher, new_key, push
from tests.support.samples import EXAMPLES, PARSER

DEMO_USAID = next(path for path in demo_files() if path.name == "usaid-ecuador.xml")
IMPLEMENTER_FILE = EXAMPLES.parent / "traceability" / "aldea-implementer.xml"

# A Spanish activity of AECID's with links of its own (related and other identifiers).
DELETED = "ES-DIR3-EA0035768-Z11-20-01-02000-EC"
LINKS = text(
    'SELECT a.iati_identifier, t.position, l.kind, l.type, l.target, l.org_ref '
    'FROM activity_link l JOIN activity a ON a.id = l.activity_id '
    'LEFT JOIN "transaction" t ON t.id = l.transaction_id'
)
TEXTS = text(
    "SELECT a.iati_identifier, x.body FROM activity_text x JOIN activity a ON a.id = x.activity_id"
)
Link = tuple[str, int | None, str, str | None, str, str | None]


def _stored(store: Engine) -> tuple[Counter[Link], dict[str, str]]:
    with store.connect() as connection:
        links = Counter(tuple(row) for row in connection.execute(LINKS))
        texts = dict(connection.execute(TEXTS).all())
    return links, texts  # type: ignore[return-value]


def _push_files(store: Engine, folder: Path) -> list[Path]:
    """Push the files, each publisher's activities as that publisher; the files pushed."""
    usaid = folder / "usaid.xml"
    tree = etree.parse(str(DEMO_USAID), PARSER)
    for surplus in tree.getroot().findall("iati-activity")[40:]:
        tree.getroot().remove(surplus)
    tree.write(str(usaid), xml_declaration=True, encoding="utf-8")
    pushed: list[Path] = []
    publishers: dict[str, Publisher] = {}
    sources = [path for path in demo_files() if path != DEMO_USAID]
    for path in [*sources, usaid, IMPLEMENTER_FILE]:
        for number, part in enumerate(publisher_parts(path)):
            file = path
            if part.body is not None:
                file = folder / f"{path.stem}-{number}.xml"
                file.write_bytes(part.body)
            if part.ref not in publishers:
                publishers[part.ref] = add_publisher(store, part.ref, name=part.name)
            done = push(store, publishers[part.ref], file)
            assert done.counts.created, (path.name, part.ref, done.counts)
            pushed.append(file)
    return pushed


def _from_xml(files: list[Path], live: set[str]) -> tuple[Counter[Link], dict[str, str]]:
    """The links and search words of the `live` activities, as the XML files give them."""
    links: Counter[Link] = Counter()
    texts: dict[str, str] = {}
    for path in files:
        for activity in etree.parse(str(path), PARSER).iterfind("iati-activity"):
            own = (activity.findtext("iati-identifier") or "").strip()
            if own not in live:
                continue
            texts[own] = words(activity.xpath("(title|description)/narrative/text()"))
            found = _transaction_links(activity) + [
                (None, "related_activity", related.get("type"), related.get("ref"), None)
                for related in activity.iterfind("related-activity")
            ]
            for other in activity.iterfind("other-identifier"):
                owner = other.find("owner-org")
                found.append((None, "other_identifier", other.get("type"), other.get("ref"),
                              None if owner is None else owner.get("ref")))
            for position, kind, type_, target, org_ref in found:
                target = (target or "").strip()
                if target and target != own:
                    links[(own, position, kind, type_, target, org_ref)] += 1
    return links, texts


def _transaction_links(activity: Any) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []
    for position, transaction in enumerate(activity.iterfind("transaction"), start=1):
        kind = transaction.find("transaction-type")
        code = kind.get("code") if kind is not None else None
        for element, direction, attribute in (
            ("provider-org", "transaction_incoming", "provider-activity-id"),
            ("receiver-org", "transaction_outgoing", "receiver-activity-id"),
        ):
            if (org := transaction.find(element)) is not None:
                found.append((position, direction, code, org.get(attribute), org.get("ref")))
    return found


def test_replayed_migrations_fill_what_push_wrote_and_the_xml_says(
    store: Engine, tmp_path: Path
) -> None:
    files = _push_files(store, tmp_path)
    api = Api(store)
    deleted = api.request("DELETE", "/api/v1/activity", params={"iati_identifier": DELETED},
                          key=new_key(store, "ES-DIR3-EA0035768", KeyScope.publish))
    assert deleted.status_code in (200, 204), deleted.text
    pushed_links, pushed_texts = _stored(store)
    assert DELETED not in {link[0] for link in pushed_links} | set(pushed_texts)
    kinds = Counter(link[2] for link in pushed_links.elements())
    assert set(kinds) == {"transaction_incoming", "transaction_outgoing", "related_activity",
                          "other_identifier"}, kinds
    expected_links, expected_texts = _from_xml(files, set(pushed_texts) | {DELETED})
    assert +pushed_links == Counter({link: n for link, n in expected_links.items()
                                     if link[0] != DELETED})
    assert pushed_texts == {key: body for key, body in expected_texts.items() if key != DELETED}
    # Worked by hand from the title "Hilando liderazgos de mujeres afroecuatorianas: (COVID-19)".
    assert pushed_texts["ES-DIR3-EA0035768-Z03-20-01-13500"].startswith(
        "hilando liderazgos de mujeres afroecuatorianas covid 19 ")

    store.dispose()
    url = store.url.render_as_string(hide_password=False)
    downgrade_database(url, "0006")
    with store.connect() as connection:
        tables = {row[0] for row in connection.execute(text(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
            if store.dialect.name == "sqlite" else
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"))}
    assert not {"activity_text", "activity_link"} & tables
    store.dispose()
    upgrade_database(url)
    replayed_links, replayed_texts = _stored(store)
    assert replayed_links == pushed_links  # 0010 reads the live activities only
    # 0007 read every stored activity, the deleted ones too (searches leave them out).
    assert replayed_texts == expected_texts
