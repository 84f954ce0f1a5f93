"""Build ConnectWise `conditions=` strings safely.

Reference: developer guide, "Query String Parameters" / "Conditions":
- strings in double quotes (we escape `\\` and `"`), integers bare, booleans True/False,
  datetimes in square brackets `[2016-08-20T18:04:26Z]`, null;
- operators =, !=, <, <=, >, >=, contains, like, in, not; logic and/or with parentheses;
- references by path (`board/id = 5`);
- keep each URL under ~2000 characters: `split_in` cuts long `in (...)` lists into several
  condition strings (or use the client's POST `/search` form, which takes them in the body).

Every value goes through `literal`, every field name through a strict check, so user text can
never change the structure of a condition.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from urllib.parse import quote_plus

OPERATORS = frozenset(
    {
        "=",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "contains",
        "like",
        "not contains",
        "not like",
        "in",
        "not in",
    }
)
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)*$")


def literal(value: Any) -> str:
    """A value in condition syntax: "text", 12, 1.5, True/False, null, [2026-01-02T03:04:05Z]."""
    if value is None:
        return "null"
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "True" if value else "False"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{value!r} cannot be used in a condition")
        if isinstance(value, Decimal) and not value.is_finite():
            raise ValueError(f"{value!r} cannot be used in a condition")
        return format(value, "f") if isinstance(value, Decimal) else repr(value)
    if isinstance(value, dt.datetime):
        return f"[{_utc(value).strftime('%Y-%m-%dT%H:%M:%SZ')}]"
    if isinstance(value, dt.date):
        return f"[{value.strftime('%Y-%m-%d')}T00:00:00Z]"
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    raise TypeError(f"{type(value).__name__} values cannot be used in a condition")


def _utc(value: dt.datetime) -> dt.datetime:
    # Naive datetimes are taken to be UTC (the project runs with USE_TZ and UTC everywhere).
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _check_field(field: str) -> str:
    if not isinstance(field, str) or not _FIELD.match(field):
        raise ValueError(f"{field!r} is not a valid condition field path")
    return field


def cond(field: str, op: str, value: Any) -> str:
    """One comparison, e.g. cond("board/id", "=", 5) → 'board/id = 5'."""
    op_normal = " ".join(op.lower().split()) if isinstance(op, str) else op
    if op_normal not in OPERATORS:
        raise ValueError(f"{op!r} is not a ConnectWise condition operator")
    if op_normal in ("in", "not in"):
        text = in_list(field, value)
        return text if op_normal == "in" else text.replace(" in (", " not in (", 1)
    return f"{_check_field(field)} {op_normal} {literal(value)}"


def _join(word: str, parts: Iterable[str | None]) -> str:
    kept = [p for p in parts if p]
    if not kept:
        return ""
    if len(kept) == 1:
        return kept[0]
    return f" {word} ".join(f"({p})" for p in kept)


def all_of(*parts: str | None) -> str:
    """`(a) and (b) ...`; empty parts are dropped, a single part is returned as is."""
    return _join("and", parts)


def any_of(*parts: str | None) -> str:
    """`(a) or (b) ...`; empty parts are dropped, a single part is returned as is."""
    return _join("or", parts)


def not_(part: str) -> str:
    """Negate a condition: `not (part)`."""
    if not part:
        raise ValueError("cannot negate an empty condition")
    return f"not ({part})"


def in_list(field: str, values: Iterable[Any]) -> str:
    """`field in (v1,v2,...)`. An empty list is refused: it has no valid ConnectWise form."""
    items = [literal(v) for v in values]
    if not items:
        raise ValueError(f"empty 'in' list for {field!r}")
    return f"{_check_field(field)} in ({','.join(items)})"


def encoded_length(condition: str) -> int:
    """Characters the condition takes in a URL query string (as requests encodes it)."""
    return len(quote_plus(condition))


def split_in(
    field: str, values: Iterable[Any], *, extra: str | None = None, max_chars: int = 1500
) -> list[str]:
    """Several condition strings covering `field in (values)` (each and-ed with `extra`), each
    at most `max_chars` once URL-encoded, so every request URL stays under ~2000 characters.
    Duplicate values are dropped; no values → no conditions."""
    unique = list(dict.fromkeys(values))
    if not unique:
        return []
    _check_field(field)
    wrap_len = encoded_length(all_of(extra, f"{field} in ()"))
    if wrap_len >= max_chars:
        raise ValueError(f"the extra condition alone is longer than {max_chars} characters")
    comma = len(quote_plus(","))
    chunks: list[list[str]] = [[]]
    used = wrap_len
    for value in unique:
        item = literal(value)
        cost = len(quote_plus(item)) + (comma if chunks[-1] else 0)
        if chunks[-1] and used + cost > max_chars:
            chunks.append([])
            used = wrap_len
            cost = len(quote_plus(item))
        if used + cost > max_chars:
            raise ValueError(f"one value is too long for a {max_chars}-character condition")
        chunks[-1].append(item)
        used += cost
    return [all_of(extra, f"{field} in ({','.join(chunk)})") for chunk in chunks]
