"""The codec's caches (element plans, per-thread schemas) fill safely from many threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date

from iati.reader import read_activities
from iati.validate import validate
from iati.xml import IatiElement
from tests.support.samples import sample


def _all_element_classes() -> list[type[IatiElement]]:
    found, pending = [], [IatiElement]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def test_first_use_from_many_threads_at_once_reads_and_validates_alike() -> None:
    for cls in _all_element_classes():  # start cold, as a new service process does
        if "_plan_cache" in cls.__dict__:
            type.__delattr__(cls, "_plan_cache")
    path = sample("real/usaid-bo.xml")

    def work(_: int) -> tuple[int, int]:
        read = sum(1 for _ in read_activities(path))
        report = validate(path, today=date(2026, 11, 27))
        return read, report.summary_total()

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(work, range(6)))
    assert results == [results[0]] * 6
    assert results[0][0] == 63
