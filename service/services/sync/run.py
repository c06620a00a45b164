"""Sync each publisher of a plan: download its datasets, push the changed ones through the
push pipeline, and mark deleted what has gone from all of them.

Deletion rule. When a publisher's datasets are declared complete, the activities it
publishes that none of its datasets holds any longer are marked deleted — by the push of
its last changed dataset, made with ``dataset`` scope and told to keep the activities that
its other datasets held when they were last pushed. So an activity that moves from one
dataset to another is never deleted, and one dataset never deletes another's activities.
Nothing is deleted for a publisher when any of its downloads or pushes failed, when a
dataset's content is not known (never pushed completely), or when a CKAN listing failed
(a dataset might be missing from the plan); nor when none of its datasets changed.

Gone sources. A remembered source that the plan no longer names is marked `gone` (unless a
listing failed). A publisher left with no source at all is reported; its activities stay
live, unless a grace period is set: once it has passed since the last source left, the
activities those sources held are deleted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import Engine

from service.db import session_scope
from service.errors import DomainError
from service.models import PushScope, SyncSource, SyncStatus, utcnow
from service.services.activities import delete_activities
from service.services.push import Publisher, PushOptions, PushPublic, push_file
from service.services.sync.fetch import Fetched, FetchError, FetchPolicy, Validators, fetch
from service.services.sync.plan import Plan, Target
from service.services.sync.sources import Dataset
from service.services.sync.state import (
    Checked,
    Vanished,
    forget_validators,
    held_identifiers,
    mark_gone,
    remember,
    retire_others,
    retire_sources,
    stored_sources,
)

log = logging.getLogger(__name__)


@dataclass(slots=True)
class SourceResult:
    """What the sync did with one source."""

    url: str
    ref: str
    status: SyncStatus
    push: PushPublic | None = None
    error: str | None = None
    attempts: int = 0

    @property
    def rejected(self) -> int:
        return self.push.counts.rejected if self.push else 0


@dataclass(frozen=True, slots=True)
class VanishedPublisher:
    """A publisher whose sources have all gone, and what became of its activities: kept
    until `retire_after` (None: kept for good), or `retired` now."""

    publisher: Vanished
    retire_after: datetime | None
    retired: int = 0


@dataclass(slots=True)
class SyncReport:
    """Every source's result, notes on what was left out, and why deletions were held."""

    sources: list[SourceResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    listing_errors: list[str] = field(default_factory=list)
    held: dict[str, str] = field(default_factory=dict)  # publisher ref → why no deletions
    vanished: list[VanishedPublisher] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.listing_errors) or any(
            source.status is SyncStatus.failed for source in self.sources
        )

    @property
    def rejected(self) -> int:
        return sum(source.rejected for source in self.sources)


Report = Callable[[SourceResult], None]


@dataclass(slots=True)
class Syncer:
    """Runs a plan: `engine` to push into, the HTTP `client`, the download `policy`."""

    engine: Engine
    client: httpx.Client
    policy: FetchPolicy
    directory: Path | None = None
    on_result: Report | None = None
    sleep: Callable[[float], None] = time.sleep
    gone_grace: timedelta | None = None  # None: a vanished publisher's activities stay

    def run(self, plan: Plan) -> SyncReport:
        """Sync every target of `plan`; a failing source never stops the others."""
        report = SyncReport(notes=list(plan.notes), listing_errors=list(plan.listing_errors))
        for target in plan.targets:
            hold = "a CKAN listing failed" if plan.listing_errors else None
            report.sources.extend(self._publisher(target, hold, report))
        report.vanished = self.vanished(plan)
        return report

    def vanished(self, plan: Plan) -> list[VanishedPublisher]:
        """Mark gone the sources `plan` no longer names (see the module's rule); the
        publishers left with none, their activities deleted once the grace period is over."""
        if plan.listing_errors or (plan.only is not None and plan.only_organisation is None):
            return []  # a source may be missing only because its listing failed
        found = mark_gone(self.engine, listed=plan.urls, organisation_id=plan.only_organisation)
        now = utcnow()
        answers: list[VanishedPublisher] = []
        for publisher in found:
            if self.gone_grace is None:
                answers.append(VanishedPublisher(publisher, None))
                continue
            due = publisher.since + self.gone_grace
            retired = 0
            if now >= due:
                retired = len(delete_activities(
                    self.engine, retire_sources(self.engine, publisher.urls),
                    publisher=Publisher(publisher.organisation_id, refs=frozenset()),
                ))
            answers.append(VanishedPublisher(publisher, due, retired))
        return answers

    def _publisher(self, target: Target, hold: str | None, report: SyncReport
                   ) -> list[SourceResult]:
        """Download every dataset of `target`, then push the changed ones."""
        with session_scope(self.engine) as session:
            stored = stored_sources(session, (d.url for d in target.datasets))
        results: list[SourceResult] = []
        changed: list[tuple[Dataset, Fetched]] = []
        try:
            for dataset in target.datasets:
                result, fetched = self._download(target, dataset, stored.get(dataset.url))
                if fetched is not None:
                    changed.append((dataset, fetched))
                else:
                    results.append(self._done(result))
            failure = next((r for r in results if r.status is SyncStatus.failed), None)
            hold = hold or (f"{failure.url} failed" if failure else None)
            results.extend(self._push_all(target, changed, hold, report))
        finally:  # interrupted or not, no downloaded file stays behind
            for _, fetched in changed:
                if fetched.file is not None:
                    fetched.file.discard()
        order = {dataset.url: index for index, dataset in enumerate(target.datasets)}
        return sorted(results, key=lambda result: order[result.url])

    def _push_all(self, target: Target, changed: list[tuple[Dataset, Fetched]],
                  hold: str | None, report: SyncReport) -> list[SourceResult]:
        """Push the changed datasets, the last one deleting if nothing holds it back."""
        results: list[SourceResult] = []
        for index, (dataset, fetched) in enumerate(changed):
            keep = None
            if target.complete and index == len(changed) - 1 and hold is None:
                keep = self._kept(target, dataset)
                if keep is None:
                    hold = "another of its datasets was never pushed completely"
            result = self._push(target, dataset, fetched, keep=keep)
            if result.status is SyncStatus.failed:
                hold = hold or f"{result.url} failed"
            elif keep is not None:
                retire_others(self.engine, target.publisher.organisation_id,
                              (d.url for d in target.datasets))
            results.append(self._done(result))
        if target.complete and hold is not None and changed:
            report.held[target.ref] = hold
        return results

    def _done(self, result: SourceResult) -> SourceResult:
        if self.on_result is not None:
            self.on_result(result)
        return result

    def _download(self, target: Target, dataset: Dataset, stored: SyncSource | None
                  ) -> tuple[SourceResult, Fetched | None]:
        """Fetch `dataset`: a result now if nothing is to be pushed, else the file."""
        organisation_id = target.publisher.organisation_id
        ours = stored is not None and stored.organisation_id == organisation_id
        validators = Validators(stored.etag, stored.last_modified) if stored and ours else None
        checked = Checked(dataset.url, organisation_id, dataset.name, SyncStatus.failed)
        try:
            fetched = fetch(
                self.client, dataset.url, policy=self.policy, validators=validators,
                directory=self.directory, sleep=self.sleep,
            )
        except FetchError as error:
            remember(self.engine, replace(checked, error=error.message))
            return SourceResult(dataset.url, target.ref, SyncStatus.failed,
                                error=error.message), None
        if fetched.file is None:
            remember(self.engine, replace(checked, status=SyncStatus.not_modified))
            return SourceResult(dataset.url, target.ref, SyncStatus.not_modified,
                                attempts=fetched.attempts), None
        if stored is not None and ours and stored.sha256 == fetched.file.sha256:
            fetched.file.discard()
            remember(self.engine, replace(
                checked, status=SyncStatus.unchanged, validators=fetched.validators
            ))
            return SourceResult(dataset.url, target.ref, SyncStatus.unchanged,
                                attempts=fetched.attempts), None
        return SourceResult(dataset.url, target.ref, SyncStatus.pushed), fetched

    def _push(self, target: Target, dataset: Dataset, fetched: Fetched,
              *, keep: frozenset[str] | None) -> SourceResult:
        """Push a downloaded file; with `keep`, in ``dataset`` scope keeping those activities
        (see the module's deletion rule)."""
        assert fetched.file is not None
        options = PushOptions(
            scope=PushScope.dataset if keep is not None else PushScope.activities,
            keep=keep or frozenset(),
        )
        checked = Checked(dataset.url, target.publisher.organisation_id, dataset.name,
                          SyncStatus.pushed)
        result = SourceResult(dataset.url, target.ref, SyncStatus.pushed,
                              attempts=fetched.attempts)
        try:
            result.push = push_file(
                self.engine, publisher=target.publisher, received=fetched.file,
                options=options, max_bytes=self.policy.max_bytes,
            )
        except DomainError as error:  # recorded in the push (e.g. an unreadable file)
            return self._failed(result, checked, f"{error.code}: {error.detail}",
                                push_id=error.extra.get("push_id"))
        except Exception as error:  # recorded in the push too; the other sources go on
            log.exception("sync: the push of %s failed", dataset.url)
            return self._failed(result, checked, f"the push failed: {type(error).__name__}")
        finally:
            fetched.file.discard()
        remember(self.engine, replace(
            checked, validators=fetched.validators, sha256=fetched.file.sha256,
            push_id=result.push.id,
        ))
        return result

    def _failed(self, result: SourceResult, checked: Checked, error: str,
                push_id: str | None = None) -> SourceResult:
        """`result` failed with `error`: remembered so, the file to be pushed anew."""
        forget_validators(self.engine, result.url)
        remember(self.engine, replace(
            checked, status=SyncStatus.failed, push_id=push_id, error=error
        ))
        result.status, result.error = SyncStatus.failed, error
        return result

    def _kept(self, target: Target, pushed: Dataset) -> frozenset[str] | None:
        """The activities the publisher's other datasets held when last pushed; None if
        that is not known of one of them (then nothing may be deleted)."""
        others = [d.url for d in target.datasets if d.url != pushed.url]
        kept: set[str] = set()
        with session_scope(self.engine) as session:
            stored = stored_sources(session, others)
            for url in others:
                source = stored.get(url)
                held = held_identifiers(session, source.push_id) if source else None
                if source is None or source.status is SyncStatus.failed or held is None:
                    return None
                kept |= held
        return frozenset(kept)

