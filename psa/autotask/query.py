"""Autotask query filters, built as data and passed around as JSON text.

Reference: api.md §3 — a query body's `filter` is a list of items ANDed together; an item is a
condition `{"op", "field", "value", "udf"}` or a group `{"op": "and"|"or", "items": [...]}`,
nestable. At most 500 conditions per query, each value of an `in` list counting as one, so
long `in` lists are split over several queries (their answers are disjoint and together the
answer of the whole). Booleans are JSON booleans; datetimes are ISO-8601 UTC with a `Z`.

The provider-neutral catalog passes queries around as strings (psa/catalog.py), so a query is
the JSON text of its filter list (`query_text`); the client parses it back (`query_filter`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any

COMPARISONS = frozenset({"eq", "noteq", "gt", "gte", "lt", "lte", "beginsWith", "endsWith", "contains"})
PRESENCE = frozenset({"exist", "notExist"})
MEMBERSHIP = frozenset({"in", "notIn"})
GROUPS = frozenset({"and", "or"})
MAX_CONDITIONS = 500
_UNSET = object()

Item = dict[str, Any]


def wire_value(value: Any) -> Any:
    """A Python value as Autotask reads it in a filter (datetimes UTC with milliseconds)."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00.000Z"
    if isinstance(value, list | tuple | set | frozenset):
        return [wire_value(v) for v in value]
    return value


def cond(field: str, op: str, value: Any = _UNSET, *, udf: bool = False) -> Item:
    """One condition; `udf=True` for a user-defined field (only one per query, api.md §3)."""
    if op in PRESENCE:
        if value is not _UNSET:
            raise ValueError(f"{op} takes no value")
        item: Item = {"op": op, "field": field}
    elif op in COMPARISONS or op in MEMBERSHIP:
        if value is _UNSET:
            raise ValueError(f"{op} needs a value")
        if op in MEMBERSHIP and not isinstance(value, list | tuple | set | frozenset):
            raise ValueError(f"{op} needs a list of values")
        item = {"op": op, "field": field, "value": wire_value(list(value) if op in MEMBERSHIP else value)}
    else:
        raise ValueError(f"unknown Autotask operator {op!r}")
    if udf:
        item["udf"] = True
    return item


def _group(op: str, items: Iterable[Item | None]) -> Item:
    kept = [item for item in items if item]
    if not kept:
        raise ValueError(f"an {op!r} group needs at least one item")
    return {"op": op, "items": kept}


def all_of(*items: Item | None) -> Item:
    return _group("and", items)


def any_of(*items: Item | None) -> Item:
    return _group("or", items)


def query_text(*items: Item | None) -> str:
    """The query (its filter list, ANDed) as the JSON text the catalog passes around."""
    return json.dumps([item for item in items if item], separators=(",", ":"))


def query_filter(text: str | None) -> list[Item]:
    """The filter list of a query text (None or '' → no condition)."""
    if not text:
        return []
    parsed = json.loads(text)
    if isinstance(parsed, dict):  # a whole query body is accepted as well
        parsed = parsed.get("filter") or parsed.get("Filter") or []
    if not isinstance(parsed, list):
        raise ValueError("an Autotask query is a JSON list of filter items")
    return parsed


def narrowed(text: str | None, *items: Item) -> str:
    """The query with more conditions ANDed to it."""
    return query_text(*query_filter(text), *items)


def changed_since_on(stamp: str) -> Callable[[str | None, datetime], str]:
    """The catalog's "changed since" for an entity whose change stamp is `stamp` (api.md §9)."""

    def changed_since(text: str | None, when: datetime) -> str:
        return narrowed(text, cond(stamp, "gt", when))

    return changed_since


def condition_count(items: Iterable[Item]) -> int:
    """How many conditions Autotask counts: one per condition, one per `in`/`notIn` value."""
    total = 0
    for item in items:
        if item.get("op") in GROUPS:
            total += condition_count(item.get("items") or [])
        elif item.get("op") in MEMBERSHIP:
            total += max(len(item.get("value") or []), 1)
        else:
            total += 1
    return total


def split_in(items: list[Item], limit: int = MAX_CONDITIONS) -> list[list[Item]]:
    """The filter as one or more filters of at most `limit` conditions each, by cutting the
    longest top-level `in` list into chunks (the union of their answers is the whole answer).
    Only a top-level `in` can be cut this way: anything else over the limit is a ValueError."""
    if condition_count(items) <= limit:
        return [items]
    candidates = [i for i, item in enumerate(items) if item.get("op") == "in"]
    if not candidates:
        raise ValueError(f"the query has more than {limit} conditions and no top-level 'in' list to split")
    longest = max(candidates, key=lambda i: len(items[i].get("value") or []))
    others = items[:longest] + items[longest + 1 :]
    room = limit - condition_count(others)
    if room < 1:
        raise ValueError(f"the query's other conditions alone exceed {limit}")
    values = items[longest]["value"]
    return [
        [*others, {**items[longest], "value": values[start : start + room]}]
        for start in range(0, len(values), room)
    ]
