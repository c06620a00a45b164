"""Typed settings of the service, read once from the environment (prefix ``IATI_EC_``)."""

from __future__ import annotations

import re
from functools import cache
from ipaddress import ip_network
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# A host name as a destination is written: letters (any script), digits, dots, hyphens.
_HOST_NAME = re.compile(r"[\w-]+(\.[\w-]+)*\.?")


class Settings(BaseSettings):
    """Everything the service can be configured with; defaults give a working SQLite setup."""

    model_config = SettingsConfigDict(env_prefix="IATI_EC_", env_file=".env", extra="ignore")

    environment: str = "development"
    database_url: str = Field(
        default="sqlite:///./iati-ec.db",
        validation_alias="DATABASE_URL",
        description="SQLAlchemy URL; PostgreSQL in production.",
    )
    sqlite_busy_timeout_ms: int = Field(
        default=30_000, description="How long a SQLite writer waits for the lock."
    )
    migrate_on_startup: bool = Field(
        default=True, description="Apply database migrations when the service starts."
    )
    log_format: Literal["json", "text"] = Field(
        default="json", description="How `serve` writes its logs to standard error: JSON"
        " lines (one per event, with the request's id) or plain text.",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    max_upload_bytes: int = 2 * 1024**3
    anonymous_validate_bytes: int = Field(
        default=50 * 1024**2, ge=1,
        description="The largest file `POST /api/v1/validate` takes without a key (with one,"
        " `max_upload_bytes`): anyone may validate, within this.",
    )
    anonymous_validate_concurrency: int = Field(
        default=2, ge=1,
        description="How many anonymous validations one service process runs at once; one"
        " more is answered 429 (`validate.busy`). Keyed validations are not counted.",
    )
    push_background_bytes: int = Field(
        default=20 * 1024**2,
        description="Pushed files larger than this are queued for a worker (202), as are"
        " pushes of a whole dataset (`scope=dataset`), whatever their size.",
    )
    embedded_worker: bool = Field(
        default=True, description="`serve` runs a job worker in a thread of its own, so"
        " that one command runs everything (turn it off where `iati-ec worker` runs).",
    )
    job_lease_seconds: float = Field(
        default=60.0, gt=0, description="How long a claimed job stays its worker's without a"
        " heartbeat; after that, another worker takes it over.",
    )
    job_heartbeat_seconds: float = Field(
        default=15.0, gt=0, description="How often a worker renews the lease of its job.",
    )
    job_max_attempts: int = Field(
        default=3, ge=1, description="Claims of one job before it is marked failed (a job"
        " whose worker keeps dying, or keeps failing on an error).",
    )
    job_retry_seconds: float = Field(
        default=10.0, ge=0, description="The wait before a job that failed on an error"
        " (a lost database connection, a full disk) is tried again.",
    )
    job_poll_seconds: float = Field(
        default=1.0, gt=0, description="How often an idle worker looks for a job.",
    )
    spool_directory: Path | None = None
    public_url: str = Field(
        default="",
        description="The service's public base URL (https://iati.example.gob.ec), for links"
        " in webhook events; empty: the links are paths.",
    )
    webhook_dispatcher: bool = Field(
        default=True, description="Deliver webhook events from a thread of the service."
    )
    webhook_poll_seconds: float = Field(
        default=2.0, gt=0, description="How often the dispatcher looks for changes to deliver."
    )
    webhook_timeout_seconds: float = Field(
        default=5.0, gt=0, description="How long a subscriber may take to answer an event."
    )
    webhook_retry_base_seconds: float = Field(
        default=10.0, gt=0, description="The wait before the first retry; doubled each time."
    )
    webhook_retry_cap_seconds: float = Field(
        default=3600.0, gt=0, description="The longest wait between retries."
    )
    webhook_retry_jitter: float = Field(
        default=0.1, ge=0, le=1,
        description="Up to this fraction is added to each wait at random, so that webhooks"
        " failing together do not retry together.",
    )
    webhook_failing_after: int = Field(
        default=5, ge=1,
        description="Failures in a row after which a webhook is marked failing (it is still"
        " retried, at the longest wait).",
    )
    webhook_batch: int = Field(
        default=100, ge=1, description="Events delivered to one webhook per dispatcher pass."
    )
    webhook_allowed_destinations: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Internal hosts webhooks may send events to, besides public addresses:"
        " host names (whatever they resolve to), addresses and CIDR networks, separated by"
        " commas (e.g. `sigef.mef.local, 10.20.0.0/16`). Empty: public addresses only.",
    )
    publisher_ref: str = Field(
        default="EC-RUC-1760000820001",
        description="The IATI organisation identifier under which the service republishes"
        " donors' activities as a secondary reporter (the Ministry of Foreign Affairs and"
        " Human Mobility, by its RUC).",
    )
    publisher_name: str = Field(
        default="Ministerio de Relaciones Exteriores y Movilidad Humana",
        description="That organisation's name, in its republished files.",
    )
    publisher_type: str = Field(
        default="10", description="That organisation's IATI OrganisationType (10: government)."
    )
    publisher_licence: str = Field(
        default="odc-by",
        description="The licence the republished datasets are listed with (an IATI Registry"
        " licence id); donors' data stays under the licence its publishers give it.",
    )
    warm_pages: bool = Field(
        default=True,
        description="After each change to the store, render the dashboard's main pages once"
        " in the service, so that their first visitor is served kept answers.",
    )
    warm_poll_seconds: float = Field(
        default=5.0, gt=0,
        description="How often the store is looked at for changes; pages are warmed once a"
        " change has stayed the same for this long.",
    )
    sync_connect_timeout_seconds: float = Field(
        default=10.0, gt=0, description="How long `iati-ec sync` waits to connect to a source."
    )
    sync_read_timeout_seconds: float = Field(
        default=60.0, gt=0, description="How long a source may stay silent mid-download."
    )
    sync_download_seconds: float = Field(
        default=1800.0, gt=0,
        description="The longest one download may take in all, however steadily it trickles.",
    )
    sync_retries: int = Field(
        default=3, ge=0,
        description="Retries of a source after a connection error, time-out, 5xx or 429.",
    )
    sync_retry_base_seconds: float = Field(
        default=2.0, ge=0, description="The wait before a source's first retry; doubled each time."
    )
    sync_retry_cap_seconds: float = Field(
        default=120.0, ge=0,
        description="The longest wait between retries, a server's Retry-After included.",
    )
    sync_max_redirects: int = Field(default=5, ge=0, description="Redirects followed per request.")
    sync_sources: Path | None = Field(
        default=None, description="A sources file (see `iati-ec sync`) that the job workers"
        " sync every `sync_period_hours`; unset: no scheduled sync.",
    )
    sync_period_hours: float = Field(
        default=24.0, gt=0, description="How often the scheduled sync runs.",
    )
    schedule_check_seconds: float = Field(
        default=60.0, gt=0, description="How often an idle worker adds the scheduled jobs"
        " that are due: the sync, and a remap once the mapping version changed.",
    )
    sync_gone_grace_days: int | None = Field(
        default=None, ge=0,
        description="When none of a publisher's datasets is listed any longer, delete the"
        " activities they held this many days after the last one left; unset: keep them.",
    )

    @field_validator("webhook_allowed_destinations", mode="before")
    @classmethod
    def _destinations(cls, entries: object) -> object:
        """Comma-separated in the environment; each a host name, an address or a network."""
        if isinstance(entries, str):
            entries = [entry.strip() for entry in entries.split(",") if entry.strip()]
        if isinstance(entries, list):
            for entry in entries:
                if not _destination(str(entry)):
                    raise ValueError(f"{entry!r} is not a host name, an address or a network"
                                     " (CIDR); write e.g. sigef.mef.local or 10.20.0.0/16")
        return entries


def _destination(entry: str) -> bool:
    try:
        ip_network(entry.strip("[]"), strict=False)
    except ValueError:
        return _HOST_NAME.fullmatch(entry) is not None
    return True


@cache
def get_settings() -> Settings:
    """The settings, read from the environment once per process."""
    return Settings()
