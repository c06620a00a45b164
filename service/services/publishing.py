"""iati-ec as a secondary IATI publisher: each donor's current activities in Ecuador as one
IATI 2.03 activity file, republished under the ministry's own organisation, an index of
those files shaped like the IATI Registry's packages, the ministry's organisation file,
and the ministry's own dataset: the cooperation Ecuador provides, as it reports it (a
primary reporter, see `service.services.provided`).

A dataset is every live activity in Ecuador (a recipient country ``EC``, of the activity
or of a transaction) whose reporting-org/@ref is one publisher's, in identifier order.
Each activity is republished as a secondary reporter does (`republished`): the ministry is
its reporting-org, with ``secondary-reporter="1"``, its identifier is the publisher's,
and the publisher is a participating organisation. Its `content_hash` (SHA-256 over the
identifiers and content hashes of those activities, in that order) changes exactly when
what the file says changes, and is the file's entity tag; the file's `generated-datetime`
is its last change, so the bytes served for one content hash are always the same.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Select, func, select
from sqlalchemy.engine import Connection

from iati.elements.activity import Activity as IatiActivity
from iati.elements.activity import ActivityFile
from iati.elements.common import Narrative, Narratives, ReportingOrg, TextElement
from iati.elements.organisation import Organisation as IatiOrganisation
from iati.elements.organisation import OrganisationFile
from iati.elements.organisations import ParticipatingOrg
from iati.values import IsoDateTime, XsdBoolean
from iati.writer import activity_chunks
from service.models import Organisation, OrganisationRef
from service.models.types import as_utc
from service.services.ecuador import IN_ECUADOR
from service.services.push.reading import model_of
from service.services.push.storage import ACTIVITY
from service.services.streaming import streamed

COUNTRY = "EC"
OWN_SLUG = "cooperacion-ofrecida"  # the name of the ministry's own dataset, after its ref
IATI_VERSION = "2.03"
# The role the original publisher is given among the participating organisations when it
# is not one already: the organisation that manages the budget (IATI's "extending").
PUBLISHER_ROLE = "3"
ORGANISATION = Organisation.__table__  # type: ignore[attr-defined]
REF = OrganisationRef.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Secondary:
    """The organisation that republishes: named as reporting-org, as a secondary reporter."""

    ref: str
    name: str
    type: str
    licence: str


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
        .where(*_LIVE_IN_ECUADOR, ACTIVITY.c.reporting_org_ref.is_not(None))
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


def dataset_chunks(engine: Engine, found: Dataset, by: Secondary) -> Iterator[bytes]:
    """The dataset's IATI 2.03 activity file as `by` republishes it, streamed."""
    statement: Select[Any] = (
        select(ACTIVITY.c.document).where(*_of(found.publisher))
        .order_by(ACTIVITY.c.iati_identifier)
    )
    root = ActivityFile(generated_datetime=IsoDateTime.parse(found.last_modified.isoformat()))
    models = (republished(model_of(row["document"]), by) for row in streamed(engine, statement))
    return activity_chunks(models, file=root)


def own_dataset(connection: Connection, ids: list[int], by: Secondary) -> Dataset | None:
    """The dataset of `by`'s own activities `ids` (the cooperation Ecuador provides, see
    `service.services.provided`); None if there is none."""
    if not ids:
        return None
    rows = connection.execute(
        select(ACTIVITY.c.iati_identifier, ACTIVITY.c.content_hash, ACTIVITY.c.updated_at)
        .where(ACTIVITY.c.id.in_(ids)).order_by(ACTIVITY.c.iati_identifier)
    ).all()
    digest = hashlib.sha256()
    for identifier, content_hash, _ in rows:
        digest.update(f"{identifier}\t{content_hash}\n".encode())
    latest = max(as_utc(updated) for _, _, updated in rows)
    return Dataset(by.ref, len(rows), digest.hexdigest(), latest)


def own_chunks(engine: Engine, found: Dataset, ids: list[int]) -> Iterator[bytes]:
    """The organisation's own activities `ids` as one IATI 2.03 activity file, as it
    reported them (a primary reporter: nothing is changed), streamed."""
    statement: Select[Any] = (
        select(ACTIVITY.c.document).where(ACTIVITY.c.id.in_(ids))
        .order_by(ACTIVITY.c.iati_identifier)
    )
    root = ActivityFile(generated_datetime=IsoDateTime.parse(found.last_modified.isoformat()))
    models = (model_of(row["document"]) for row in streamed(engine, statement))
    return activity_chunks(models, file=root)


def own_package(found: Dataset, *, url: str, by: Secondary) -> dict[str, Any]:
    """The organisation's own dataset as the IATI Registry describes one: `by` is its
    publisher and reporting-org, not a secondary one."""
    listed = package(found, name=by.name, url=url, by=by)
    extras = {item["key"]: item["value"] for item in listed["extras"]}
    extras.update({"country": "", "secondary_publisher": ""})
    listed.update({
        "name": f"{_slug(by.ref)}-{OWN_SLUG}",
        "title": f"{by.name} — cooperación Sur-Sur y triangular ofrecida por Ecuador",
        "extras": [{"key": key, "value": value} for key, value in extras.items()],
    })
    return listed


def republished(activity: IatiActivity, by: Secondary) -> IatiActivity:
    """`activity` as `by` republishes it: `by` its reporting-org, with secondary-reporter
    set (it reproduces another's data), the identifier kept, and the original publisher
    among the participating organisations (added in `PUBLISHER_ROLE` if it is not there)."""
    original = activity.reporting_org
    organisations = list(activity.participating_orgs)
    if original is not None and original.ref and all(
        organisation.ref != original.ref for organisation in organisations
    ):
        organisations.append(ParticipatingOrg(
            ref=original.ref, type=original.type, role=PUBLISHER_ROLE,
            narratives=list(original.narratives),
        ))
    reporting = ReportingOrg(
        ref=by.ref, type=by.type, secondary_reporter=XsdBoolean.of("1"),
        narratives=[Narrative(text=by.name, lang="es")],
    )
    return activity.model_copy(
        update={"reporting_org": reporting, "participating_orgs": organisations}
    )


def package(
    found: Dataset, *, name: str | None, url: str, by: Secondary
) -> dict[str, Any]:
    """`found` as the IATI Registry describes a dataset: CKAN `package_show` fields and the
    Registry's IATI extras, so that a portal reads this index as it reads the Registry."""
    slug = _slug(found.publisher)
    updated = found.last_modified.strftime("%Y-%m-%d %H:%M:%S")
    extras = {
        "activity_count": str(found.activities),
        "country": COUNTRY,
        "data_updated": updated,
        "filetype": "activity",
        "iati_version": IATI_VERSION,
        "language": "",
        "publisher_iati_id": by.ref,
        "publisher_organization_type": by.type,
        "secondary_publisher": name or found.publisher,
        "reporting_org_ref": found.publisher,
    }
    return {
        "name": f"{_slug(by.ref)}-{slug}",
        "title": f"{name or found.publisher} — actividades en Ecuador",
        "license_id": by.licence,
        "metadata_modified": found.last_modified.isoformat(),
        "num_resources": 1,
        "organization": {"name": _slug(by.ref), "title": by.name,
                         "publisher_iati_id": by.ref},
        "extras": [{"key": key, "value": value} for key, value in extras.items()],
        "resources": [{
            "url": url, "format": "IATI-XML", "mimetype": "application/xml",
            "hash": found.content_hash, "last_modified": found.last_modified.isoformat(),
        }],
    }


def organisation_file(by: Secondary, *, generated: datetime) -> OrganisationFile:
    """The ministry's IATI organisation file: its identifier, name and reporting-org."""
    when = IsoDateTime.parse(generated.isoformat())
    record = IatiOrganisation(
        last_updated_datetime=when, lang="es",
        organisation_identifier=TextElement(text=by.ref),
        name=Narratives(narratives=[Narrative(text=by.name)]),
        reporting_org=ReportingOrg(
            ref=by.ref, type=by.type, narratives=[Narrative(text=by.name)]
        ),
    )
    return OrganisationFile(version=IATI_VERSION, generated_datetime=when, organisations=[record])


def _slug(ref: str) -> str:
    """A CKAN name: lower case letters, digits, `-` and `_`."""
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in ref.lower())


def _of(publisher: str) -> list[Any]:
    return [*_LIVE_IN_ECUADOR, ACTIVITY.c.reporting_org_ref == publisher]


_LIVE_IN_ECUADOR = [ACTIVITY.c.deleted_at.is_(None), ACTIVITY.c.id.in_(IN_ECUADOR)]


def _digests(connection: Connection, publisher: str | None = None) -> dict[str, str]:
    statement = select(
        ACTIVITY.c.reporting_org_ref, ACTIVITY.c.iati_identifier, ACTIVITY.c.content_hash
    ).where(*_LIVE_IN_ECUADOR, ACTIVITY.c.reporting_org_ref.is_not(None))
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
