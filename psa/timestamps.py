"""PSA timestamps as the APIs write them (`2026-11-27T08:00:00Z`, with or without an offset)."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_psa_time(value: object) -> datetime | None:
    """An aware datetime (a bare value is UTC, as ConnectWise means it), or None when `value` is
    not a readable timestamp."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
