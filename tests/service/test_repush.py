"""Re-pushing what is stored: activities whose XML is the stored version's are known
unchanged without being read or validated, and every other path still decides right."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import Engine
from sqlmodel import Session, select

from service.models import ActivityVersion, Outcome
from service.services.push import Publisher
from service.services.push import processing as processing_module
from service.services.push.reading import PushedFile
from service.services.push.storage import unlocked_hashes
from tests.support.publishing import (
    PARSER,
    USAID,
    USAID_EC,
    add_publisher,
    identifier_of,
    push,
    set_first_transaction,
    stored_activity,
    variant,
)
from tests.support.samples import sample


@pytest.fixture
def usaid(store: Engine) -> Publisher:
    return add_publisher(store, USAID)


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The positions of the activities read into a model and validated, in order."""
    positions: list[int] = []
    check = PushedFile.check

    def counting(self: PushedFile, element: Any, position: int, *, counted: bool) -> Any:
        positions.append(position)
        return check(self, element, position, counted=counted)

    monkeypatch.setattr(PushedFile, "check", counting)
    return positions


def _versions(store: Engine) -> int:
    with Session(store) as session:
        return len(session.exec(select(ActivityVersion.id)).all())


def test_a_repush_of_the_same_file_reads_nothing_and_reports_the_same_findings(
    store: Engine, usaid: Publisher, checked: list[int]
) -> None:
    first = push(store, usaid, sample(USAID_EC))
    assert len(checked) == 250
    checked.clear()
    again = push(store, usaid, sample(USAID_EC))
    assert checked == []
    assert {a.outcome for a in again.activities} == {Outcome.unchanged}
    assert [a.findings for a in again.activities] == [a.findings for a in first.activities]
    assert any(a.findings for a in again.activities)  # the ruleset's warnings, kept
    assert _versions(store) == 250


def test_the_same_content_laid_out_differently_is_read_and_found_unchanged(
    store: Engine, usaid: Publisher, checked: list[int], tmp_path: Path
) -> None:
    # Extensions are kept verbatim, white space included: leave them out here.
    tree = etree.parse(str(sample(USAID_EC)), etree.XMLParser(remove_blank_text=True))
    root = tree.getroot()
    for activity in root.findall("iati-activity")[20:]:
        root.remove(activity)
    for extension in root.xpath("//*[namespace-uri() != '']"):
        extension.getparent().remove(extension)
    etree.indent(tree, space="  ")
    base = tmp_path / "base.xml"
    tree.write(str(base), xml_declaration=True, encoding="utf-8")
    etree.indent(tree, space="\t")
    relaid = tmp_path / "relaid.xml"
    tree.write(str(relaid), xml_declaration=True, encoding="utf-8")
    assert relaid.read_bytes() != base.read_bytes()
    push(store, usaid, base)
    checked.clear()
    again = push(store, usaid, relaid)
    assert len(checked) == 20
    assert {a.outcome for a in again.activities} == {Outcome.unchanged}
    assert _versions(store) == 20


def test_a_stored_activity_twice_in_a_repushed_file_is_unchanged_then_rejected(
    store: Engine, usaid: Publisher, checked: list[int], tmp_path: Path
) -> None:
    one = variant(USAID_EC, tmp_path / "one.xml", keep=1)
    push(store, usaid, one)
    tree = etree.parse(str(one), PARSER)
    root = tree.getroot()
    root.append(copy.deepcopy(root.find("iati-activity")))
    twice = tmp_path / "twice.xml"
    tree.write(str(twice), xml_declaration=True, encoding="utf-8")
    checked.clear()
    document = push(store, usaid, twice)
    assert [a.outcome for a in document.activities] == [Outcome.unchanged, Outcome.rejected]
    assert checked == [2]
    assert "1.1.2" in {f.code for f in document.activities[1].findings}
    assert stored_activity(store, identifier_of(USAID_EC, 1)).version == 1


def test_an_activity_changed_after_its_hint_was_read_is_read_andstored_activity(
    store: Engine, usaid: Publisher, checked: list[int], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The unlocked hint says unchanged, but another push changed the activity before
    the locks were taken: the activity is then read, validated and stored after all."""
    first = variant(USAID_EC, tmp_path / "first.xml", keep=1)
    push(store, usaid, first)
    identifier = identifier_of(USAID_EC, 1)
    stored_first = stored_activity(store, identifier)
    with store.connect() as connection:
        hint = unlocked_hashes(
            connection, [identifier], organisation_id=usaid.organisation_id
        )
    changed = variant(
        USAID_EC, tmp_path / "changed.xml", keep=1, a1=set_first_transaction("12.34", None)
    )
    assert push(store, usaid, changed).activities[0].outcome is Outcome.updated
    monkeypatch.setattr(processing_module, "unlocked_hashes", lambda *_, **__: dict(hint))
    checked.clear()
    document = push(store, usaid, first)
    assert checked == [1]
    assert document.activities[0].outcome is Outcome.updated
    now = stored_activity(store, identifier)
    assert now.version == 3
    assert now.document == stored_first.document
    assert now.received_hash == stored_first.received_hash
