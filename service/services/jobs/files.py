"""The file of a push job, kept in the database in chunks until the job ends, so that a
worker on any machine sharing the database can read it (see docs/jobs.md)."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import replace
from pathlib import Path

from sqlalchemy import Engine, Table, insert
from sqlmodel import Session, col, select

from service.db import session_scope
from service.models import Job, JobFile, JobStatus
from service.services.push import ReceivedFile

CHUNK_BYTES = 1 << 20  # one row per MiB: small enough for any driver to hold at once
PREFIX = "iati-ec-job-"
_FILES: Table = JobFile.__table__  # type: ignore[attr-defined]


def store_file(session: Session, job_id: str, path: Path) -> None:
    """Copy the file at `path` into the job's chunks (in the caller's transaction)."""
    connection = session.connection()
    with path.open("rb") as source:
        seq = 0
        while chunk := source.read(CHUNK_BYTES):
            connection.execute(insert(_FILES), {"job_id": job_id, "seq": seq, "content": chunk})
            seq += 1


def spooled_path(directory: Path | None, job_id: str) -> Path:
    """Where a worker writes the job's file to read it: named by the job, so that the
    worker that takes the job over writes over a dead worker's copy."""
    import tempfile

    return (directory or Path(tempfile.gettempdir())) / f"{PREFIX}{job_id}.xml"


def fetch_file(engine: Engine, job_id: str, target: Path) -> ReceivedFile:
    """Write the job's file to `target`, a chunk at a time; deleted by `discard`."""
    with session_scope(engine) as session, target.open("wb") as out:
        seqs = session.exec(
            select(JobFile.seq).where(JobFile.job_id == job_id).order_by(col(JobFile.seq))
        ).all()
        for seq in seqs:
            out.write(session.exec(
                select(JobFile.content).where(JobFile.job_id == job_id, JobFile.seq == seq)
            ).one())
    return replace(ReceivedFile.of_path(target), owned=True)


def sweep(engine: Engine, directory: Path | None) -> int:
    """Delete the job files left in `directory` by workers that died, once their job has
    ended (or is gone); how many were deleted."""
    folder = spooled_path(directory, "x").parent
    left = {path.name[len(PREFIX):-4]: path for path in folder.glob(f"{PREFIX}*.xml")}
    if not left:
        return 0
    with session_scope(engine) as session:
        alive = set(session.exec(
            select(Job.id).where(col(Job.id).in_(list(left)),
                                 col(Job.status).in_([JobStatus.queued, JobStatus.running]))
        ).all())
    deleted = 0
    for job_id, path in left.items():
        if job_id not in alive:
            with suppress(OSError):
                path.unlink()
                deleted += 1
    return deleted
