"""The query filter grammar: `{"op","field","value","udf"}` conditions and nested and/or groups.

Reference: api.md §3. Top-level items are ANDed; field names and string comparisons are
case-insensitive; `in` values count towards the 500-condition limit; only one UDF condition
per query. Where the real service is unverified the sandbox is lenient, as clients rely on it:
a missing `value` is null (false for a boolean: django-autotask drops falsy values), an empty or
missing `in` list matches nothing (and `notIn` everything), int values may come as strings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from psa.sandbox.autotask.schema import EntitySpec, FieldSpec
from psa.sandbox.autotask.wire import ValueProblem, boolean_word, typed

MAX_CONDITIONS = 500
TOO_MANY_CONDITIONS = "Invalid query syntax. Queries are limited to 500 or fewer 'OR' conditions."
ORDERING = {"gt", "gte", "lt", "lte"}
TEXT_MATCH = {"beginswith", "endswith", "contains"}
OPERATORS = {"eq", "noteq", "exist", "notexist", "in", "notin", *ORDERING, *TEXT_MATCH}

Predicate = Callable[[dict], bool]


class QueryError(Exception):
    """A query the service refuses: answered 500 {"errors": [message]}."""


@dataclass
class Compiled:
    predicate: Predicate
    # Top-level ANDed `eq`/`in` conditions on plain fields (lower-cased name → allowed values):
    # the query runner narrows its scan with them (ids, parent ids).
    narrowing: dict[str, set[int]] = field(default_factory=dict)


def compile_filter(spec: EntitySpec, items: Any) -> Compiled:
    if items is None:
        items = []
    if not isinstance(items, list):
        raise QueryError("Invalid query syntax. The filter must be an array of conditions.")
    counter = _Counter()
    predicates = [_compile_item(spec, item, counter) for item in items]
    if counter.conditions > MAX_CONDITIONS:
        raise QueryError(TOO_MANY_CONDITIONS)
    narrowing: dict[str, set[int]] = {}
    for item in items:
        _collect_narrowing(spec, item, narrowing)
    return Compiled(_all(predicates), narrowing)


@dataclass
class _Counter:
    conditions: int = 0
    udf: int = 0


def _all(predicates: list[Predicate]) -> Predicate:
    if not predicates:
        return lambda record: True
    if len(predicates) == 1:
        return predicates[0]
    return lambda record: all(predicate(record) for predicate in predicates)


def _any(predicates: list[Predicate]) -> Predicate:
    return lambda record: any(predicate(record) for predicate in predicates)


def prop(item: dict, name: str) -> Any:
    """A property of a condition or query body, its lower-case `name` matched case-insensitively
    (clients send `Op`, `Filter`, `MaxRecords`...)."""
    for key, value in item.items():
        if key.lower() == name:
            return value
    return None


def _compile_item(spec: EntitySpec, item: Any, counter: _Counter) -> Predicate:
    if not isinstance(item, dict):
        raise QueryError("Invalid query syntax. A filter item must be an object.")
    op = str(prop(item, "op") or "").lower()
    if op in ("and", "or"):
        children = prop(item, "items") or []
        if not isinstance(children, list):
            raise QueryError(f"Invalid query syntax. The items of '{op}' must be an array.")
        predicates = [_compile_item(spec, child, counter) for child in children]
        return _all(predicates) if op == "and" else (_any(predicates) if predicates else lambda r: False)
    if op not in OPERATORS:
        raise QueryError(f"Invalid query syntax. '{prop(item, 'op')}' is not a valid operator.")
    name = str(prop(item, "field") or "")
    if _truthy(prop(item, "udf")):
        counter.udf += 1
        if counter.udf > 1:
            raise QueryError(
                "Invalid query syntax. Only one user-defined field condition is allowed per query."
            )
        counter.conditions += 1
        return _udf_condition(op, name, prop(item, "value"))
    field_spec = spec.field(name)
    if field_spec is None or field_spec.name == "userDefinedFields":
        raise QueryError(f"Unable to find {name} in the {spec.name} entity.")
    value = prop(item, "value")
    counter.conditions += len(value) if op in ("in", "notin") and isinstance(value, list) else 1
    return _condition(op, field_spec, value)


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _comparable(field_spec: FieldSpec, value: Any) -> Any:
    try:
        if field_spec.type == "boolean" and value is None:
            return False  # a dropped falsy value (django-autotask sends no `value` for false)
        word = boolean_word(value)
        if field_spec.is_number and word is not None:
            # Integer flags (Contacts.isActive) take a boolean: django-autotask 1.20 syncs
            # contacts live with {"field": "isActive", "op": "eq", "value": "true"}.
            return int(word)
        result = typed(field_spec, value)
    except ValueProblem as problem:
        raise QueryError(str(problem)) from None
    return result.lower() if isinstance(result, str) and field_spec.type == "string" else result


def _record_value(field_spec: FieldSpec) -> Callable[[dict], Any]:
    name = field_spec.name
    if field_spec.type == "string":
        return lambda record: (record.get(name) or None) and str(record[name]).lower()
    if field_spec.type == "boolean":
        return lambda record: bool(record.get(name))  # a boolean is never null on the wire
    return lambda record: record.get(name)


def _condition(op: str, field_spec: FieldSpec, raw: Any) -> Predicate:
    return _predicate(op, raw, _record_value(field_spec), lambda value: _comparable(field_spec, value))


def _predicate(op: str, raw: Any, read: Callable[[dict], Any], comparable: Callable[[Any], Any]) -> Predicate:
    """`op` against `raw` (made comparable) of the value `read` finds in a record."""
    if op == "exist":
        return lambda record: read(record) is not None
    if op == "notexist":
        return lambda record: read(record) is None
    if op in ("in", "notin"):
        wanted = {comparable(v) for v in raw} if isinstance(raw, list) else set()
        if op == "in":
            return lambda record: read(record) in wanted
        return lambda record: read(record) not in wanted
    value = comparable(raw)
    if op == "eq":
        return lambda record: read(record) == value
    if op == "noteq":
        return lambda record: read(record) != value
    if value is None:
        return lambda record: False  # nothing orders against null
    if op in TEXT_MATCH:
        return _text_match(op, str(value).lower(), lambda record: _as_text(read(record)))
    return _ordering(op, value, read)


def _as_text(value: Any) -> str | None:
    return None if value is None else str(value).lower()


def _text_match(op: str, text: str, read: Callable[[dict], str | None]) -> Predicate:
    if op == "beginswith":
        return lambda record: (read(record) or "").startswith(text) and read(record) is not None
    if op == "endswith":
        return lambda record: (read(record) or "").endswith(text) and read(record) is not None
    return lambda record: text in (read(record) or "") and read(record) is not None


def _ordering(op: str, value: Any, read: Callable[[dict], Any]) -> Predicate:
    def compare(record: dict) -> bool:
        current = read(record)
        if current is None:
            return False
        try:
            if op == "gt":
                return current > value
            if op == "gte":
                return current >= value
            if op == "lt":
                return current < value
            return current <= value
        except TypeError:
            return False

    return compare


def _udf_condition(op: str, name: str, raw: Any) -> Predicate:
    """UDF values are strings on the wire: compared as case-insensitive text."""
    wanted_name = name.lower()

    def read(record: dict) -> str | None:
        for udf_name, value in (record.get("_udf") or {}).items():
            if udf_name.lower() == wanted_name:
                return _as_text(value)
        return None

    return _predicate(op, raw, read, _as_text)


def _collect_narrowing(spec: EntitySpec, item: Any, narrowing: dict[str, set[int]]) -> None:
    if not isinstance(item, dict) or _truthy(prop(item, "udf")):
        return
    op = str(prop(item, "op") or "").lower()
    field_spec = spec.field(str(prop(item, "field") or ""))
    if field_spec is None or not field_spec.is_number or op not in ("eq", "in"):
        return
    raw = prop(item, "value")
    values = raw if op == "in" and isinstance(raw, list) else [raw]
    wanted = {v for v in (_comparable(field_spec, value) for value in values) if v is not None}
    key = field_spec.name.lower()
    narrowing[key] = narrowing[key] & wanted if key in narrowing else wanted
