"""The registry of organisations: register them, find them by IATI identifier, list them,
and link the partners named in pushed activities (`link_partners`)."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from mappings.perimeter import Entity, entity
from service.errors import DomainError
from service.identifiers import shown, within_limit
from service.models import Organisation, OrganisationRef, OrganisationRole, ParticipatingOrg
from service.models.base import LARGEST_ID
from service.readmodel.clock import record
from service.services.placeholders import placeholder_name, placeholder_ref
from service.services.prefixes import Decider, vouch


class OrganisationName(BaseModel):
    """A name as published, with its language when one was given."""

    text: str
    lang: str | None = None


class OrganisationCreate(BaseModel):
    """An organisation to register: its IATI identifiers, name, type and roles."""

    # Not blank: each holds a character other than white space.
    refs: list[Annotated[str, Field(pattern=r"\S")]] = Field(
        min_length=1, examples=[["XM-DAC-46008"]])
    name: str = Field(pattern=r"\S", examples=["CAF"])
    type: str | None = Field(default=None, description="IATI OrganisationType code")
    roles: list[OrganisationRole] = Field(min_length=1)


class OrganisationPublic(BaseModel):
    """An organisation as the registry shows it."""

    id: int
    refs: list[str]
    name: str
    type: str | None
    roles: list[OrganisationRole]
    names: list[OrganisationName]


class OrganisationNotFoundError(DomainError):
    """No organisation has this IATI identifier."""

    status: ClassVar[int] = 404
    code: ClassVar[str] = "organisation.not-found"
    title: ClassVar[str] = "Unknown organisation"

    def __init__(self, ref: str) -> None:
        super().__init__(f"No organisation has the identifier {shown(ref)}.", ref=shown(ref))
        self.ref = shown(ref)


class DuplicateRefError(DomainError):
    """The identifier already belongs to an organisation."""

    status: ClassVar[int] = 409
    code: ClassVar[str] = "organisation.duplicate-ref"
    title: ClassVar[str] = "Identifier already registered"

    def __init__(self, ref: str, organisation: Organisation) -> None:
        super().__init__(
            f"{ref} already identifies {organisation.name} (organisation {organisation.id}).",
            ref=ref, organisation_id=organisation.id,
        )
        self.ref = ref
        self.organisation = organisation


class InvalidOrganisationError(DomainError):
    """The organisation cannot be registered as given (e.g. an empty name)."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = "organisation.invalid"
    title: ClassVar[str] = "Invalid organisation"


def register_organisation(
    session: Session,
    *,
    refs: list[str],
    name: str,
    type: str | None = None,
    roles: list[OrganisationRole],
    decider: Decider | None = None,
) -> Organisation:
    """A new organisation with its identifiers, each a prefix of the activity identifiers it
    owns (see `service.services.prefixes`); `DuplicateRefError` if one identifies another
    organisation, `PrefixTakenError` if one is another's prefix."""
    wanted = list(dict.fromkeys(ref.strip() for ref in refs))
    display = name.strip()
    if not display or any(not ref for ref in wanted):
        raise InvalidOrganisationError("Give a name, and identifiers that are not blank.")
    if not all(within_limit(ref) for ref in wanted):
        raise InvalidOrganisationError("An organisation identifier takes 500 bytes of UTF-8 "
                                       "at most.")
    for ref in wanted:
        if (owner := find_organisation(session, ref)) is not None:
            raise DuplicateRefError(ref, owner)
    organisation = Organisation(
        name=display,
        type=(type or "").strip() or None,
        roles=list(dict.fromkeys(OrganisationRole(role).value for role in roles)),
        names=[{"text": display, "lang": None}],
    )
    try:
        add_with_refs(session, organisation, wanted)
    except IntegrityError:
        # Registered by someone else between the check and the insert: say who owns it.
        for ref in wanted:
            if (owner := find_organisation(session, ref)) is not None:
                raise DuplicateRefError(ref, owner) from None
        raise
    vouch(session, organisation, decider=decider or Decider("registration"), strict=True)
    record(session, "organisation", details={"organisation": organisation.id})
    return organisation


def add_with_refs(session: Session, organisation: Organisation, refs: list[str]) -> None:
    """Insert `organisation` and its identifiers in a savepoint.

    On `IntegrityError` (an identifier taken meanwhile) only the savepoint is undone, so
    the caller's transaction stays usable and can read who took it.
    """
    with session.begin_nested():
        session.add(organisation)
        session.flush()
        assert organisation.id is not None
        session.add_all(OrganisationRef(organisation_id=organisation.id, ref=r) for r in refs)
        session.flush()


def find_organisation(session: Session, ref: str) -> Organisation | None:
    """The organisation identified by `ref` (any of its identifiers), if registered."""
    if not within_limit(ref.strip()):
        return None  # longer than any identifier: not asked of the database
    statement = (
        select(Organisation)
        .join(OrganisationRef, col(OrganisationRef.organisation_id) == col(Organisation.id))
        .where(OrganisationRef.ref == ref.strip())
    )
    return session.exec(statement).first()


def named_organisation(session: Session, named: str) -> Organisation:
    """The organisation an identifier names, else the one of that registry id; 404 if none."""
    found = find_organisation(session, named)
    if found is None and named.strip().isdigit() and int(named) <= LARGEST_ID:
        found = session.get(Organisation, int(named))
    if found is None:
        raise OrganisationNotFoundError(named)
    return found


def refs_of(session: Session, organisation_ids: Iterable[int]) -> dict[int, list[str]]:
    """The identifiers of each organisation, in the order they were registered."""
    found: dict[int, list[str]] = defaultdict(list)
    ids = list(organisation_ids)
    if not ids:
        return found
    statement = (
        select(OrganisationRef.organisation_id, OrganisationRef.ref)
        .where(col(OrganisationRef.organisation_id).in_(ids))
        .order_by(col(OrganisationRef.id))
    )
    for organisation_id, ref in session.exec(statement):
        found[organisation_id].append(ref)
    return found


def list_organisations(
    session: Session, *, role: OrganisationRole | None = None
) -> list[OrganisationPublic]:
    """Every registered organisation (of `role`, if given), by name."""
    rows = session.exec(
        select(Organisation).where(col(Organisation.merged_into_id).is_(None))
        .order_by(col(Organisation.name), col(Organisation.id))
    ).all()
    # Roles are a JSON list, filtered here: the registry is small and JSON containment
    # differs between SQLite and PostgreSQL.
    chosen = [row for row in rows if role is None or role.value in row.roles]
    refs = refs_of(session, (row.id for row in chosen if row.id is not None))
    return [public(row, refs.get(row.id or 0, [])) for row in chosen]


def public(organisation: Organisation, refs: list[str]) -> OrganisationPublic:
    """The registry's view of `organisation`."""
    assert organisation.id is not None
    return OrganisationPublic(
        id=organisation.id,
        refs=refs,
        name=organisation.name,
        type=organisation.type,
        roles=[OrganisationRole(role) for role in organisation.roles],
        names=[OrganisationName.model_validate(name) for name in organisation.names],
    )


# Partners named in pushed activities ---------------------------------------------------

Participant = tuple[str | None, str | None, str | None, list[dict[str, Any]]]
FUNDING = "1"  # IATI OrganisationRole code of the funding organisation
ECUADOR_RUC = "EC-RUC-"  # OrganisationRegistrationAgency: Ecuador's tax register
_NAME_LOCK = b"iati-ec organisation name\0"


@dataclass
class _Partner:
    """The participating-orgs of one call that name the same organisation."""

    ref: str | None
    names: list[dict[str, str | None]]
    type: str | None = None
    roles: set[OrganisationRole] = field(default_factory=set)
    keys: set[str] = field(default_factory=set)
    entity: Entity | None = None  # the Ecuadorian entity of the catalogue it is, if known


def normalised(name: str) -> str:
    """`name` as compared when a partner has no identifier: case-folded, spaces collapsed."""
    return " ".join(name.casefold().split())


def partner_key(ref: str | None, narratives: list[dict[str, Any]]) -> str | None:
    """The key `link_partners` reports a participant under: its ref, else its first name.

    A ref longer than any identifier (`IDENTIFIER_LIMIT`) is none: it is not registered."""
    if ref and ref.strip() and within_limit(ref.strip()):
        return ref.strip()
    names = _published(narratives)
    return names[0]["text"] if names else None


def link_partners(
    session: Session, *, participants: Iterable[Participant], in_ecuador: bool = False,
) -> dict[str, int]:
    """Register or link each participating-org `(ref, type, role code, narratives)`.

    An organisation found by any of its identifiers gains the names it did not have yet
    (names are kept as published, never replaced). An unknown identifier registers a new
    organisation: a donor if it funds (role 1), else an implementing partner. Without an
    identifier the organisation is matched by normalised name, else registered without one.

    In an activity for Ecuador (`in_ecuador`), a participant the catalogue of Ecuadorian
    entities knows (by its RUC, its Ecuadorian ref or its name, as the budget perimeter
    reads a receiver: `mappings.perimeter.entity`) is that entity: it is linked to the
    registry's entry of the entity — found by the entity's RUC (`EC-RUC-…`) or its official
    name — whatever its spelling, or registers it under the catalogue's official name, with
    the names as published kept as its variants.

    A placeholder (`service.services.placeholders`) never keys an entry: a participant
    under a placeholder ref is linked by its name, and one named only by a placeholder
    ("nan", "Unspecified Vendors") is linked to no entry.

    Returns `partner_key` → organisation id. Idempotent; safe under concurrent pushes on
    PostgreSQL and, in a write session (`new_session(write=True)`), on SQLite.
    """
    given = list(participants)
    placeholders = _placeholder_refs(session, given)
    # A placeholder ref is kept by the participant's name; a placeholder name alone, never.
    partners = _gather([(None if ref and ref.strip() in placeholders else ref, kind, role, names)
                        for ref, kind, role, names in given])
    by_ref = _by_refs(session, [p.ref for p in partners if p.ref])
    linked: dict[str, int] = {}
    for partner in partners:
        partner.entity = _entity_of(partner) if in_ecuador else None
        found = by_ref.get(partner.ref) if partner.ref else None
        if found is None and partner.entity is not None:
            found = _by_entity(session, partner.entity)
            if found is not None and partner.ref:
                _add_ref(session, found, partner.ref)
        if found is None and not partner.ref:
            found = _by_name(session, partner)
        if found is None:
            found = _register_partner(session, partner)
        else:
            _add_names(session, found, partner)
        assert found.id is not None
        linked.update(dict.fromkeys(partner.keys, found.id))
    for ref, _kind, _role, names in given:
        named = partner_key(None, names)
        if ref and ref.strip() in placeholders and named in linked:
            linked[ref.strip()] = linked[named]
    return linked


def _placeholder_refs(session: Session, participants: list[Participant]) -> set[str]:
    """The refs among `participants` that are placeholders (`service.services.placeholders`),
    on the names given with them here and in the activities already stored."""
    names: dict[str, set[str]] = defaultdict(set)
    for ref, _kind, _role, narratives in participants:
        if ref and ref.strip():
            names[ref.strip()].update(name["text"] or "" for name in _published(narratives))
    if not names:
        return set()
    stored = select(ParticipatingOrg.ref, ParticipatingOrg.name).distinct().where(
        col(ParticipatingOrg.ref).in_(list(names)))
    for ref, name in session.exec(stored):
        names[(ref or "").strip()].add(name or "")
    return {ref for ref, given in names.items() if placeholder_ref(ref, given)}


def entity_ref(found: Entity) -> str | None:
    """The IATI identifier of an Ecuadorian entity with a RUC (agency EC-RUC)."""
    return f"{ECUADOR_RUC}{found.ruc}" if found.ruc else None


def _entity_of(partner: _Partner) -> Entity | None:
    names: list[str | None] = [str(name["text"]) for name in partner.names] or [None]
    return next((found for name in names if (found := entity(partner.ref, name))), None)


def _by_entity(session: Session, found: Entity) -> Organisation | None:
    """The registry's entry of a catalogue entity: the one holding its RUC, else the one
    bearing its official name."""
    ref = entity_ref(found)
    if ref is not None and (holder := find_organisation(session, ref)) is not None:
        return holder
    statement = select(Organisation).where(
        Organisation.name == found.name, col(Organisation.merged_into_id).is_(None))
    return session.exec(statement.order_by(col(Organisation.id))).first()


def _add_ref(session: Session, organisation: Organisation, ref: str) -> None:
    """Give `organisation` the identifier `ref` too, unless another one took it meanwhile."""
    assert organisation.id is not None
    try:
        with session.begin_nested():
            session.add(OrganisationRef(organisation_id=organisation.id, ref=ref))
            session.flush()
    except IntegrityError:
        pass  # a concurrent push registered it: that entry keeps it


def _published(narratives: list[dict[str, Any]]) -> list[dict[str, str | None]]:
    names: dict[tuple[str, str | None], None] = {}
    for narrative in narratives:
        text = (narrative.get("text") or "").strip()
        if text:
            names[(text, narrative.get("lang") or None)] = None
    return [{"text": text, "lang": lang} for text, lang in names]


def _gather(participants: Iterable[Participant]) -> list[_Partner]:
    """Participants grouped by identifier (else normalised first name), in a fixed order.

    Identified ones come first, so that a name without identifier can match an
    organisation registered a moment before; and the order is the same in every
    transaction, so concurrent pushes take row locks alike.
    """
    groups: dict[tuple[bool, str], _Partner] = {}
    for ref, kind, role, narratives in participants:
        key, names = partner_key(ref, narratives), _published(narratives)
        if key is None or (not (ref or "").strip() and all(
                placeholder_name(name["text"]) for name in names)):
            continue  # "nan", "Unspecified Vendors": no partner to register
        ref = (ref or "").strip() or None
        ref = ref if ref is not None and within_limit(ref) else None
        group_key = (ref is None, ref or normalised(key))
        group = groups.setdefault(group_key, _Partner(ref=ref, names=[]))
        group.names += [name for name in names if name not in group.names]
        group.type = group.type or (kind or "").strip() or None
        funds = (role or "").strip() == FUNDING
        group.roles.add(OrganisationRole.donor if funds else OrganisationRole.implementing_partner)
        group.keys.add(key)
    return [groups[key] for key in sorted(groups)]


def _by_refs(session: Session, refs: list[str]) -> dict[str, Organisation]:
    if not refs:
        return {}
    statement = (
        select(OrganisationRef.ref, Organisation)
        .join(Organisation, col(OrganisationRef.organisation_id) == col(Organisation.id))
        .where(col(OrganisationRef.ref).in_(refs))
    )
    return dict(session.exec(statement).all())


def _by_name(session: Session, partner: _Partner) -> Organisation | None:
    """The organisation already bearing one of `partner`'s names (exactly, else normalised)."""
    texts = [str(name["text"]) for name in partner.names]
    exact = select(Organisation).where(
        col(Organisation.name).in_(texts), col(Organisation.merged_into_id).is_(None)
    )
    found = session.exec(exact.order_by(col(Organisation.id))).first()
    return found if found is not None else _scan_names(session, partner)


def _scan_names(session: Session, partner: _Partner) -> Organisation | None:
    # Names live in a JSON list, compared after case folding (which SQL's lower() does
    # not do beyond ASCII): read them all. Only names seen for the first time get here.
    wanted = {normalised(str(name["text"])) for name in partner.names}
    statement = (
        select(Organisation.id, Organisation.name, Organisation.names)
        .where(col(Organisation.merged_into_id).is_(None)).order_by(col(Organisation.id))
    )
    for organisation_id, name, names in session.exec(statement):
        known = {normalised(name)} | {normalised(str(n.get("text") or "")) for n in names}
        if known & wanted:
            return session.get(Organisation, organisation_id)
    return None


def _register_partner(session: Session, partner: _Partner) -> Organisation:
    first = str(partner.names[0]["text"]) if partner.names else None
    official = partner.entity.name if partner.entity is not None else None
    organisation = Organisation(
        name=official or first or str(partner.ref),
        type=partner.type,
        roles=[role.value for role in OrganisationRole if role in partner.roles],
        names=list(partner.names),
    )
    refs = list(dict.fromkeys(ref for ref in (
        partner.ref, entity_ref(partner.entity) if partner.entity else None) if ref))
    if not refs:
        return _register_unidentified(session, organisation, partner)
    try:
        add_with_refs(session, organisation, refs)
    except IntegrityError:
        # A concurrent push registered an identifier first: link to its organisation.
        found = next((o for ref in refs if (o := find_organisation(session, ref))), None)
        if found is None:
            raise
        _add_names(session, found, partner)
        return found
    return organisation


def _register_unidentified(
    session: Session, organisation: Organisation, partner: _Partner
) -> Organisation:
    """Register an organisation known only by name, unless a concurrent push just did."""
    if session.get_bind().dialect.name == "postgresql":
        # No unique constraint can guard a name inside a JSON list: concurrent pushes of
        # the same new name take turns (until commit), the second then finds the first's.
        digest = hashlib.blake2b(_NAME_LOCK + normalised(organisation.name).encode(), digest_size=8)
        lock = int.from_bytes(digest.digest(), "big", signed=True)
        session.exec(select(func.pg_advisory_xact_lock(lock)))
        found = _by_entity(session, partner.entity) if partner.entity else None
        if found is not None or (found := _scan_names(session, partner)) is not None:
            _add_names(session, found, partner)
            return found
    session.add(organisation)
    session.flush()
    return organisation


def _add_names(session: Session, organisation: Organisation, partner: _Partner) -> None:
    """Append the names (and a missing type) `partner` brings, under the row's lock."""
    if not _unknown_names(organisation, partner) and (organisation.type or not partner.type):
        return
    # FOR NO KEY UPDATE: concurrent pushes hold KEY SHARE locks on the row (their new
    # rows' foreign keys point at it), which FOR UPDATE would wait on, crosswise.
    locked = session.exec(
        select(Organisation)
        .where(Organisation.id == organisation.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).one()
    added = _unknown_names(locked, partner)
    if not locked.names and added:
        locked.name = str(added[0]["text"])  # it was shown by its identifier until now
    locked.names = [*locked.names, *added]
    locked.type = locked.type or partner.type
    session.flush()


def _unknown_names(organisation: Organisation, partner: _Partner) -> list[dict[str, str | None]]:
    known = {(name.get("text"), name.get("lang")) for name in organisation.names}
    return [name for name in partner.names if (name["text"], name["lang"]) not in known]
