"""Page through a CKAN `package_search` (the IATI Registry's API) and read its packages as
publishers' dataset URLs.

Pages of `rows` packages are asked for with `start` until `count` packages have come (or a
page comes back empty). A package's publisher is, in order: the listing's `publishers`
entry for its CKAN organisation, its `publisher_iati_id` (a field of the package, an
`extras` entry, or a field of its organisation); its datasets are its resources' URLs.
Organisation files (`filetype` = organisation) are left out: they hold no activities.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import httpx

from service.services.sync.fetch import FetchError, FetchPolicy, fetch
from service.services.sync.sources import (
    CkanListing,
    Dataset,
    PublisherSources,
    SourcesFileError,
    checked_url,
    packages_of,
)

LISTING_MAX_BYTES = 64 * 1024**2  # a page of package metadata, read into memory


def list_packages(
    client: httpx.Client, listing: CkanListing, *, policy: FetchPolicy,
    directory: Path | None = None,
) -> list[dict[str, Any]]:
    """Every package the listing matches; `FetchError` if a page cannot be had."""
    limited = dataclasses.replace(policy, max_bytes=min(policy.max_bytes, LISTING_MAX_BYTES))
    packages: list[dict[str, Any]] = []
    while True:
        page_url = httpx.URL(listing.url).copy_set_param("rows", listing.rows).copy_set_param(
            "start", len(packages)
        )
        fetched = fetch(client, str(page_url), policy=limited, directory=directory)
        assert fetched.file is not None  # no validators were sent: never 304
        try:
            response = json.loads(fetched.file.path.read_bytes())
            page, count = packages_of(response)
        except ValueError as error:  # JSONDecodeError is one
            raise FetchError(f"{page_url} is not a CKAN package_search answer: {error}") from None
        finally:
            fetched.file.discard()
        packages.extend(page)
        if not page or len(packages) >= count:
            return packages


def publishers_of(
    packages: list[dict[str, Any]], *, listing: CkanListing | None = None
) -> tuple[list[PublisherSources], list[str]]:
    """The publishers the packages name, each with its datasets; and a note on each package
    left out (no publisher identifier, no usable URL)."""
    mapping = listing.publishers if listing else {}
    complete = listing.complete if listing else True
    publishers: dict[str, PublisherSources] = {}
    notes: list[str] = []
    for package in packages:
        extras = _extras(package)
        name = str(package.get("name") or package.get("id") or "(unnamed)")
        if str(extras.get("filetype", "")).lower() == "organisation":
            continue
        ref = _publisher_ref(package, extras, mapping)
        if ref is None:
            notes.append(f"package {name}: no publisher_iati_id; map its CKAN organisation "
                         "under publishers = { name = \"<IATI identifier>\" }")
            continue
        publisher = publishers.setdefault(ref, PublisherSources(ref, complete=complete))
        for url in _resource_urls(package):
            try:
                publisher.add(Dataset(checked_url(url), name))
            except SourcesFileError as error:
                notes.append(f"package {name}: {error.message}")
    return [p for p in publishers.values() if p.datasets], notes


def _extras(package: dict[str, Any]) -> dict[str, Any]:
    """A package's extra fields: CKAN's `extras` key/value list, and the same fields at the
    top level (as ckanext-scheming gives them)."""
    found: dict[str, Any] = {}
    for extra in package.get("extras") or []:
        if isinstance(extra, dict) and "key" in extra:
            found[str(extra["key"])] = extra.get("value")
    for key in ("filetype", "publisher_iati_id"):
        if package.get(key):
            found[key] = package[key]
    return found


def _publisher_ref(
    package: dict[str, Any], extras: dict[str, Any], mapping: dict[str, str]
) -> str | None:
    organisation = package.get("organization")
    organisation = organisation if isinstance(organisation, dict) else {}
    for candidate in (
        mapping.get(str(organisation.get("name"))),
        extras.get("publisher_iati_id"),
        organisation.get("publisher_iati_id"),
    ):
        if isinstance(candidate, str) and candidate.strip():
            return candidate.strip()
    return None


def _resource_urls(package: dict[str, Any]) -> list[str]:
    resources = package.get("resources") or []
    return [
        str(resource["url"]) for resource in resources
        if isinstance(resource, dict) and resource.get("url")
    ]
