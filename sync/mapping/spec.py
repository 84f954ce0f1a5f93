"""How one PSA entity lands in its mirror model: column → source path, coerced by column type.

Sources are ConnectWise `fields=` paths ("board/id", "_info/lastUpdated"), so the list of
fields a run requests is derived from the mapping itself (only what the mirror needs), or
PARENT for the id of the parent record of a nested collection.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.db import models

from sync.mapping.coerce import coercer_for, strip_nul

PARENT = "@parent"


class UnmappableRecord(ValueError):
    """The record cannot become a mirror row at all (e.g. no usable id): skip and count it."""


def _concrete(meta: Any, column: str) -> models.Field:
    """The model field behind a mapped column (a reverse relation is never a mapped column)."""
    found = meta.get_field(column)
    if not isinstance(found, models.Field):
        raise TypeError(f"{column} is not a concrete field of {meta.label}")
    return found


@dataclass(frozen=True)
class Mapping:
    entity: str
    model: type[models.Model]
    columns: dict[str, str]
    fixed: dict[str, Any] = field(default_factory=dict)  # set on every row, e.g. Ticket.kind
    # Extra fields requested without a column (read by `enrich`).
    extra_fields: tuple[str, ...] = ()
    # Fills derived columns of a page of rows, e.g. Opportunity.closed from its status.
    enrich: Callable[[int, list[dict]], None] | None = None
    # Columns `enrich` fills that an upsert overwrites like mapped ones (a newer PSA copy wins).
    derived: tuple[str, ...] = ()
    # Source of psa_updated_at, the record's server-side change stamp (ConnectWise: one for every
    # record; Autotask: a field per entity, e.g. lastActivityDate). None: the records carry none.
    stamp: str | None = "_info/lastUpdated"

    @property
    def api_fields(self) -> list[str]:
        paths = [p for p in self.columns.values() if p != PARENT]
        base = ["id", self.stamp] if self.stamp else ["id"]
        return list(dict.fromkeys([*base, *paths, *self.extra_fields]))

    @property
    def update_columns(self) -> list[str]:
        """Columns an upsert overwrites (never connection/psa_id, never local bookkeeping)."""
        return ["psa_updated_at", "raw", "synced_at", *self.columns, *self.derived, *self.fixed]

    @cached_property
    def plan(self) -> list[tuple[str, tuple[str, ...] | None, Callable]]:
        """(column, path parts or None for PARENT, coercer) per typed column, resolved once."""
        meta = self.model._meta
        stamp = {"psa_updated_at": self.stamp} if self.stamp else {}
        sources = {**stamp, **self.columns}
        return [
            (column, None if path == PARENT else tuple(path.split("/")), coercer_for(_concrete(meta, column)))
            for column, path in sources.items()
        ]

    @property
    def parent_column(self) -> str | None:
        """The column holding the parent's id (nested collections only)."""
        return next((column for column, source in self.columns.items() if source == PARENT), None)

    @property
    def scope_filter(self) -> dict[str, Any]:
        """Mirror rows this entity owns (several entities can share one model)."""
        return dict(self.fixed)


def _is_whole(value: float | Decimal) -> bool:
    if isinstance(value, Decimal):
        return value.is_finite() and value == value.to_integral_value()
    return math.isfinite(value) and value.is_integer()


def parse_psa_id(value: Any) -> int:
    """A PSA id: a whole number in range. int(1.5) is 1, so a fractional id would land on (or
    create) another record's row, a phantom card: anything but a whole number is refused."""
    if isinstance(value, bool):
        raise UnmappableRecord(f"id {value!r} is not a number")
    if isinstance(value, float | Decimal) and not _is_whole(value):
        raise UnmappableRecord(f"id {value!r} is not a whole number")
    try:
        psa_id = int(value)
    except (TypeError, ValueError):  # None, "abc", and "1.5" too
        raise UnmappableRecord(f"id {value!r} is not a number") from None
    if not 0 < psa_id < 2**63:
        raise UnmappableRecord(f"id {psa_id} is out of range")
    return psa_id


def map_record(
    mapping: Mapping, record: Any, *, connection_id: int, parent_id: int | None = None
) -> tuple[dict, bool]:
    """PSA record → (row values, whether anything was coerced). Raises UnmappableRecord."""
    if not isinstance(record, dict):
        raise UnmappableRecord(f"record is a {type(record).__name__}, not an object")
    row: dict[str, Any] = {"connection_id": connection_id, "psa_id": parse_psa_id(record.get("id"))}
    any_coerced = False
    for column, parts, coerce in mapping.plan:
        raw_value: Any
        if parts is None:
            raw_value = parent_id
        else:
            raw_value = record
            for part in parts:
                raw_value = raw_value.get(part) if isinstance(raw_value, dict) else None
        row[column], coerced = coerce(raw_value)
        any_coerced = any_coerced or coerced
    row.update(mapping.fixed)
    row["raw"], raw_changed = strip_nul(record)
    return row, any_coerced or raw_changed
