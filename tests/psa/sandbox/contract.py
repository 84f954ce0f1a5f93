"""What a client generated from the ConnectWise 2025.1 OpenAPI spec accepts in a record.

`problems(model, record)` lists every way a record breaks its model (models.tsv, required.tsv):
a required field missing, a field the model lacks, a value not of the field's type. Nested
objects are checked against their own model (references, communication items, custom fields).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from psa.connectwise.spec import model_fields, required_fields

DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")

# References whose target ConnectWise serves no collection for: `id` and `name` only.
UNSERVED_REFERENCES = frozenset({"OpportunityPriorityReference"})


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -(2**31) <= value < 2**31


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_string_map(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())


# models.tsv type (without the `*` pointer mark) → what a decoded JSON value must be
SCALARS: dict[str, Callable[[Any], bool]] = {
    "int32": _is_int,
    "NullableInt32": _is_int,
    "float64": _is_number,
    "NullableFloat64": _is_number,
    "string": lambda v: isinstance(v, str),
    "NullableString": lambda v: isinstance(v, str),
    "bool": lambda v: isinstance(v, bool),
    "NullableBool": lambda v: isinstance(v, bool),
    "time.Time": lambda v: isinstance(v, str) and DATETIME.match(v) is not None,
    "map[string]string": _is_string_map,
    "map[string]interface{}": lambda v: isinstance(v, dict),
    "interface{}": lambda v: True,
}


def problems(model: str, record: Any, where: str = "") -> list[str]:
    """Every contract break of `record` as a `model`, as readable strings (empty: all good)."""
    where = where or model
    if not isinstance(record, dict):
        return [f"{where}: a {model} must be an object, not {record!r}"]
    fields = model_fields().get(model)
    if fields is None:
        return [f"{where}: {model} is not a model of the catalog"]
    found = [
        f"{where}: no field {name!r}"
        for name in sorted(required_fields().get(model, ()))
        if name not in record
    ]
    found += _reference_problems(model, record, where)
    for name, value in record.items():
        if name not in fields:
            found.append(f"{where}: {model} has no field {name!r}")
        elif value is None:
            found.append(f"{where}.{name}: null (ConnectWise omits null fields)")
        else:
            found += value_problems(fields[name], value, f"{where}.{name}")
    return found


def value_problems(type_name: str, value: Any, where: str) -> list[str]:
    kind = type_name.lstrip("*")
    if kind.startswith("[]"):
        if not isinstance(value, list):
            return [f"{where}: a list of {kind[2:]} expected, not {value!r}"]
        return [p for i, item in enumerate(value) for p in value_problems(kind[2:], item, f"{where}[{i}]")]
    check = SCALARS.get(kind)
    if check is not None:
        return [] if check(value) else [f"{where}: {value!r} is not a {kind}"]
    return problems(kind, value, where)


def _reference_problems(model: str, record: dict, where: str) -> list[str]:
    if not model.endswith("Reference"):
        return []
    found = [] if _is_int(record.get("id")) else [f"{where}: a reference needs an integer id"]
    hrefs = [k for k in (record.get("_info") or {}) if k.endswith("_href")]
    if model not in UNSERVED_REFERENCES and not hrefs:
        found.append(f"{where}: a reference needs `_info` with the target's href")
    return found
