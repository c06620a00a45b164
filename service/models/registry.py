"""The registry of organisations, their IATI identifiers, the identifier prefixes they own
and their API keys."""

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from service.models.base import IdTable, created_at, parent, updated_at
from service.models.types import JSONDocument, UtcDateTime, enum_column


class OrganisationRole(StrEnum):
    """What an organisation is to Ecuador's cooperation (an organisation may be several)."""

    donor = "donor"
    implementing_partner = "implementing_partner"
    government = "government"


class KeyScope(StrEnum):
    """What an API key allows."""

    publish = "publish"
    read = "read"
    admin = "admin"


class Organisation(IdTable, table=True):
    """An organisation known to iati-ec: a donor, a partner named in activities, …

    `names` keeps every name as published (``[{"text": …, "lang": …}]``); `name` is the
    one shown. `roles` holds `OrganisationRole` values.
    """

    name: str = Field(index=True)
    type: str | None = Field(default=None, index=True)
    roles: list[str] = Field(default_factory=list, sa_type=JSONDocument, nullable=False)
    names: list[dict[str, Any]] = Field(
        default_factory=list, sa_type=JSONDocument, nullable=False
    )
    # Set when the ministry merged this organisation into another (see OrganisationMerge):
    # its identifiers, names and mentions in activities moved there.
    merged_into_id: int | None = parent("organisation", nullable=True, ondelete="SET NULL")
    created_at: datetime = created_at()
    updated_at: datetime = updated_at()


class OrganisationMerge(IdTable, table=True):
    """A recorded decision that two registry entries are one organisation: who, when, why,
    and what moved (the merged entry's identifiers and names as they were)."""

    __tablename__ = "organisation_merge"

    merged_id: int = parent("organisation", ondelete="RESTRICT")
    into_id: int = parent("organisation", ondelete="RESTRICT")
    name: str
    refs: list[str] = Field(default_factory=list, sa_type=JSONDocument, nullable=False)
    names: list[dict[str, Any]] = Field(
        default_factory=list, sa_type=JSONDocument, nullable=False
    )
    reason: str = Field(sa_type=sa.Text)
    evidence: list[dict[str, Any]] = Field(
        default_factory=list, sa_type=JSONDocument, nullable=False
    )
    decided_by_key_id: int | None = parent("api_key", nullable=True, ondelete="SET NULL")
    decided_by: str
    decided_at: datetime = created_at()


class OrganisationRef(IdTable, table=True):
    """One IATI organisation identifier (an organisation may have several)."""

    __tablename__ = "organisation_ref"

    organisation_id: int = parent("organisation")
    ref: str = Field(unique=True)


class PrefixSource(StrEnum):
    """How an organisation came to own an identifier prefix."""

    ref = "ref"  # one of its identifiers, when the ministry registered it or gave it a key
    ministry = "ministry"  # registered for it by an admin
    transfer = "transfer"  # one activity identifier, given to it by a transfer


class IdentifierPrefix(IdTable, table=True):
    """A prefix of activity identifiers that one organisation alone may publish under: it
    owns the identifier equal to it and those continuing it after a hyphen, unless a longer
    registered prefix covers them (see `service.services.ownership`)."""

    __tablename__ = "identifier_prefix"

    organisation_id: int = parent("organisation")
    prefix: str  # as registered
    prefix_key: str = Field(unique=True)  # as compared (Unicode NFC)
    source: PrefixSource = Field(sa_type=enum_column(PrefixSource))
    reason: str | None = Field(default=None, sa_type=sa.Text)
    registered_by_key_id: int | None = parent("api_key", nullable=True, ondelete="SET NULL")
    registered_by: str
    registered_at: datetime = created_at()


class ApiKey(IdTable, table=True):
    """An API key of one organisation: `key_id` is its public prefix, the secret is hashed."""

    __tablename__ = "api_key"

    organisation_id: int = parent("organisation")
    key_id: str = Field(sa_type=sa.String(64), unique=True)
    secret_hash: str = Field(sa_type=sa.String(255))
    scopes: list[str] = Field(default_factory=list, sa_type=JSONDocument, nullable=False)
    label: str | None = None
    created_at: datetime = created_at()
    last_used_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
