"""The registry of organisations and the linking of partners named in pushed activities.

On SQLite and PostgreSQL; the concurrency cases commit for real (in two threads) and
remove what they made afterwards.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from service.db import session_scope
from service.models import Organisation, OrganisationRef, OrganisationRole
from service.readmodel.clock import record
from service.services.merges import merge_candidates
from service.services.organisations import (
    DuplicateRefError,
    InvalidOrganisationError,
    find_organisation,
    link_partners,
    list_organisations,
    partner_key,
    register_organisation,
)
from service.services.partners import catalogue_entity, profile

ES, EN = "es", "en"


def unique(prefix: str = "XM-TEST") -> str:
    return f"{prefix}-{uuid4().hex[:12]}"


def names(*pairs: tuple[str, str | None]) -> list[dict[str, Any]]:
    return [{"text": text, "lang": lang} for text, lang in pairs]


def organisation_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Organisation)).one()


# Registering and finding ---------------------------------------------------------------


def test_a_registered_organisation_is_found_by_each_of_its_refs(session: Session) -> None:
    first, second = unique(), unique()
    caf = register_organisation(
        session, refs=[first, second], name="CAF", type="40", roles=[OrganisationRole.donor]
    )
    assert find_organisation(session, first) == caf
    assert find_organisation(session, f" {second} ") == caf
    assert find_organisation(session, unique()) is None
    assert caf.names == [{"text": "CAF", "lang": None}]
    assert caf.roles == ["donor"]


def test_a_ref_belongs_to_one_organisation_only(session: Session) -> None:
    ref = unique()
    caf = register_organisation(session, refs=[ref], name="CAF", roles=[OrganisationRole.donor])
    with pytest.raises(DuplicateRefError) as raised:
        register_organisation(
            session, refs=[unique(), ref], name="Other", roles=[OrganisationRole.donor]
        )
    assert raised.value.status == 409
    assert raised.value.extra == {"ref": ref, "organisation_id": caf.id}
    assert "already identifies CAF" in raised.value.detail


@pytest.mark.parametrize(("refs", "name"), [([" "], "CAF"), (["XM-DAC-1"], "  ")])
def test_blank_names_and_refs_are_refused(session: Session, refs: list[str], name: str) -> None:
    with pytest.raises(InvalidOrganisationError):
        register_organisation(session, refs=refs, name=name, roles=[OrganisationRole.donor])


def test_list_shows_refs_and_filters_by_role(session: Session) -> None:
    donor, ministry = unique(), unique("EC-GOV")
    register_organisation(session, refs=[donor], name="AECID", roles=[OrganisationRole.donor])
    register_organisation(
        session, refs=[ministry], name="Ministerio de Economía y Finanzas",
        roles=[OrganisationRole.government],
    )
    everyone = {o.name: o for o in list_organisations(session)}
    assert everyone["AECID"].refs == [donor]
    governments = list_organisations(session, role=OrganisationRole.government)
    assert [o.refs for o in governments if o.refs == [ministry]] == [[ministry]]
    assert all(OrganisationRole.government in o.roles for o in governments)


# Linking partners named in pushed activities -------------------------------------------


def test_an_unknown_ref_registers_a_partner_with_its_names_as_published(
    session: Session,
) -> None:
    ref = unique()
    published = names(("Fundación Esquel", ES), ("Esquel Foundation", EN))
    linked = link_partners(session, participants=[(ref, "21", "4", published)])
    partner = find_organisation(session, ref)
    assert partner is not None
    assert linked == {ref: partner.id}
    assert partner.names == published
    assert partner.name == "Fundación Esquel"
    assert partner.type == "21"
    assert partner.roles == [OrganisationRole.implementing_partner.value]


def test_a_funding_organisation_is_registered_as_a_donor(session: Session) -> None:
    funder, both = unique(), unique()
    link_partners(session, participants=[
        (funder, "10", "1", names(("KOICA", EN))),
        (both, None, "1", names(("GIZ", None))),
        (both, None, "4", names(("GIZ", None))),
    ])
    assert find_organisation(session, funder).roles == ["donor"]  # type: ignore[union-attr]
    assert find_organisation(session, both).roles == [  # type: ignore[union-attr]
        "donor", "implementing_partner",
    ]


def test_linking_is_idempotent(session: Session) -> None:
    participants = [
        (unique(), "21", "4", names(("Fundación Esquel", ES))),
        (None, None, "4", names(("Comunidad de Zuleta", ES))),
    ]
    first = link_partners(session, participants=participants)
    count = organisation_count(session)
    again = link_partners(session, participants=participants)
    assert again == first
    assert organisation_count(session) == count
    for organisation_id in first.values():
        organisation = session.get(Organisation, organisation_id)
        assert organisation is not None
        assert len(organisation.names) == 1


def test_new_names_are_appended_and_old_ones_kept(session: Session) -> None:
    ref = unique()
    caf = register_organisation(session, refs=[ref], name="CAF", roles=[OrganisationRole.donor])
    link_partners(session, participants=[
        (ref, "40", "1", names(("CAF - Banco de Desarrollo de América Latina", ES))),
    ])
    link_partners(session, participants=[
        (ref, "40", "1", names(("Development Bank of Latin America", EN), ("CAF", None))),
    ])
    session.refresh(caf)
    assert caf.name == "CAF"
    assert caf.names == names(
        ("CAF", None),
        ("CAF - Banco de Desarrollo de América Latina", ES),
        ("Development Bank of Latin America", EN),
    )
    assert caf.roles == ["donor"]
    assert caf.type == "40"  # filled in, as it was unknown


def test_a_partner_is_linked_by_any_of_its_refs(session: Session) -> None:
    dac, other = unique("XM-DAC"), unique("XI-IATI")
    undp = register_organisation(
        session, refs=[dac, other], name="UNDP", roles=[OrganisationRole.implementing_partner]
    )
    linked = link_partners(session, participants=[(other, None, "4", names(("PNUD", ES)))])
    assert linked == {other: undp.id}
    assert [n["text"] for n in undp.names] == ["UNDP", "PNUD"]


def test_without_ref_a_partner_is_matched_by_normalised_name(session: Session) -> None:
    [known] = link_partners(
        session, participants=[(None, None, "4", names(("Fundación  Alli Causai", ES)))]
    ).values()
    linked = link_partners(
        session, participants=[(None, None, "4", names((" FUNDACIÓN alli   causai ", None)))]
    )
    assert linked == {"FUNDACIÓN alli   causai": known}
    organisation = session.get(Organisation, known)
    assert organisation is not None
    assert [n["text"] for n in organisation.names] == [
        "Fundación  Alli Causai", "FUNDACIÓN alli   causai",
    ]
    refs = session.exec(select(OrganisationRef).where(OrganisationRef.organisation_id == known))
    assert refs.all() == []


def test_a_name_without_ref_matches_a_partner_the_same_activity_registers(
    session: Session,
) -> None:
    ref, name = unique(), f"Fondo {uuid4().hex[:8]}"
    linked = link_partners(session, participants=[
        (None, None, "4", names((name.upper(), ES))),
        (ref, "80", "1", names((name, ES))),
    ])
    assert linked[ref] == linked[name.upper()]


def test_a_ref_without_names_is_shown_by_its_ref_until_a_name_is_published(
    session: Session,
) -> None:
    ref = unique()
    [partner_id] = link_partners(session, participants=[(ref, None, "4", [])]).values()
    partner = session.get(Organisation, partner_id)
    assert partner is not None
    assert (partner.name, partner.names) == (ref, [])
    link_partners(session, participants=[(ref, None, "4", names(("Plan International", EN)))])
    assert partner.name == "Plan International"


def test_participants_with_neither_ref_nor_name_are_left_out(session: Session) -> None:
    count = organisation_count(session)
    assert link_partners(session, participants=[(None, "10", "4", names(("  ", ES)))]) == {}
    assert organisation_count(session) == count
    assert partner_key("", names(("", None))) is None


# Concurrent pushes ---------------------------------------------------------------------


@pytest.fixture
def committed(engine: Engine) -> Iterator[list[str]]:
    """Refs and names the test commits; their organisations are deleted afterwards."""
    made: list[str] = []
    yield made
    with session_scope(engine) as session:
        for key in made:
            for organisation in session.exec(
                select(Organisation)
                .outerjoin(OrganisationRef, col(OrganisationRef.organisation_id) == Organisation.id)
                .where((OrganisationRef.ref == key) | (Organisation.name == key))
            ).unique():
                session.delete(organisation)
        record(session, "organisation")


def run_in_turns(
    engine: Engine,
    first: Callable[[Session], dict[str, int]],
    second: Callable[[Session], dict[str, int]],
) -> list[dict[str, int]]:
    """`first` works and holds its transaction open while `second` does the same work.

    On PostgreSQL the second runs into the first's uncommitted rows (a unique index, a
    row or advisory lock) and must wait for its commit; on SQLite it waits for the lock.
    """
    started = threading.Event()

    def hold(work: Callable[[Session], dict[str, int]]) -> dict[str, int]:
        try:
            with session_scope(engine, write=True) as session:
                linked = work(session)
                record(session, "push")  # as the push's transaction does, last
                started.set()
                time.sleep(0.5)  # the second is now blocked on this open transaction
                return linked
        finally:
            started.set()

    def follow(work: Callable[[Session], dict[str, int]]) -> dict[str, int]:
        assert started.wait(30)
        with session_scope(engine, write=True) as session:
            linked = work(session)
            record(session, "push")
            return linked

    with ThreadPoolExecutor(max_workers=2) as pool:
        held, followed = pool.submit(hold, first), pool.submit(follow, second)
        return [held.result(timeout=60), followed.result(timeout=60)]


def test_concurrent_pushes_of_a_new_ref_make_one_organisation(
    engine: Engine, committed: list[str]
) -> None:
    ref = unique()
    committed.append(ref)
    spanish = [(ref, "21", "4", names(("Fundación Esquel", ES)))]
    english = [(ref, "21", "4", names(("Esquel Foundation", EN)))]
    first, second = run_in_turns(
        engine,
        lambda s: link_partners(s, participants=spanish),
        lambda s: link_partners(s, participants=english),
    )
    assert first == second
    with session_scope(engine) as session:
        partner = find_organisation(session, ref)
        assert partner is not None
        assert partner.id == first[ref]
        assert partner.names == names(("Fundación Esquel", ES), ("Esquel Foundation", EN))
        named = select(func.count()).where(Organisation.name == "Esquel Foundation")
        assert session.exec(named).one() == 0


def test_concurrent_pushes_of_a_new_name_without_ref_make_one_organisation(
    engine: Engine, committed: list[str]
) -> None:
    name = f"Cooperativa {uuid4().hex[:8]}"
    committed.append(name)
    first, second = run_in_turns(
        engine,
        lambda s: link_partners(s, participants=[(None, None, "4", names((name, ES)))]),
        lambda s: link_partners(s, participants=[(None, None, "4", names((name.upper(), ES)))]),
    )
    assert first[name] == second[name.upper()]
    with session_scope(engine) as session:
        [partner] = session.exec(select(Organisation).where(Organisation.name == name)).all()
        assert [n["text"] for n in partner.names] == [name, name.upper()]


def test_concurrent_pushes_lose_no_published_name(
    engine: Engine, committed: list[str]
) -> None:
    ref = unique()
    committed.append(ref)
    with session_scope(engine) as session:
        register_organisation(
            session, refs=[ref], name="WFP", roles=[OrganisationRole.implementing_partner]
        )
    run_in_turns(
        engine,
        lambda s: link_partners(s, participants=[(ref, None, "4", names(("PMA", ES)))]),
        lambda s: link_partners(s, participants=[(ref, None, "4", names(("PAM", "fr")))]),
    )
    with session_scope(engine) as session:
        partner = find_organisation(session, ref)
        assert partner is not None
        assert partner.names == names(("WFP", None), ("PMA", ES), ("PAM", "fr"))


# Ecuadorian entities: one entry, whatever the spelling -----------------------------------

MEF = "Ministerio de Economía y Finanzas"
SPELLINGS = ["MINISTERIO DE ECONOMíA Y FINANZAS", MEF, "MINISTERIO DE ECONOMIA Y FINANZAS"]


def test_an_entity_of_the_catalogue_is_one_entry_under_its_official_name(
    session: Session,
) -> None:
    """In activities for Ecuador, four spellings of the ministry (one with its RUC) link to
    one entry, named as the catalogue names it, the spellings kept as published."""
    linked = link_partners(session, in_ecuador=True, participants=[
        *((None, None, "4", names((spelt, None))) for spelt in SPELLINGS),
        ("EC-RUC-1760000900001", "10", "4",
         names(("Ministerio de Economía y Finanzas del Ecuador (MEF)", ES))),
    ])
    assert len(set(linked.values())) == 1
    ministry = session.get(Organisation, next(iter(linked.values())))
    assert ministry is not None
    assert ministry.name == MEF
    assert {n["text"] for n in ministry.names} == {
        *SPELLINGS, "Ministerio de Economía y Finanzas del Ecuador (MEF)"}
    assert find_organisation(session, "EC-RUC-1760000900001") == ministry
    again = link_partners(session, in_ecuador=True,
                          participants=[(None, None, "4", names(("MEF", None)))])
    assert set(again.values()) == {ministry.id}
    found = profile(session.connection(), ministry.id)  # type: ignore[arg-type]
    assert found is not None
    assert found.catalogue_entity is not None
    assert (found.catalogue_entity.name, found.catalogue_entity.ruc) == (MEF, "1760000900001")


def test_outside_ecuador_a_name_is_not_taken_for_an_ecuadorian_entity(
    session: Session,
) -> None:
    """Panama's ministry of the same name, in an activity for Panama, stays its own."""
    linked = link_partners(session, participants=[
        ("PN-MIPPE", None, "4", names(("MINISTERIO DE ECONOMIA Y FINANZAS", EN))),
        (None, None, "4", names(("Ministerio de Economía y Finanzas", None))),
    ])
    panama = find_organisation(session, "PN-MIPPE")
    assert panama is not None
    assert panama.name == "MINISTERIO DE ECONOMIA Y FINANZAS"
    assert find_organisation(session, "EC-RUC-1760000900001") is None
    assert catalogue_entity(["PN-MIPPE"], panama.name) is None
    assert len(set(linked.values())) == 2


def test_entries_registered_apart_are_candidates_as_one_entity(session: Session) -> None:
    """Spellings linked apart (before pushes knew the catalogue) are put to the ministry
    as one entity; nothing is merged without its decision."""
    link_partners(session, participants=[
        (None, None, "4", names(("MINISTERIO DE ECONOMíA Y FINANZAS", None))),
        (None, None, "4", names(("Ministerio de Economía y Finanzas del Ecuador (MEF)", ES))),
        ("PN-MIPPE", None, "4", names(("MINISTERIO DE ECONOMIA Y FINANZAS", EN))),
    ])
    [pair] = [c for c in merge_candidates(session)
              if any(e.kind == "same-entity" for e in c.evidence)]
    assert {pair.left.name, pair.right.name} == {
        "MINISTERIO DE ECONOMíA Y FINANZAS", "Ministerio de Economía y Finanzas del Ecuador (MEF)"}
    assert [e.value for e in pair.evidence if e.kind == "same-entity"] == [MEF]
    assert "PN-MIPPE" not in pair.left.refs + pair.right.refs
