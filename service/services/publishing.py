"""iati-ec as an IATI publisher: each reporting organisation's current activities as one
IATI 2.03 activity file, and an index of those files.

A dataset is every live activity whose reporting-org/@ref is the organisation's, in
identifier order. Its `content_hash` (SHA-256 over the identifiers and content hashes of
those activities, in that order) changes exactly when what the file says changes, and is
the file's entity tag; the file's `generated-datetime` is its last change, so the bytes
served for one content hash are always the same.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, Select, func, select
from sqlalchemy.engine import Connection

from iati.elements.activity import ActivityFile
from iati.values import IsoDateTime
from iati.writer import activity_chunks
from service.models import Organisation, OrganisationRef
from service.models.types import as_utc
from service.services.push.reading import model_of
from service.services.push.storage import ACTIVITY
from service.services.streaming import streamed

ORGANISATION = Organisation.__table__  # type: ignore[attr-defined]
REF = OrganisationRef.__table__  # type: ignore[attr-defined]


class DatasetPublic(BaseModel):
    """One published dataset, as listed in the index."""

    publisher: str
    publisher_name: str | None
    url: str
    activities: int
    content_hash: str
    last_modified: datetime


@dataclass(frozen=True)
class Dataset:
    publisher: str
    activities: int
    content_hash: str
    last_modified: datetime


def datasets(connection: Connection) -> list[tuple[Dataset, str | None]]:
    """Every publisher with live activities: its dataset, and its registered name."""
    counts = connection.execute(
        select(ACTIVITY.c.reporting_org_ref, func.count(), func.max(ACTIVITY.c.updated_at))
        .where(ACTIVITY.c.deleted_at.is_(None), ACTIVITY.c.reporting_org_ref.is_not(None))
        .group_by(ACTIVITY.c.reporting_org_ref).order_by(ACTIVITY.c.reporting_org_ref)
    ).all()
    names: dict[str, str] = {}
    for ref, name in connection.execute(
        select(REF.c.ref, ORGANISATION.c.name)
        .join(ORGANISATION, ORGANISATION.c.id == REF.c.organisation_id)
    ):
        names[ref] = name
    digests = _digests(connection)
    return [
        (Dataset(ref, count, digests[ref], as_utc(latest)), names.get(ref))
        for ref, count, latest in counts
    ]


def dataset(connection: Connection, publisher: str) -> Dataset | None:
    """The dataset of `publisher`; None if it has no live activity."""
    count, latest = connection.execute(
        select(func.count(), func.max(ACTIVITY.c.updated_at)).where(*_of(publisher))
    ).one()
    if not count:
        return None
    return Dataset(publisher, count, _digests(connection, publisher)[publisher],
                   as_utc(latest))


def dataset_chunks(engine: Engine, found: Dataset) -> Iterator[bytes]:
    """The dataset's IATI 2.03 activity file, streamed."""
    statement: Select[Any] = (
        select(ACTIVITY.c.document).where(*_of(found.publisher))
        .order_by(ACTIVITY.c.iati_identifier)
    )
    root = ActivityFile(generated_datetime=IsoDateTime.parse(found.last_modified.isoformat()))
    models = (model_of(row["document"]) for row in streamed(engine, statement))
    return activity_chunks(models, file=root)


def _of(publisher: str) -> list[Any]:
    return [ACTIVITY.c.deleted_at.is_(None), ACTIVITY.c.reporting_org_ref == publisher]


def _digests(connection: Connection, publisher: str | None = None) -> dict[str, str]:
    statement = select(
        ACTIVITY.c.reporting_org_ref, ACTIVITY.c.iati_identifier, ACTIVITY.c.content_hash
    ).where(ACTIVITY.c.deleted_at.is_(None), ACTIVITY.c.reporting_org_ref.is_not(None))
    if publisher is not None:
        statement = statement.where(ACTIVITY.c.reporting_org_ref == publisher)
    hashes: dict[str, Any] = {}
    rows = connection.execute(
        statement.order_by(ACTIVITY.c.reporting_org_ref, ACTIVITY.c.iati_identifier)
    )
    for ref, identifier, content_hash in rows:
        digest = hashes.setdefault(ref, hashlib.sha256())
        digest.update(f"{identifier}\t{content_hash}\n".encode())
    return {ref: digest.hexdigest() for ref, digest in hashes.items()}
