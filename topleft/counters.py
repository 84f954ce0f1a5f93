"""Labelled counters shared by every process of the fleet, kept in Redis.

Why Redis and not prometheus-client's multiprocess mode: multiprocess mode only merges the
processes of ONE machine that share PROMETHEUS_MULTIPROC_DIR, needs that directory wiped at
every deploy and dead gunicorn workers marked by hand. Our Celery workers run as separate
processes (often on other machines) from the web process that Prometheus scrapes, so their PSA
requests, 429s and budget waits would never show up. A Redis hash per counter family is
incremented where the event happens (one HINCRBYFLOAT, next to the rate budget's own Redis
round trip for a PSA request) and read by the /metrics collector at scrape time, so any web
process reports the whole fleet, and counts survive process restarts.

Counting is best effort and never breaks the caller: when Redis fails, counting pauses for a
few seconds (a circuit breaker, so a Redis outage does not add a timeout to every PSA request).
Without REDIS_URL (the embedded local mode) nothing is counted.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import redis
from django.conf import settings

logger = logging.getLogger("topleft.counters")

KEY_PREFIX = "topleft:metrics:"
PAUSE_AFTER_FAILURE_SECONDS = 5.0
SOCKET_TIMEOUT_SECONDS = 0.5


@dataclass(frozen=True)
class CounterFamily:
    """One Prometheus counter: its name (without `_total`), help text and label names."""

    name: str
    help: str
    labels: tuple[str, ...]

    @property
    def key(self) -> str:
        return KEY_PREFIX + self.name


_lock = threading.Lock()
_clients: dict[str, redis.Redis] = {}
_paused_until: dict[str, float] = {}  # Redis URL → monotonic time counting resumes


def redis_client(url: str | None = None) -> redis.Redis | None:
    """One client (and connection pool) per URL per process, with short timeouts; None when
    Redis is not configured."""
    url = url if url is not None else settings.REDIS_URL
    if not url:
        return None
    with _lock:
        if url not in _clients:
            _clients[url] = redis.Redis.from_url(
                url,
                socket_timeout=SOCKET_TIMEOUT_SECONDS,
                socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
                health_check_interval=30,
            )
        return _clients[url]


def _field(family: CounterFamily, labels: Mapping[str, object]) -> str:
    if set(labels) != set(family.labels):
        raise ValueError(f"{family.name} takes labels {family.labels}, got {tuple(labels)}")
    return json.dumps([str(labels[name]) for name in family.labels])


def counter_add(family: CounterFamily, labels: Mapping[str, object], amount: float = 1.0) -> None:
    """Add `amount` to the family's sample with these labels (best effort, see the module doc)."""
    counters_add([(family, amount, labels)])


def counters_add(increments: Sequence[tuple[CounterFamily, float, Mapping[str, object]]]) -> None:
    """Several additions in one round trip (zero amounts are skipped)."""
    # A wrong label set is a bug: it raises even when Redis is off.
    fields = [(family.key, _field(family, labels), amount) for family, amount, labels in increments]
    fields = [(key, field, amount) for key, field, amount in fields if amount]
    url = settings.REDIS_URL or ""
    client = redis_client(url)
    if not fields or client is None or time.monotonic() < _paused_until.get(url, 0.0):
        return
    try:
        pipe = client.pipeline(transaction=False)
        for key, field, amount in fields:
            pipe.hincrbyfloat(key, field, amount)
        pipe.execute()
    except redis.RedisError as exc:
        _paused_until[url] = time.monotonic() + PAUSE_AFTER_FAILURE_SECONDS
        logger.warning("metrics counters paused for %.0fs: %s", PAUSE_AFTER_FAILURE_SECONDS, exc)


def counters_read(families: list[CounterFamily]) -> dict[str, list[tuple[dict[str, str], float]]]:
    """family name → [(labels, value)] for every family, read in one round trip.
    Raises redis.RedisError; {} when Redis is not configured."""
    client = redis_client()
    if client is None:
        return {}
    pipe = client.pipeline(transaction=False)
    for family in families:
        pipe.hgetall(family.key)
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family, stored in zip(families, pipe.execute(), strict=True):
        samples[family.name] = [
            (dict(zip(family.labels, json.loads(field), strict=True)), float(value))
            for field, value in sorted(stored.items())
        ]
    return samples
