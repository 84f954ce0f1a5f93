"""Field paths on records: condition getters, `fields=` projection and `orderBy` sorting.

Reference: developer guide "Query String Parameters": `fields=id,name,status/id` limits the
response (nested paths keep their nesting), `orderBy=contact/name asc`. Field names are
case-insensitive; `lastUpdated`, `dateEntered`, `updatedBy` and `enteredBy` also read `_info`
when the model has no such top-level field (`lastUpdated > [..]` works on every endpoint).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from psa.connectwise.spec import model_fields
from psa.sandbox.connectwise.conditions import ConditionError, Getter, Predicate, compile_conditions
from psa.sandbox.connectwise.schema import EntitySpec

# lower-case alias → the `_info` field it reads
INFO_ALIASES = {
    "lastupdated": "lastUpdated",
    "dateentered": "dateEntered",
    "updatedby": "updatedBy",
    "enteredby": "enteredBy",
}


def _segments(spec: EntitySpec, path: str) -> list[str]:
    """The path with its first segment spelled as the model spells it; ConditionError if unknown."""
    parts = [p for p in path.strip().strip("/").split("/")]
    if not parts or any(not p for p in parts):
        raise ConditionError(f"{path!r} is not a field path")
    head = parts[0].lower()
    name = _field_names(spec.model, spec.fields).get(head)
    if name is not None:
        return [name, *parts[1:]]
    if head in INFO_ALIASES and len(parts) == 1:
        return ["_info", INFO_ALIASES[head]]
    raise ConditionError(f"{parts[0]!r} is not a field of {spec.model}")


@cache
def _field_names(model: str, fields: tuple[str, ...]) -> dict[str, str]:
    """lower-case → spelled name of every field of the model (a record omits its null fields,
    yet conditions, orderBy and fields may name any of them, as on ConnectWise)."""
    names = {name.lower(): name for name in model_fields().get(model, ())}
    names.update({name.lower(): name for name in fields})
    return names


def _lookup(value: Any, part: str) -> Any:
    if not isinstance(value, dict):
        return None
    if part in value:
        return value[part]
    lowered = part.lower()
    for key, item in value.items():
        if key.lower() == lowered:
            return item
    return None


def getter_factory(spec: EntitySpec) -> Callable[[str], Getter]:
    """`getter_for(path)` for compile_conditions: validated once, then a fast reader."""

    def getter_for(path: str) -> Getter:
        parts = _segments(spec, path)
        if len(parts) == 1:
            key = parts[0]
            return lambda record: record.get(key)
        if len(parts) == 2:
            first, second = parts
            return lambda record: _lookup(record.get(first), second)
        return lambda record: _deep(record, parts)

    return getter_for


def projector(spec: EntitySpec, fields: str | None) -> Callable[[dict], dict] | None:
    """A function keeping only `fields` of a record (nested paths stay nested); None = all."""
    if fields is None or not fields.strip():
        return None
    paths = [_segments(spec, f) for f in fields.split(",") if f.strip()]
    flat = [p[0] for p in paths if len(p) == 1]
    # "status" and "status/id" both asked: the whole reference already covers the sub-path.
    nested = [p for p in paths if len(p) > 1 and p[0] not in flat]

    def project(record: dict) -> dict:
        out = {key: record[key] for key in flat if key in record}
        for parts in nested:
            value = _lookup(record.get(parts[0]), parts[1]) if len(parts) == 2 else _deep(record, parts)
            if value is None:
                continue
            target = out
            for part in parts[:-1]:
                target = target.setdefault(part, {})  # fresh dicts: shared references stay untouched
            target[parts[-1]] = value
        return out

    return project


def _deep(record: dict, parts: list[str]) -> Any:
    value: Any = record
    for part in parts:
        value = _lookup(value, part)
    return value


def sorter(spec: EntitySpec, order_by: str | None) -> Callable[[list[dict]], list[dict]] | None:
    """Sort by `orderBy` ("summary asc, id desc"); nulls first ascending, like SQL Server."""
    if order_by is None or not order_by.strip():
        return None
    keys: list[tuple[Getter, bool]] = []
    getter_for = getter_factory(spec)
    for clause in order_by.split(","):
        words = clause.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise ConditionError(f"invalid orderBy clause {clause.strip()!r}")
        keys.append((getter_for(words[0]), len(words) == 2 and words[1].lower() == "desc"))

    def sort(records: list[dict]) -> list[dict]:
        ordered = list(records)
        for getter, descending in reversed(keys):  # stable sorts, least significant key first
            ordered.sort(key=_sort_key_of(getter), reverse=descending)
        return ordered

    return sort


def _sort_key_of(getter: Callable[[dict], object]) -> Callable[[dict], tuple]:
    return lambda record: _sort_key(getter(record))


def _sort_key(value: Any) -> tuple:
    if value is None:
        return (0, 0, "")
    if isinstance(value, bool | int | float):
        return (1, float(value), "")
    if isinstance(value, dict):
        return (2, 0, str(value.get("name") or value.get("id") or "").lower())
    return (2, 0, str(value).lower())


@dataclass(frozen=True)
class Filter:
    """What a listing is narrowed by: `conditions` on the record, `childConditions` on the
    elements of one of its arrays (developer guide: `company/contacts?childconditions=
    communicationItems/value like "john@x.com" AND communicationItems/communicationType="Email"`,
    how integrations find a contact by e-mail). Hashable: answers are cached per filter."""

    conditions: str | None = None
    child_conditions: str | None = None

    @classmethod
    def of(cls, query: Mapping[str, str]) -> Filter:
        return cls(query.get("conditions"), query.get("childconditions"))

    @property
    def empty(self) -> bool:
        return not (self.conditions or "").strip() and not (self.child_conditions or "").strip()

    def predicate(self, spec: EntitySpec) -> Predicate | None:
        """None when nothing narrows the listing; ConditionError for a bad condition."""
        own = compile_conditions(self.conditions, getter_factory(spec))
        children = child_predicate(spec, self.child_conditions)
        if own is None or children is None:
            return own or children
        return lambda record: own(record) and children(record)


def child_predicate(spec: EntitySpec, text: str | None) -> Predicate | None:
    """True for a record one element of whose array meets every condition (paths
    `array/field`, all on the same array)."""
    if text is None or not text.strip():
        return None
    arrays: set[str] = set()

    def getter_for(path: str) -> Getter:
        head, *rest = path.strip().strip("/").split("/")
        if not rest or not all(rest):
            raise ConditionError(
                f"{path!r}: childConditions name a field of an array's elements, e.g. items/value"
            )
        arrays.add(_segments(spec, head)[0])
        return lambda item: _deep(item, rest)

    on_element = compile_conditions(text, getter_for)
    if on_element is None or len(arrays) != 1:
        raise ConditionError("childConditions must name fields of one array")
    (array,) = arrays

    def predicate(record: dict) -> bool:
        elements = record.get(array)
        return isinstance(elements, list) and any(isinstance(e, dict) and on_element(e) for e in elements)

    return predicate
