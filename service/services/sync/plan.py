"""Resolve a sources file into the publishers to sync: each a registered organisation with
its dataset URLs, CKAN listings paged through, `--only` applied."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import Engine
from sqlmodel import select

from service.db import session_scope
from service.models import SyncSource
from service.services.organisations import find_organisation, refs_of
from service.services.push import Publisher
from service.services.sync.ckan import list_packages, publishers_of
from service.services.sync.fetch import FetchError, FetchPolicy
from service.services.sync.sources import Dataset, PublisherSources, SourcesFile, SourcesFileError


class UnknownPublisherError(SourcesFileError):
    """A publisher of the sources file is not a registered organisation."""

    def __init__(self, ref: str) -> None:
        super().__init__(
            f"no organisation {ref}; register it with `iati-ec orgs add --ref {ref} "
            "--name NAME --role donor`, or see `iati-ec orgs list`"
        )
        self.ref = ref


@dataclass(slots=True)
class Target:
    """A registered publisher to sync: who pushes, its datasets, whether they are complete."""

    ref: str
    publisher: Publisher
    datasets: list[Dataset]
    complete: bool


@dataclass(slots=True)
class Plan:
    """The publishers to sync, notes on what was left out, and listings that failed."""

    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    listing_errors: list[str] = field(default_factory=list)
    only: str | None = None  # the one publisher synced, if `--only` named it
    only_organisation: int | None = None  # its organisation, if registered

    @property
    def urls(self) -> set[str]:
        """Every dataset URL the plan reads."""
        return {dataset.url for target in self.targets for dataset in target.datasets}


def make_plan(
    engine: Engine, sources: SourcesFile, *, client: httpx.Client, policy: FetchPolicy,
    only: str | None = None, directory: Path | None = None,
) -> Plan:
    """The publishers of `sources` (only `only`, an IATI identifier, if given).

    A publisher named in the file must be registered (`UnknownPublisherError`); one that
    only a CKAN listing names is left out with a note when it is not.
    """
    plan = Plan(only=only)
    listed, notes = publishers_of(sources.packages)
    plan.notes.extend(notes)
    for listing in sources.listings:
        try:
            packages = list_packages(client, listing, policy=policy, directory=directory)
        except FetchError as error:
            plan.listing_errors.append(f"{listing.url}: {error.message}")
            continue
        found, notes = publishers_of(packages, listing=listing)
        listed.extend(found)
        plan.notes.extend(notes)
    with session_scope(engine) as session:
        if only is not None:
            named = find_organisation(session, only)
            plan.only_organisation = named.id if named is not None else None
        targets: dict[int, Target] = {}
        for declared, required in [(p, True) for p in sources.publishers] + [
            (p, False) for p in listed
        ]:
            if only is not None and declared.ref != only:
                continue
            organisation = find_organisation(session, declared.ref)
            if organisation is None or organisation.id is None:
                if required:
                    raise UnknownPublisherError(declared.ref)
                plan.notes.append(
                    f"publisher {declared.ref} ({len(declared.datasets)} datasets) is not "
                    f"registered; add it with `iati-ec orgs add --ref {declared.ref}` to sync it"
                )
                continue
            refs = frozenset(refs_of(session, [organisation.id])[organisation.id])
            _merge(targets, declared, Publisher(organisation_id=organisation.id, refs=refs))
    plan.targets = list(targets.values())
    _check_unshared(plan.targets)
    return plan


def why_absent(engine: Engine, plan: Plan) -> str:
    """Why `plan.only` is not among the plan's publishers, and what to do."""
    only = plan.only
    if plan.only_organisation is None:
        return (f"no organisation {only} is registered; register it with `iati-ec orgs add "
                f"--ref {only} --name NAME --role donor`, or see `iati-ec orgs list`")
    named = f"{only} is registered, but neither the sources file nor its listings name it now"
    if plan.listing_errors:
        return (f"{named}; a listing failed ({plan.listing_errors[0]}), so it may be missing "
                "only from that answer: sync again later")
    with session_scope(engine) as session:
        known = session.exec(select(SyncSource).where(
            SyncSource.organisation_id == plan.only_organisation
        )).all()
    if not known:
        return (f"{named}; add it to the sources file ([[publisher]] org = \"{only}\" with its "
                "datasets), or find why its packages are missing from the listing")
    synced = max((s.changed_at for s in known if s.changed_at is not None), default=None)
    when = f", last pushed {synced:%Y-%m-%d}" if synced is not None else ""
    return (f"{named}: its {len(known)} datasets{when} have left them (its activities are "
            "kept, unless IATI_EC_SYNC_GONE_GRACE_DAYS is set)")


def _check_unshared(targets: list[Target]) -> None:
    """A dataset URL belongs to one publisher: two would push it turn about."""
    owners: dict[str, str] = {}
    for target in targets:
        for dataset in target.datasets:
            owner = owners.setdefault(dataset.url, target.ref)
            if owner != target.ref:
                raise SourcesFileError(
                    f"{dataset.url} is listed for both {owner} and {target.ref}; "
                    "a dataset has one publisher"
                )


def _merge(targets: dict[int, Target], declared: PublisherSources, publisher: Publisher) -> None:
    """Add `declared` to its organisation's target: one organisation, one set of datasets,
    complete only if every declaration says so."""
    target = targets.get(publisher.organisation_id)
    if target is None:
        targets[publisher.organisation_id] = Target(
            declared.ref, publisher, list(declared.datasets), declared.complete
        )
        return
    known = {dataset.url for dataset in target.datasets}
    target.datasets.extend(d for d in declared.datasets if d.url not in known)
    target.complete = target.complete and declared.complete
