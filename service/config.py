"""Typed settings of the service, read once from the environment (prefix ``IATI_EC_``)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    host: str = "127.0.0.1"
    port: int = 8000
    max_upload_bytes: int = 2 * 1024**3
    push_background_bytes: int = Field(
        default=20 * 1024**2,
        description="Pushed files larger than this are processed in the background (202).",
    )
    spool_directory: Path | None = None


@cache
def get_settings() -> Settings:
    """The settings, read from the environment once per process."""
    return Settings()
