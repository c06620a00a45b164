"""Pushing real IATI files through the push service, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from service.models import (
    Activity,
    ActivityVersion,
    Organisation,
    Outcome,
    ParticipatingOrg,
    Push,
    PushMode,
    PushScope,
    PushStatus,
    Transaction,
)
from service.services.placeholders import placeholder_name
from service.services.push import (
    Publisher,
    PushPublic,
    UnreadableFileError,
    push_document,
)
from tests.support.publishing import (
    PARSER,
    USAID,
    USAID_EC,
    add_publisher,
    identifier_of,
    push,
    set_first_transaction,
    set_identifier,
    set_reporting_org,
    stored_activity,
    variant,
)
from tests.support.samples import sample

LATER = "2026-01-15T10:00:00Z"
EARLIER = "2020-01-01T00:00:00Z"



@pytest.fixture
def usaid(store: Engine) -> Publisher:
    return add_publisher(store, USAID)


def _outcomes(document: PushPublic) -> dict[Outcome, int]:
    found: dict[Outcome, int] = {}
    for activity in document.activities:
        found[activity.outcome] = found.get(activity.outcome, 0) + 1
    return found


def _count(store: Engine, table: type, *where: object) -> int:
    with Session(store) as session:
        return int(session.exec(select(func.count()).select_from(table).where(*where)).one())


def test_a_first_push_creates_every_activity_and_records_the_push(
    store: Engine, usaid: Publisher
) -> None:
    document = push(store, usaid, sample(USAID_EC))
    assert document.status is PushStatus.completed
    assert document.counts.created == 250
    assert _outcomes(document) == {Outcome.created: 250}
    assert [a.position for a in document.activities] == list(range(1, 251))
    assert {a.version for a in document.activities} == {1}
    assert document.size == sample(USAID_EC).stat().st_size
    assert document.bytes_read == document.size
    assert document.sha256 is not None
    assert len(document.sha256) == 64
    assert _count(store, Activity) == 250
    assert _count(store, ActivityVersion) == 250
    assert _count(store, Transaction) > 250
    first = stored_activity(store, identifier_of(USAID_EC, 1))
    assert first.reporting_org_ref == USAID
    assert first.organisation_id == usaid.organisation_id
    # Ruleset warnings are kept with the activity.
    assert any(f["stage"] == "ruleset" for f in first.findings)


def test_pushing_the_same_file_again_changes_nothing(store: Engine, usaid: Publisher) -> None:
    push(store, usaid, sample(USAID_EC))
    again = push(store, usaid, sample(USAID_EC))
    assert again.counts.unchanged == 250
    assert _outcomes(again) == {Outcome.unchanged: 250}
    assert _count(store, ActivityVersion) == 250
    assert _count(store, Push) == 2


def test_a_changed_activity_with_a_later_date_is_updated_to_version_2(
    store: Engine, usaid: Publisher, tmp_path: Path
) -> None:
    push(store, usaid, sample(USAID_EC))
    changed = variant(USAID_EC, tmp_path / "changed.xml", a3=set_first_transaction("99.50", LATER))
    document = push(store, usaid, changed)
    assert _outcomes(document) == {Outcome.updated: 1, Outcome.unchanged: 249}
    updated = document.activities[2]
    assert (updated.outcome, updated.version) == (Outcome.updated, 2)
    stored = stored_activity(store, identifier_of(USAID_EC, 3))
    assert stored.version == 2
    assert stored.last_push_id == document.id
    with Session(store) as session:
        amounts = session.exec(
            select(Transaction.amount).where(Transaction.activity_id == stored.id)
            .order_by(col(Transaction.position))
        ).all()
        version = session.exec(
            select(ActivityVersion).where(
                ActivityVersion.activity_id == stored.id, ActivityVersion.version == 2
            )
        ).one()
    assert str(amounts[0]) == "99.50"
    changes = {change["field"]: change for change in version.summary["changes"]}
    assert version.summary["kind"] == "updated"
    assert changes["transactions"]["items_changed"] == 1
    assert "last_updated_datetime" in changes
    assert version.push_id == document.id
    assert ">99.50</value>" in str(version.received_xml)


def test_an_older_last_updated_datetime_is_stale_and_not_applied(
    store: Engine, usaid: Publisher, tmp_path: Path
) -> None:
    push(store, usaid, sample(USAID_EC))
    older = variant(USAID_EC, tmp_path / "older.xml", a3=set_first_transaction("1.00", EARLIER))
    document = push(store, usaid, older)
    assert _outcomes(document) == {Outcome.stale: 1, Outcome.unchanged: 249}
    assert document.activities[2].findings[-1].code == "push.stale"
    stored = stored_activity(store, identifier_of(USAID_EC, 3))
    assert stored.version == 1


def test_an_activity_of_another_reporting_org_is_rejected_and_the_rest_applied(
    store: Engine, usaid: Publisher, tmp_path: Path
) -> None:
    foreign = variant(USAID_EC, tmp_path / "foreign.xml", keep=5, a2=set_reporting_org("GB-1"))
    document = push(store, usaid, foreign)
    assert _outcomes(document) == {Outcome.created: 4, Outcome.rejected: 1}
    rejected = document.activities[1]
    assert rejected.outcome is Outcome.rejected
    assert [f.code for f in rejected.findings if f.stage == "push"] == ["push.not-your-activity"]
    assert _count(store, Activity) == 4


def _with_invalid_activity(target: Path, identifier: str) -> Path:
    """The first five USAID activities and, third, the reference file's schema-invalid one
    (a budget of 'eryr'), given a USAID identifier and reporting-org."""
    tree = etree.parse(str(sample(USAID_EC)), PARSER)
    root = tree.getroot()
    for surplus in root.findall("iati-activity")[5:]:
        root.remove(surplus)
    invalid = etree.parse(
        str(sample("invalid/schema-should-fail-budget-12-non-decimal-value.xml")), PARSER
    ).getroot().find("iati-activity")
    assert invalid is not None
    set_identifier(identifier)(invalid)
    set_reporting_org(USAID)(invalid)
    root.insert(2, invalid)
    tree.write(str(target), xml_declaration=True, encoding="utf-8")
    return target


def test_a_schema_invalid_activity_is_rejected_with_its_findings_and_the_others_applied(
    store: Engine, usaid: Publisher, tmp_path: Path
) -> None:
    document = push(store, usaid, _with_invalid_activity(tmp_path / "x.xml", "US-GOV-1-BAD"))
    assert _outcomes(document) == {Outcome.created: 5, Outcome.rejected: 1}
    rejected = document.activities[2]
    assert rejected.iati_identifier == "US-GOV-1-BAD"
    assert any(f.severity == "critical" and f.stage == "schema" for f in rejected.findings)
    assert any("eryr" in f.message for f in rejected.findings)
    assert _count(store, Activity) == 5
    assert _count(store, Activity, Activity.iati_identifier == "US-GOV-1-BAD") == 0


def test_an_atomic_push_with_one_rejection_stores_nothing(
    store: Engine, usaid: Publisher, tmp_path: Path
) -> None:
    file = _with_invalid_activity(tmp_path / "x.xml", "US-GOV-1-BAD")
    document = push(store, usaid, file, mode=PushMode.atomic)
    assert document.status is PushStatus.completed
    assert _outcomes(document) == {Outcome.rejected: 6}
    assert document.counts.rejected == 6
    aborted = [a for a in document.activities if a.iati_identifier != "US-GOV-1-BAD"]
    assert all(a.findings[-1].code == "push.atomic-abort" for a in aborted)
    assert _count(store, Activity) == 0
    assert _count(store, ActivityVersion) == 0


def test_an_atomic_push_without_rejections_stores_everything(
    store: Engine, usaid: Publisher, tmp_path: Path
) -> None:
    file = variant(USAID_EC, tmp_path / "five.xml", keep=5)
    document = push(store, usaid, file, mode=PushMode.atomic)
    assert _outcomes(document) == {Outcome.created: 5}
    assert document.counts.created == 5
    assert _count(store, Activity) == 5


def test_dataset_scope_deletes_the_publishers_activities_missing_from_the_file(
    store: Engine, usaid: Publisher, tmp_path: Path
) -> None:
    push(store, usaid, variant(USAID_EC, tmp_path / "twelve.xml", keep=12))
    document = push(
        store, usaid, variant(USAID_EC, tmp_path / "ten.xml", keep=10), scope=PushScope.dataset
    )
    assert document.counts.deleted == 2
    assert _outcomes(document) == {Outcome.unchanged: 10, Outcome.deleted: 2}
    gone = [a for a in document.activities if a.outcome is Outcome.deleted]
    assert [a.position for a in gone] == [11, 12]
    assert {a.iati_identifier for a in gone} == {
        identifier_of(USAID_EC, 11), identifier_of(USAID_EC, 12),
    }
    tombstone = stored_activity(store, identifier_of(USAID_EC, 11))
    assert tombstone.deleted_at is not None
    assert tombstone.version == 2
    assert _count(store, Transaction, Transaction.activity_id == tombstone.id) == 0
    assert _count(store, ActivityVersion, col(ActivityVersion.deleted).is_(True)) == 2
    # Pushing it again brings it back as a new version.
    back = push(store, usaid, variant(USAID_EC, tmp_path / "twelve.xml", keep=12))
    assert _outcomes(back) == {Outcome.unchanged: 10, Outcome.created: 2}
    assert back.activities[10].version == 3
    assert stored_activity(store, identifier_of(USAID_EC, 11)).deleted_at is None


def test_an_atomic_dataset_push_deletes_in_the_same_transaction(
    store: Engine, usaid: Publisher, tmp_path: Path
) -> None:
    push(store, usaid, variant(USAID_EC, tmp_path / "four.xml", keep=4))
    document = push(
        store, usaid, variant(USAID_EC, tmp_path / "three.xml", keep=3),
        mode=PushMode.atomic, scope=PushScope.dataset,
    )
    assert _outcomes(document) == {Outcome.unchanged: 3, Outcome.deleted: 1}


def test_the_same_identifier_twice_in_a_file_rejects_the_second(
    store: Engine, usaid: Publisher, tmp_path: Path
) -> None:
    twice = variant(
        USAID_EC, tmp_path / "twice.xml", keep=3, a3=set_identifier(identifier_of(USAID_EC, 1))
    )
    document = push(store, usaid, twice)
    assert [a.outcome for a in document.activities] == [
        Outcome.created, Outcome.created, Outcome.rejected,
    ]
    assert "1.1.2" in {f.code for f in document.activities[2].findings}
    assert stored_activity(store, identifier_of(USAID_EC, 1)).version == 1


def test_a_rejected_version_never_damages_the_stored_one(
    store: Engine, usaid: Publisher, tmp_path: Path
) -> None:
    good = variant(USAID_EC, tmp_path / "good.xml", keep=1)
    push(store, usaid, good)
    before = stored_activity(store, identifier_of(USAID_EC, 1))
    rows_before = _count(store, Transaction, Transaction.activity_id == before.id)
    broken = variant(
        USAID_EC, tmp_path / "broken.xml", keep=1, a1=set_first_transaction("eryr", LATER)
    )
    document = push(store, usaid, broken)
    assert _outcomes(document) == {Outcome.rejected: 1}
    after = stored_activity(store, identifier_of(USAID_EC, 1))
    assert (after.version, after.content_hash, after.document) == (
        before.version, before.content_hash, before.document,
    )
    assert _count(store, Transaction, Transaction.activity_id == before.id) == rows_before
    assert _count(store, ActivityVersion) == 1


def test_an_activity_of_another_organisation_cannot_be_overwritten(
    store: Engine, usaid: Publisher, tmp_path: Path
) -> None:
    one = variant(USAID_EC, tmp_path / "one.xml", keep=1)
    push(store, usaid, one)
    # Another donor reports the same identifier under its own identifier.
    other = add_publisher(store, "GB-1", name="FCDO")
    hijack = variant(
        USAID_EC, tmp_path / "hijack.xml", keep=1,
        a1=lambda activity: (set_reporting_org("GB-1")(activity),
                             set_first_transaction("1.00", LATER)(activity)),
    )
    document = push(store, other, hijack)
    assert [f.code for f in document.activities[0].findings if f.stage == "push"] == [
        "push.not-your-activity"
    ]
    assert stored_activity(store, identifier_of(USAID_EC, 1)).version == 1


def test_a_legacy_1x_file_is_upgraded_and_kept_as_received(
    store: Engine, tmp_path: Path
) -> None:
    dfid = add_publisher(store, "GB-1", name="DFID")
    document = push(store, dfid, sample("legacy-1x/dfid-cd-1.01.xml"))
    assert document.counts.created > 150
    assert document.counts.created + document.counts.rejected == 205
    assert "upgrade.version" in {f.code for f in document.findings}
    created = next(a for a in document.activities if a.outcome is Outcome.created)
    assert created.iati_identifier is not None
    stored = stored_activity(store, created.iati_identifier)
    assert stored.iati_version == "1.01"
    with Session(store) as session:
        received = session.exec(
            select(ActivityVersion.received_xml).where(ActivityVersion.activity_id == stored.id)
        ).one()
    assert received is not None
    original = etree.fromstring(received.encode())
    # As received: 1.x shapes (text directly in reporting-org), not the 2.03 upgrade.
    reporting = original.find("reporting-org")
    assert reporting is not None
    assert (reporting.text or "").strip()
    assert reporting.find("narrative") is None
    assert stored.document["reporting_org"]["narratives"]


def test_an_unreadable_file_fails_the_push_with_a_coded_finding(
    store: Engine, usaid: Publisher
) -> None:
    with pytest.raises(UnreadableFileError) as raised:
        push(store, usaid, sample("invalid/not-xml.xml"))
    assert raised.value.code == "input.not-xml"
    push_id = raised.value.extra["push_id"]
    with Session(store) as session:
        document = push_document(session, push_id)
    assert document.status is PushStatus.failed
    assert document.findings[0].code == "input.not-xml"
    assert document.finished_at is not None


def test_concurrent_pushes_of_the_same_activity_never_lose_an_update(
    store: Engine, usaid: Publisher, tmp_path: Path
) -> None:
    push(store, usaid, variant(USAID_EC, tmp_path / "one.xml", keep=1))
    files = [
        variant(
            USAID_EC, tmp_path / f"v{n}.xml", keep=1,
            a1=set_first_transaction(f"{n}.00", f"2026-01-{n:02d}T00:00:00Z"),
        )
        for n in range(1, 7)
    ]
    documents: list[PushPublic] = []
    errors: list[BaseException] = []

    def send(file: Path) -> None:
        try:
            documents.append(push(store, usaid, file))
        except Exception as error:  # noqa: BLE001 - asserted below, in the main thread
            errors.append(error)

    threads = [threading.Thread(target=send, args=(file,)) for file in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    stored = stored_activity(store, identifier_of(USAID_EC, 1))
    # Whatever the order, the latest last-updated-datetime wins, and every version counts.
    assert stored.document["transactions"][0]["value"]["amount"] == "6.00"
    updated = sum(1 for d in documents for a in d.activities if a.outcome is Outcome.updated)
    assert stored.version == 1 + updated
    assert _count(store, ActivityVersion) == stored.version
    assert _count(store, Activity) == 1


def test_concurrent_first_pushes_create_each_activity_once(
    store: Engine, usaid: Publisher, tmp_path: Path
) -> None:
    file = variant(USAID_EC, tmp_path / "ten.xml", keep=10)
    documents: list[PushPublic] = []
    threads = [
        threading.Thread(target=lambda: documents.append(push(store, usaid, file)))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(documents) == 3
    assert sum(d.counts.created for d in documents) == 10
    assert sum(d.counts.unchanged for d in documents) == 20
    assert _count(store, Activity) == 10


def test_participating_organisations_are_linked_or_registered_as_partners(
    store: Engine, usaid: Publisher
) -> None:
    push(store, usaid, sample(USAID_EC))
    with Session(store) as session:
        rows = session.exec(select(ParticipatingOrg)).all()
        partners = {
            organisation.id: organisation for organisation in session.exec(select(Organisation))
        }
    assert len(rows) == 1000
    by_usaid = [row for row in rows if row.ref == USAID]
    assert {row.organisation_id for row in by_usaid} == {usaid.organisation_id}
    named_only = [row for row in rows if not row.ref and row.name
                  and not placeholder_name(row.name)]
    assert named_only
    assert all(row.organisation_id in partners for row in named_only)
    placeholders = [row for row in rows if not row.ref and placeholder_name(row.name)]
    assert placeholders  # USAID's "Unspecified Vendors" and the like: kept, linked to none
    assert {row.organisation_id for row in placeholders} == {None}
    registered = partners[named_only[0].organisation_id]
    assert registered.id != usaid.organisation_id
    assert "implementing_partner" in registered.roles
    assert named_only[0].name in {name["text"] for name in registered.names}


def test_a_language_code_in_capitals_refuses_no_activity(store: Engine) -> None:
    """AECID writes xml:lang="ES": the official Validator accepts it, and so does a push
    (of its 100 activities, only the one failing the XSD is refused)."""
    spain = sample("real/dportal-spain-aecid-p16.xml")
    refs = {org.get("ref") for org in etree.parse(str(spain)).getroot().iterfind(
        "iati-activity/reporting-org")}
    publisher = add_publisher(store, *sorted(ref for ref in refs if ref), name="AECID")
    pushed = push(store, publisher, spain)
    reasons = {finding.code for activity in pushed.activities
               if activity.outcome is Outcome.rejected for finding in activity.findings}
    assert "9.95.1" not in reasons
    assert (pushed.counts.created, pushed.counts.rejected) == (99, 1)
