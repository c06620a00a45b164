"""Data quality per publisher over HTTP: the overview of every publisher, and one's report."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from service.api.deps import EngineDep, IsoDate, ReaderOrPublisher
from service.api.routes.pushes import problem_responses
from service.services.quality import (
    PublisherHeadline,
    PublisherQuality,
    find_publisher,
    headlines,
    publisher_quality,
)

router = APIRouter(prefix="/api/v1/publishers", tags=["data quality"])
SinceQuery = Annotated[IsoDate | None, Query(
    description="Count only the pushes received on or after this date")]
EcuadorQuery = Annotated[bool, Query(
    description="Count only the activities for Ecuador (EC a recipient country of the "
    "activity or of a transaction), as the public pages do; pushes, rejections and "
    "deletions stay the publisher's whole record")]


@router.get("", operation_id="list_publishers", responses=problem_responses(401, 403))
def list_publishers(
    engine: EngineDep, _: ReaderOrPublisher, since: SinceQuery = None,
    ecuador: EcuadorQuery = False,
) -> list[PublisherHeadline]:
    """Every organisation that has pushed or owns activities, with its headline figures."""
    today = datetime.now(UTC).date()
    with engine.connect() as connection:
        return headlines(connection, today=today, since=since, ecuador=ecuador)


@router.get(
    "/{organisation}/quality", operation_id="get_publisher_quality",
    responses=problem_responses(401, 403, 404),
)
def get_publisher_quality(
    organisation: str, engine: EngineDep, _: ReaderOrPublisher, since: SinceQuery = None,
    ecuador: EcuadorQuery = False,
) -> PublisherQuality:
    """Pushes and their outcomes, the most frequent findings, timeliness and completeness
    of one publisher's data (`organisation`: any of its IATI identifiers)."""
    today = datetime.now(UTC).date()
    with engine.connect() as connection:
        publisher = find_publisher(connection, organisation)
        return publisher_quality(connection, publisher, today=today, since=since,
                                 ecuador=ecuador)
