"""What is derived from kept values (`following.derived`): each derived value is updated
from the values before for the changed activities, and the values before are held only
while some value derived from them is still to be derived again."""

from __future__ import annotations

from service.services.following import Kept, derived

Calls = list[tuple[str, str]]


def _sum(calls: Calls, name: str, kept: Kept[int]) -> int:
    def fresh(values: Kept[int]) -> int:
        calls.append((name, "fresh"))
        return sum(values.values())

    def updated(total: int, old: Kept[int], new: Kept[int], changed: frozenset[int]) -> int:
        calls.append((name, "updated"))
        return total + sum(new.get(i, 0) - old.get(i, 0) for i in changed)

    return derived(kept, name, fresh, updated)


def _changed(kept: Kept[int], **values: int) -> Kept[int]:
    changed = kept.following(frozenset(int(i[1:]) for i in values))
    changed.update({int(i[1:]): value for i, value in values.items()})
    return changed


def test_two_derived_values_are_both_updated_and_then_the_older_values_let_go() -> None:
    calls: Calls = []

    def total(name: str, kept: Kept[int]) -> int:
        return _sum(calls, name, kept)

    first = Kept({1: 10, 2: 20})
    assert (total("a", first), total("b", first)) == (30, 30)

    second = _changed(first, i2=25)
    assert total("a", second) == 35
    assert second.before is first  # "b" is still to be updated from it
    assert total("b", second) == 35
    assert second.before is None
    assert total("a", second) == 35  # kept: not worked out again
    assert calls == [("a", "fresh"), ("b", "fresh"), ("a", "updated"), ("b", "updated")]

    calls.clear()
    third = _changed(second, i1=11)
    assert total("a", third) == 36
    fourth = _changed(third, i1=12, i3=1)  # "b" of the third values was never derived
    assert third.before is None  # so the second values are let go
    assert (total("a", fourth), total("b", fourth)) == (38, 38)
    assert calls == [("a", "updated"), ("a", "updated"), ("b", "fresh")]
