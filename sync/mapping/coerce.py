"""Coerce PSA values into mirror columns, driven by the Django field of the column.

Messy PSA data never aborts a sync: strings longer than the column are cut, NUL characters
(PostgreSQL rejects them in text and jsonb) are dropped, numbers out of the column's range and
unparsable dates become NULL (or the column default), and so do dates outside the years every
reader can hold (see EARLIEST / LATEST). Every such change is reported so the engine can count
it; the untouched value always survives in the row's `raw` JSON.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import models
from django.utils.dateparse import parse_date, parse_datetime

INT_RANGES = {
    models.SmallIntegerField: (-(2**15), 2**15 - 1),
    models.IntegerField: (-(2**31), 2**31 - 1),
    models.BigIntegerField: (-(2**63), 2**63 - 1),
}

# PostgreSQL stores timestamps far beyond year 9999 (and BC ones), but Python's datetime only
# holds years 1..9999: a stored `9999-12-31T23:59:59-05:00` (year 10000 in UTC) made every query
# reading the row fail. Pages show times in local time (up to ±14 h away) and boards add hours to
# dates (SLA deadlines), so a value must lie in years 1..9998 in UTC, a day off year 0.
EARLIEST = datetime(1, 1, 1, tzinfo=UTC) + timedelta(days=1)
LATEST = datetime(9998, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


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


def clean_text(value: str) -> str:
    """Drop what PostgreSQL cannot store in text/jsonb: NUL, and lone UTF-16 surrogates
    (a JSON "\\ud800" decodes to one; UTF-8 cannot encode it)."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def _coerce_text(field: models.Field, value: Any) -> Any:
    if value is None:
        return _empty(field) if field.null else ""
    changed = False
    if not isinstance(value, str):
        if isinstance(value, dict | list):
            return Coerced(_empty(field) if field.null else "")
        value, changed = str(value), True
    cleaned = clean_text(value)
    if cleaned is not value:
        value, changed = cleaned, True
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
    return parsed if _within_years(parsed) else Coerced(None)


def _within_years(moment: datetime) -> bool:
    try:
        in_utc = moment.astimezone(UTC)
    except (OverflowError, ValueError):  # e.g. 0001-01-01T00:00:00+05:00 is year 0 in UTC
        return False
    return EARLIEST <= in_utc <= LATEST


def _coerce_date(field: models.Field, value: Any) -> Any:
    if value is None or value == "":
        return None
    parsed = _parse_date(value)
    if parsed is None or not EARLIEST.date() <= parsed <= LATEST.date():
        return Coerced(None)
    return parsed


def strip_nul(value: Any) -> tuple[Any, bool]:
    """Clean every string anywhere in a JSON value (jsonb rejects \\u0000 and lone surrogates)."""
    if isinstance(value, str):
        cleaned = clean_text(value)
        return cleaned, cleaned is not value
    if isinstance(value, dict):
        # Scalars are handled inline, not by a call each: records are mostly flat, and this runs
        # over every value of every record (a fifth of a page's mapping time before).
        changed = False
        out = {}
        for key, item in value.items():
            if isinstance(key, str):
                new_key = clean_text(key)
                changed = changed or new_key is not key
            else:
                new_key = key
            kind = type(item)
            if kind is str:
                cleaned = clean_text(item)
                changed = changed or cleaned is not item
                out[new_key] = cleaned
            elif item is None or kind is int or kind is bool:
                out[new_key] = item
            else:
                out[new_key], item_changed = strip_nul(item)
                changed = changed or item_changed
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


def _kind_coercer(field: models.Field) -> Callable[[models.Field, Any], Any]:
    if isinstance(field, models.BooleanField):
        return _coerce_bool
    if isinstance(field, models.DateTimeField):
        return _coerce_datetime
    if isinstance(field, models.DateField):
        return _coerce_date
    if isinstance(field, models.FloatField | models.DecimalField):
        return _coerce_float
    if isinstance(field, models.IntegerField):
        return _coerce_int
    if isinstance(field, models.JSONField):
        return _coerce_json
    if isinstance(field, models.CharField | models.TextField):
        return _coerce_text
    return lambda _field, value: value


def coercer_for(field: models.Field) -> Callable[[Any], tuple[Any, bool]]:
    """A function value → (value fit for `field`, whether it had to be changed), resolved once
    per column so a page of records does not repeat the field-type dispatch per value."""
    coerce = _kind_coercer(field)

    def coerce_value(value: Any) -> tuple[Any, bool]:
        result = coerce(field, value)
        if isinstance(result, Coerced):
            return result.value, True
        return result, False

    return coerce_value


def coerce_for_field(field: models.Field, value: Any) -> tuple[Any, bool]:
    """Return (value fit for `field`, whether it had to be changed)."""
    return coercer_for(field)(value)
