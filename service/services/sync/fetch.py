"""Download one source over HTTP(S) to a temporary file: conditional, retried, size-limited.

A request carries the validators of the file last pushed (If-None-Match, If-Modified-Since)
and asks for gzip; the body streams to disk through the size limit, never whole into
memory, and a body that is itself gzip (a ``.gz`` dataset) is unpacked under the same limit.
Connection errors, time-outs, 5xx and 429 are retried with exponential back-off (a
server's Retry-After is honoured up to the cap); any other answer fails at once.
"""

from __future__ import annotations

import gzip
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx

from service.config import Settings
from service.services.push import ReceivedFile
from service.services.push.intake import BodyTooLargeError, Spool

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20
Sleep = Callable[[float], None]


class FetchError(Exception):
    """A source could not be downloaded; `message` says why, for people."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


class _RetryableError(FetchError):
    """A failure worth another attempt; `wait` is the server's Retry-After, if it gave one."""

    def __init__(self, message: str, *, status_code: int | None = None,
                 wait: float | None = None) -> None:
        super().__init__(message, status_code=status_code)
        self.wait = wait


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """Time-outs, retries and limits of downloads (see the `sync_*` settings)."""

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    download_seconds: float = 1800.0
    retries: int = 3
    retry_base: float = 2.0
    retry_cap: float = 120.0
    max_bytes: int = 2 * 1024**3
    max_redirects: int = 5

    @classmethod
    def from_settings(cls, settings: Settings) -> FetchPolicy:
        return cls(
            connect_timeout=settings.sync_connect_timeout_seconds,
            read_timeout=settings.sync_read_timeout_seconds,
            download_seconds=settings.sync_download_seconds,
            retries=settings.sync_retries, retry_base=settings.sync_retry_base_seconds,
            retry_cap=settings.sync_retry_cap_seconds, max_bytes=settings.max_upload_bytes,
            max_redirects=settings.sync_max_redirects,
        )


@dataclass(frozen=True, slots=True)
class Validators:
    """What a server said identifies a file's version (ETag, Last-Modified)."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        found = {}
        if self.etag:
            found["If-None-Match"] = self.etag
        if self.last_modified:
            found["If-Modified-Since"] = self.last_modified
        return found


@dataclass(frozen=True, slots=True)
class Fetched:
    """A download's result: the file (None when the server said 304 Not Modified), the new
    validators, and how many attempts it took."""

    file: ReceivedFile | None
    validators: Validators
    attempts: int


def new_client(policy: FetchPolicy, *, user_agent: str) -> httpx.Client:
    """An HTTP client with the policy's time-outs and redirect cap."""
    return httpx.Client(
        timeout=httpx.Timeout(policy.read_timeout, connect=policy.connect_timeout),
        follow_redirects=True, max_redirects=policy.max_redirects,
        headers={"User-Agent": user_agent, "Accept-Encoding": "gzip"},
    )


def fetch(
    client: httpx.Client, url: str, *, policy: FetchPolicy,
    validators: Validators | None = None, directory: Path | None = None,
    sleep: Sleep = time.sleep,
) -> Fetched:
    """Download `url` (see the module); raises `FetchError` once the retries are spent."""
    for attempt in range(1, policy.retries + 2):
        try:
            return _attempt(client, url, policy, validators or Validators(), directory, attempt)
        except _RetryableError as error:
            if attempt > policy.retries:
                raise FetchError(
                    f"{error.message} (after {attempt} attempts)", status_code=error.status_code
                ) from None
            sleep(_backoff(policy, attempt, error.wait))
    raise AssertionError("unreachable")


def _backoff(policy: FetchPolicy, attempt: int, asked: float | None) -> float:
    """The wait before attempt `attempt` + 1: doubling from the base, or what the server
    asked for; never beyond the cap."""
    wait = asked if asked is not None else policy.retry_base * 2 ** (attempt - 1)
    return max(0.0, min(wait, policy.retry_cap))


def _attempt(
    client: httpx.Client, url: str, policy: FetchPolicy, validators: Validators,
    directory: Path | None, attempt: int,
) -> Fetched:
    try:
        with client.stream("GET", url, headers=validators.headers()) as response:
            if response.status_code == 304:
                return Fetched(None, validators, attempt)
            _check_status(response)
            received = _download(response, policy, directory)
            kept = Validators(
                response.headers.get("ETag"), response.headers.get("Last-Modified")
            )
    except httpx.TooManyRedirects:
        raise FetchError(f"more than {policy.max_redirects} redirects") from None
    except httpx.UnsupportedProtocol as error:
        raise FetchError(f"not an http(s) URL: {error}") from None
    except httpx.TimeoutException as error:
        raise _RetryableError(f"timed out ({type(error).__name__})") from None
    except httpx.TransportError as error:
        raise _RetryableError(f"connection failed ({type(error).__name__}: {error})") from None
    except (httpx.HTTPError, httpx.InvalidURL) as error:  # e.g. a malformed redirect
        raise FetchError(f"{type(error).__name__}: {error}") from None
    return Fetched(_unpacked(received, policy, directory), kept, attempt)


def _check_status(response: httpx.Response) -> None:
    status = response.status_code
    if status == 200:
        return
    if status == 429 or status >= 500:
        raise _RetryableError(
            f"HTTP {status}", status_code=status,
            wait=_retry_after(response.headers.get("Retry-After")),
        )
    raise FetchError(f"HTTP {status}", status_code=status)


def _retry_after(header: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not header:
        return None
    if header.strip().isdigit():
        return float(header.strip())
    try:
        moment = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _download(response: httpx.Response, policy: FetchPolicy, directory: Path | None
              ) -> ReceivedFile:
    """The response body (transfer gzip decoded) streamed to a temporary file."""
    declared = response.headers.get("Content-Length")
    encoded = response.headers.get("Content-Encoding", "identity") != "identity"
    if declared and declared.isdigit() and not encoded and int(declared) > policy.max_bytes:
        raise _too_large(policy)
    deadline = time.monotonic() + policy.download_seconds
    spool = Spool(directory, policy.max_bytes)
    try:
        for chunk in response.iter_bytes(_CHUNK):
            spool.write(chunk)
            if time.monotonic() > deadline:
                raise _RetryableError(f"the download took more than {policy.download_seconds:g} s")
        return spool.close()
    except BaseException as error:
        _drop(spool)
        if isinstance(error, BodyTooLargeError):
            raise _too_large(policy) from None
        if isinstance(error, httpx.DecodingError):
            raise FetchError(f"the gzip transfer encoding is broken: {error}") from None
        raise


def _drop(spool: Spool) -> None:
    """Close and delete a partial download: nothing of it is ever pushed."""
    spool.out.close()
    spool.path.unlink(missing_ok=True)


def _too_large(policy: FetchPolicy) -> FetchError:
    return FetchError(f"the file is larger than the limit of {policy.max_bytes:,} bytes")


def _unpacked(received: ReceivedFile, policy: FetchPolicy, directory: Path | None
              ) -> ReceivedFile:
    """`received` itself, or unpacked if it is a gzip file (a published ``.gz``)."""
    with received.path.open("rb") as head:
        if head.read(2) != _GZIP_MAGIC:
            return received
    spool = Spool(directory, policy.max_bytes)
    try:
        with gzip.open(received.path, "rb") as packed:
            while chunk := packed.read(_CHUNK):
                spool.write(chunk)  # the limit applies unpacked: no gzip bomb gets through
        return spool.close()
    except BaseException as error:
        _drop(spool)
        if isinstance(error, BodyTooLargeError):
            raise _too_large(policy) from None
        if isinstance(error, OSError | EOFError | zlib.error):
            raise FetchError(f"the gzip file is broken: {error}") from None
        raise
    finally:
        received.discard()
