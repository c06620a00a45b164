"""The sources of a sync: a TOML or JSON file naming publishers and their dataset URLs, and
CKAN `package_search` listings (the IATI Registry's API) whose packages add more.

A sources file::

    [[publisher]]
    org = "US-GOV-1"                 # registered with `iati-ec orgs add`
    datasets = ["https://example.org/usaid-ec.xml"]
    complete = true                  # the datasets are all its activities (the default)

    [[ckan]]
    url = "https://iatiregistry.org/api/3/action/package_search?fq=organization:usaid"
    rows = 1000
    publishers = { usaid = "US-GOV-1" }   # CKAN organisation → IATI identifier, if needed

A JSON file of the same shape works too, and so does a saved `package_search` response.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

_ACTION = "/api/3/action/package_search"


class SourcesFileError(Exception):
    """The sources file cannot be used; `message` says what to fix."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Dataset:
    """One dataset URL of a publisher, with its CKAN package name when a listing gave it."""

    url: str
    name: str | None = None


@dataclass(slots=True)
class PublisherSources:
    """A publisher's IATI identifier, its dataset URLs, and whether they are all its data."""

    ref: str
    datasets: list[Dataset] = field(default_factory=list)
    complete: bool = True

    def add(self, dataset: Dataset) -> None:
        if all(known.url != dataset.url for known in self.datasets):
            self.datasets.append(dataset)


@dataclass(frozen=True, slots=True)
class CkanListing:
    """A CKAN `package_search` to page through (`rows` packages a page)."""

    url: str
    rows: int = 1000
    complete: bool = True
    publishers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class SourcesFile:
    """What a sources file declares: publishers, CKAN listings, and packages given inline."""

    publishers: list[PublisherSources] = field(default_factory=list)
    listings: list[CkanListing] = field(default_factory=list)
    packages: list[dict[str, Any]] = field(default_factory=list)


def read_sources(path: Path) -> SourcesFile:
    """Read and check a sources file (TOML, or JSON by its `.json` suffix or content)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SourcesFileError(f"cannot read {path}: {error}") from None
    try:
        declared = _parse(path, text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        raise SourcesFileError(f"{path} is neither valid TOML nor JSON: {error}") from None
    if not isinstance(declared, dict):
        raise SourcesFileError(f"{path} must hold a table/object at the top")
    if isinstance(declared.get("result"), dict):  # a saved package_search response
        return SourcesFile(packages=packages_of(declared)[0])
    unknown = set(declared) - {"publisher", "ckan"}
    if unknown:
        raise SourcesFileError(f"unknown keys {sorted(unknown)}; use [[publisher]] and [[ckan]]")
    found = SourcesFile(
        publishers=[_publisher(entry) for entry in _entries(declared, "publisher")],
        listings=[_listing(entry) for entry in _entries(declared, "ckan")],
    )
    if not found.publishers and not found.listings:
        raise SourcesFileError(f"{path} names no [[publisher]] and no [[ckan]] listing")
    return found


def _parse(path: Path, text: str) -> Any:
    if path.suffix.lower() == ".json" or text.lstrip().startswith("{"):
        return json.loads(text)
    return tomllib.loads(text)


def _entries(declared: dict[str, Any], key: str) -> list[dict[str, Any]]:
    entries = declared.get(key, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise SourcesFileError(f"{key!r} must be a list of tables ([[{key}]])")
    return entries


def _publisher(entry: dict[str, Any]) -> PublisherSources:
    ref, urls = entry.get("org"), entry.get("datasets")
    if not isinstance(ref, str) or not ref.strip():
        raise SourcesFileError(f"a [[publisher]] needs org = \"<IATI identifier>\": {entry}")
    if not isinstance(urls, list) or not urls or not all(isinstance(u, str) for u in urls):
        raise SourcesFileError(f"publisher {ref}: datasets must be a list of URLs")
    return PublisherSources(
        ref.strip(), [Dataset(checked_url(url)) for url in dict.fromkeys(urls)],
        complete=_flag(entry, "complete", ref),
    )


def _listing(entry: dict[str, Any]) -> CkanListing:
    url, rows, publishers = entry.get("url"), entry.get("rows", 1000), entry.get("publishers", {})
    if not isinstance(url, str):
        raise SourcesFileError(f"a [[ckan]] listing needs url = \"…\": {entry}")
    if not isinstance(rows, int) or not 1 <= rows <= 1000:
        raise SourcesFileError(f"ckan {url}: rows must be a whole number from 1 to 1000")
    if not isinstance(publishers, dict) or not all(
        isinstance(v, str) for v in publishers.values()
    ):
        raise SourcesFileError(f"ckan {url}: publishers must map CKAN names to identifiers")
    return CkanListing(search_url(checked_url(url)), rows, _flag(entry, "complete", url),
                       publishers)


def _flag(entry: dict[str, Any], key: str, where: str) -> bool:
    value = entry.get(key, True)
    if not isinstance(value, bool):
        raise SourcesFileError(f"{where}: {key} must be true or false")
    return value


def checked_url(url: str) -> str:
    """`url` if it is an absolute http(s) URL; `SourcesFileError` otherwise."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SourcesFileError(f"{url!r} is not an http(s) URL")
    return url.strip()


def search_url(url: str) -> str:
    """The `package_search` action of a CKAN site: `url` itself, or under a base URL."""
    parts = urlsplit(url)
    if parts.path.rstrip("/").endswith("package_search"):
        return url
    return parts._replace(path=parts.path.rstrip("/") + _ACTION).geturl()


def packages_of(response: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """The packages of a `package_search` response, and the count of all that match."""
    result = response.get("result")
    if response.get("success") is False or not isinstance(result, dict):
        raise ValueError("not a successful CKAN package_search response")
    packages, count = result.get("results"), result.get("count")
    if not isinstance(packages, list) or not isinstance(count, int):
        raise ValueError("a package_search result needs 'results' and 'count'")
    return [package for package in packages if isinstance(package, dict)], count
