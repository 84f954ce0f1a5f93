"""A cheap per-connection change counter that open boards poll.

Whoever commits mirror changes (sync engine, webhook refresh, write-back, rank moves) calls
`mirror_changed(connection_id=...)`. Open boards poll with the counter in an ETag and get a 304
from the cache alone while nothing changed, so hundreds of open boards cost one cache read
each per poll and never touch the mirror tables.
"""

from __future__ import annotations

import logging
import time

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)


def _cache_key(connection_id: int) -> str:
    return f"topleft:mirror-version:{connection_id}"


def _fresh_start() -> int:
    # A counter lost with the cache restarts from the clock, so it never repeats a value a
    # browser still holds in its ETag.
    return int(time.time() * 1000)


def mirror_changed(*, connection_id: int) -> None:
    """Record that the mirror of `connection_id` changed; call after the transaction commits."""
    key = _cache_key(connection_id)
    try:
        cache.incr(key)
    except ValueError:  # missing (first change, or the cache was flushed)
        if not cache.add(key, _fresh_start(), timeout=None):
            cache.incr(key)
    except Exception:  # a cache outage must never fail the sync or write that called us
        logger.warning("could not bump the live counter of connection %s", connection_id, exc_info=True)


def mirror_changed_on_commit(*, connection_id: int) -> None:
    """`mirror_changed` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: mirror_changed(connection_id=connection_id))


def mirror_version(*, connection_id: int) -> int | None:
    """The current counter value (created on first use); None while the cache (Redis) is
    unreachable: boards then keep serving from PostgreSQL without live updates."""
    key = _cache_key(connection_id)
    try:
        value = cache.get(key)
        if value is None:
            cache.add(key, _fresh_start(), timeout=None)
            value = cache.get(key)
    except Exception:  # redis-py raises its own ConnectionError/TimeoutError types
        logger.warning("live counter of connection %s unavailable: the cache is down", connection_id)
        return None
    return int(value or 0)
