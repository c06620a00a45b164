"""Receive a pushed file: streamed to a temporary file while its SHA-256 and size are taken.

The body is never held whole in memory. A ``multipart/form-data`` body is parsed as it
streams and only its ``file`` part is kept; any other body is the file itself. Parsing,
hashing and writing run in a worker thread, a batch of chunks at a time, so that the event
loop goes on serving other requests while a large body, or one of many parts, arrives.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import AsyncGenerator, AsyncIterable, Callable
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from starlette.concurrency import run_in_threadpool

from service.errors import DomainError

FILE_FIELD = "file"
_CHUNK = 1 << 20
_BATCH = 1 << 20  # bytes of body handed to the worker thread at a time (at least one chunk)


class BodyTooLargeError(DomainError):
    status = 413
    code = "input.too-large"
    title = "The file is too large"


class NoFilePartError(DomainError):
    status = 400
    code = "push.no-file"
    title = "The multipart body has no file"


@dataclass(frozen=True, slots=True)
class ReceivedFile:
    """A file to push, on disk: where, its SHA-256 (hex) and size; `owned` files get deleted."""

    path: Path
    sha256: str
    size: int
    owned: bool = False

    @classmethod
    def of_path(cls, path: Path) -> ReceivedFile:
        """A file already on disk (the command line), fingerprinted in chunks; never deleted."""
        digest = hashlib.sha256()
        size = 0
        with path.open("rb") as source:
            while chunk := source.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
        return cls(path, digest.hexdigest(), size)

    def discard(self) -> None:
        """Delete the temporary copy (a no-op for files the service did not make)."""
        if self.owned:
            self.path.unlink(missing_ok=True)


class Spool:
    """The temporary file being written, with its running digest and the size limit."""

    def __init__(self, directory: Path | None, max_bytes: int) -> None:
        handle, name = tempfile.mkstemp(prefix="iati-ec-push-", suffix=".xml", dir=directory)
        self.path = Path(name)
        self.out: IO[bytes] = os.fdopen(handle, "wb")
        self.digest = hashlib.sha256()
        self.size = 0
        self.max_bytes = max_bytes

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise BodyTooLargeError(
                f"The file is larger than the limit of {self.max_bytes:,} bytes; "
                "split it into smaller files."
            )
        self.digest.update(chunk)
        self.out.write(chunk)

    def close(self) -> ReceivedFile:
        self.out.close()
        return ReceivedFile(self.path, self.digest.hexdigest(), self.size, owned=True)


async def receive(
    chunks: AsyncIterable[bytes],
    *,
    content_type: str | None,
    directory: Path | None = None,
    max_bytes: int,
) -> ReceivedFile:
    """Stream `chunks` (a request body) to a temporary file; the caller `discard`s it.

    The whole body, multipart framing and other fields included, may be `max_bytes` long
    at most: a longer one is refused (413) as soon as it passes the limit.
    """
    boundary = multipart_boundary(content_type)
    sink = await run_in_threadpool(Spool, directory, max_bytes)
    try:
        parser = None if boundary is None else MultipartFile(boundary, sink.write)
        take = sink.write if parser is None else parser.feed
        async with aclosing(_batches(chunks, max_bytes)) as batches:
            async for batch in batches:
                await run_in_threadpool(take, batch)
        if parser is not None:
            parser.close()
        return await run_in_threadpool(sink.close)
    except BaseException:
        sink.out.close()
        sink.path.unlink(missing_ok=True)
        raise


async def _batches(
    chunks: AsyncIterable[bytes], max_bytes: int
) -> AsyncGenerator[bytes, None]:
    """The body in pieces of about `_BATCH` bytes (a larger chunk whole), so that a body of
    many small chunks costs few hand-overs to the worker thread; refused past `max_bytes`."""
    held: list[bytes] = []
    held_bytes = body_bytes = 0
    async for chunk in chunks:
        body_bytes += len(chunk)
        if body_bytes > max_bytes:
            raise BodyTooLargeError(
                f"The body is larger than the limit of {max_bytes:,} bytes; "
                "split the file into smaller ones."
            )
        held.append(chunk)
        held_bytes += len(chunk)
        if held_bytes >= _BATCH:
            yield b"".join(held)
            held, held_bytes = [], 0
    if held:
        yield b"".join(held)


def multipart_boundary(content_type: str | None) -> bytes | None:
    """The boundary of a ``multipart/form-data`` content type; None for any other type."""
    if content_type is None:
        return None
    kind, _, parameters = content_type.partition(";")
    if kind.strip().lower() != "multipart/form-data":
        return None
    for parameter in parameters.split(";"):
        name, _, value = parameter.strip().partition("=")
        if name.strip().lower() == "boundary" and value:
            return value.strip().strip('"').encode("latin-1")
    raise NoFilePartError("multipart/form-data without a boundary parameter.")


class MultipartFile:
    """Streams the `file` part of a multipart/form-data body (RFC 7578) to `write`.

    Other parts are skipped. Only a small tail is held back between chunks: as much as
    could be the start of the next delimiter. The buffer is scanned from a position and
    cut once per chunk, so a body of many small parts costs time in proportion to its
    size, however it is chunked.
    """

    def __init__(self, boundary: bytes, write: Callable[[bytes], None]) -> None:
        self._delimiter = b"\r\n--" + boundary
        self._write = write
        # The body starts with "--boundary": a CRLF in front lets one delimiter match all.
        self._buffer = b"\r\n"
        self._at = 0  # where the unread part of the buffer starts
        self._state = "preamble"
        self._in_file = False
        self.found = False

    def feed(self, chunk: bytes) -> None:
        self._buffer = self._buffer[self._at:] + chunk
        self._at = 0
        while self._step():
            pass

    def close(self) -> None:
        if self._state != "done" or not self.found:
            raise NoFilePartError(
                f"The multipart body has no complete part named {FILE_FIELD!r}; send the "
                f"IATI file as the {FILE_FIELD!r} field, or as the raw request body."
            )

    def _step(self) -> bool:
        if self._state in ("preamble", "body"):
            return self._scan_body()
        if self._state == "after-delimiter":
            return self._after_delimiter()
        if self._state == "headers":
            return self._headers()
        return False  # done: the epilogue is ignored

    def _scan_body(self) -> bool:
        buffer, at = self._buffer, self._at
        index = buffer.find(self._delimiter, at)
        if index < 0:
            keep = max(at, len(buffer) - (len(self._delimiter) - 1))
            self._emit(buffer[at:keep])
            self._at = keep
            return False
        self._emit(buffer[at:index])
        self._at = index + len(self._delimiter)
        if self._in_file:
            self.found = True
        self._in_file = False
        self._state = "after-delimiter"
        return True

    def _after_delimiter(self) -> bool:
        buffer, at = self._buffer, self._at
        if len(buffer) - at < 2:
            return False
        if buffer.startswith(b"--", at):
            self._state = "done"
            return False
        end = buffer.find(b"\r\n", at)
        if end < 0:
            return False
        self._at = end + 2  # transport padding, then CRLF
        self._state = "headers"
        return True

    def _headers(self) -> bool:
        buffer, at = self._buffer, self._at
        end = buffer.find(b"\r\n\r\n", at)
        if end < 0:
            if len(buffer) - at > 16 * 1024:
                raise NoFilePartError("A multipart part has headers longer than 16 KiB.")
            return False
        headers = buffer[at:end].decode("latin-1").split("\r\n")
        self._at = end + 4
        self._in_file = not self.found and _field_name(headers) == FILE_FIELD
        self._state = "body"
        return True

    def _emit(self, data: bytes) -> None:
        if self._in_file and data:
            self._write(data)


def _field_name(headers: list[str]) -> str | None:
    """The ``name`` of a part's Content-Disposition header."""
    for header in headers:
        key, _, value = header.partition(":")
        if key.strip().lower() != "content-disposition":
            continue
        for parameter in value.split(";")[1:]:
            name, _, given = parameter.strip().partition("=")
            if name.strip().lower() == "name":
                return given.strip().strip('"')
    return None
