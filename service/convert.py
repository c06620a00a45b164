"""Conversion of IATI files to IATI 2.03 XML or JSON of the internal model, streaming."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from iati.elements.organisation import OrganisationFile
from iati.findings import Finding
from iati.reader import Reader
from iati.source import ACTIVITIES
from iati.writer import write_activities, write_organisations


def convert(
    path: Path, out: IO[bytes], *, to: str, progress: Callable[[int], None] | None = None
) -> list[Finding]:
    """Write `path` to `out` as 2.03 XML (`to="xml"`) or JSON; returns reading findings."""
    reader: Reader[Any] = Reader(path)
    findings: list[Finding] = []

    def records() -> Iterator[Any]:
        for record in reader:
            findings.extend(record.findings)
            if progress is not None:
                progress(reader.stream.bytes_read)
            yield record.model

    if to == "json":
        _write_json(reader, records(), out)
    else:
        _write_xml(reader, records(), out)
    return [*reader.file_findings, *findings]


def _write_xml(reader: Reader[Any], records: Iterator[Any], out: IO[bytes]) -> None:
    first = next(records, None)  # the root is known once the first record has been read
    chain = _prepend(first, records)
    # Trailing root-level elements are only known at the end: the writer asks again.
    root = reader.root_model()
    if isinstance(root, OrganisationFile):
        write_organisations(chain, out, file=root, extensions=reader.root_extensions)
    else:
        write_activities(chain, out, file=root, extensions=reader.root_extensions)


def _write_json(reader: Reader[Any], records: Iterator[Any], out: IO[bytes]) -> None:
    first = next(records, None)
    organisations = reader.root is not None and reader.root.tag != ACTIVITIES
    key = "organisations" if organisations else "activities"
    out.write(b'{"' + key.encode() + b'": [')
    for index, record in enumerate(_prepend(first, records)):
        out.write(b",\n" if index else b"\n")
        out.write(record.model_dump_json(exclude_defaults=True).encode())
    file = reader.file_model()
    out.write(b'\n], "file": ' + file.model_dump_json(exclude_defaults=True).encode() + b"}\n")


def _prepend(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    if first is not None:
        yield first
    yield from rest
