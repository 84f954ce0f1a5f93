"""Coerce PSA values into mirror columns, driven by the Django field of the column.

Messy PSA data never aborts a sync: strings longer than the column are cut, NUL characters
(PostgreSQL rejects them in text and jsonb) are dropped, numbers out of the column's range and
unparsable dates become NULL (or the column default). Every such change is reported so the
engine can count it; the untouched value always survives in the row's `raw` JSON.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

from django.db import models
from django.utils.dateparse import parse_date, parse_datetime

INT_RANGES = {
    models.SmallIntegerField: (-(2**15), 2**15 - 1),
    models.IntegerField: (-(2**31), 2**31 - 1),
    models.BigIntegerField: (-(2**63), 2**63 - 1),
}


class Coerced:
    """Marks a value that had to be changed to fit its column."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value


def _empty(field: models.Field) -> Any:
    if field.null:
        return None
    if field.has_default():
        return field.get_default()
    return None


def _coerce_text(field: models.Field, value: Any) -> Any:
    if value is None:
        return _empty(field) if field.null else ""
    changed = False
    if not isinstance(value, str):
        if isinstance(value, dict | list):
            return Coerced(_empty(field) if field.null else "")
        value, changed = str(value), True
    if "\x00" in value:
        value, changed = value.replace("\x00", ""), True
    limit = getattr(field, "max_length", None)
    if limit and len(value) > limit:
        value, changed = value[:limit], True
    return Coerced(value) if changed else value


def _int_range(field: models.Field) -> tuple[int, int]:
    for cls in type(field).__mro__:
        if cls in INT_RANGES:
            return INT_RANGES[cls]
    return INT_RANGES[models.BigIntegerField]


def _coerce_int(field: models.Field, value: Any) -> Any:
    if value is None:
        return _empty(field)
    try:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return Coerced(_empty(field))
    low, high = _int_range(field)
    if isinstance(field, models.PositiveIntegerField | models.PositiveBigIntegerField):
        low = 0
    if not low <= number <= high:
        return Coerced(_empty(field))
    return number if isinstance(value, int) else Coerced(number)


def _coerce_float(field: models.Field, value: Any) -> Any:
    if value is None:
        return _empty(field)
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return Coerced(_empty(field))
    if not math.isfinite(number) or abs(number) > 1e300:
        return Coerced(_empty(field))
    return number if isinstance(value, int | float) else Coerced(number)


def _coerce_bool(field: models.Field, value: Any) -> Any:
    if value is None:
        return _empty(field) if field.null else (field.get_default() if field.has_default() else False)
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "1", "yes"}:
        return Coerced(True)
    if text in {"false", "0", "no", ""}:
        return Coerced(False)
    return Coerced(_empty(field) if field.null else False)


def _parse_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        return None
    try:
        parsed = parse_datetime(value.strip())
    except ValueError:
        return None
    if parsed is None:
        day = _parse_date(value)
        parsed = datetime(day.year, day.month, day.day) if day else None
    return parsed


def _parse_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    try:
        return parse_date(value.strip()[:10])
    except ValueError:
        return None


def _coerce_datetime(field: models.Field, value: Any) -> Any:
    if value is None or value == "":
        return None
    parsed = _parse_datetime(value)
    if parsed is None:
        return Coerced(None)
    if parsed.tzinfo is None:  # ConnectWise sends UTC with a Z; a bare value is UTC too
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _coerce_date(field: models.Field, value: Any) -> Any:
    if value is None or value == "":
        return None
    parsed = _parse_date(value)
    return parsed if parsed is not None else Coerced(None)


def strip_nul(value: Any) -> tuple[Any, bool]:
    """Drop NUL characters anywhere in a JSON value (jsonb rejects \\u0000)."""
    if isinstance(value, str):
        return (value.replace("\x00", ""), True) if "\x00" in value else (value, False)
    if isinstance(value, dict):
        changed = False
        out = {}
        for key, item in value.items():
            new_key, key_changed = strip_nul(key) if isinstance(key, str) else (key, False)
            out[new_key], item_changed = strip_nul(item)
            changed = changed or key_changed or item_changed
        return out, changed
    if isinstance(value, list):
        items = [strip_nul(item) for item in value]
        return [item for item, _ in items], any(changed for _, changed in items)
    if isinstance(value, float) and not math.isfinite(value):
        return None, True
    return value, False


def _coerce_json(field: models.Field, value: Any) -> Any:
    cleaned, changed = strip_nul(value)
    return Coerced(cleaned) if changed else cleaned


def coerce_for_field(field: models.Field, value: Any) -> tuple[Any, bool]:
    """Return (value fit for `field`, whether it had to be changed)."""
    if isinstance(field, models.BooleanField):
        result = _coerce_bool(field, value)
    elif isinstance(field, models.DateTimeField):
        result = _coerce_datetime(field, value)
    elif isinstance(field, models.DateField):
        result = _coerce_date(field, value)
    elif isinstance(field, models.FloatField | models.DecimalField):
        result = _coerce_float(field, value)
    elif isinstance(field, models.IntegerField):
        result = _coerce_int(field, value)
    elif isinstance(field, models.JSONField):
        result = _coerce_json(field, value)
    elif isinstance(field, models.CharField | models.TextField):
        result = _coerce_text(field, value)
    else:
        result = value
    if isinstance(result, Coerced):
        return result.value, True
    return result, False
