"""Pull sync: read donors' published IATI datasets and push them through the push pipeline."""

from service.services.sync.fetch import FetchError, FetchPolicy, Validators, fetch, new_client
from service.services.sync.plan import (
    Plan,
    Target,
    UnknownPublisherError,
    make_plan,
    why_absent,
)
from service.services.sync.run import SourceResult, Syncer, SyncReport, VanishedPublisher
from service.services.sync.sources import SourcesFile, SourcesFileError, read_sources
from service.services.sync.state import SyncSourcePublic, list_sources, stored_sources

__all__ = [
    "FetchError",
    "FetchPolicy",
    "Plan",
    "SourceResult",
    "SourcesFile",
    "SourcesFileError",
    "SyncReport",
    "SyncSourcePublic",
    "Syncer",
    "Target",
    "UnknownPublisherError",
    "Validators",
    "VanishedPublisher",
    "fetch",
    "list_sources",
    "make_plan",
    "new_client",
    "read_sources",
    "stored_sources",
    "why_absent",
]
