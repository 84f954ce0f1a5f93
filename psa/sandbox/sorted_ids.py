"""Copy-on-write edits of a sorted id list, for both halves' stores: readers iterate the list
without a lock, so a writer never changes one in place but swaps in the edited copy."""

from __future__ import annotations

import bisect


def with_id(ids: list[int], record_id: int) -> list[int]:
    """`ids` with `record_id` inserted in order (a new list)."""
    if not ids or ids[-1] < record_id:
        return [*ids, record_id]
    copy = list(ids)
    bisect.insort(copy, record_id)
    return copy


def without_id(ids: list[int], record_id: int) -> list[int]:
    """`ids` without `record_id` (a new list; `ids` itself when it was not there)."""
    index = bisect.bisect_left(ids, record_id)
    if index < len(ids) and ids[index] == record_id:
        return ids[:index] + ids[index + 1 :]
    return ids
