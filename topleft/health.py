"""Liveness and readiness checks, and beat's heartbeat.

/healthz says only that the process answers. /readyz asks what a working deployment needs:
PostgreSQL answers, Redis answers (broker, cache, rate budget; "not configured" in the embedded
local mode is fine), beat is alive (its heartbeat task ran recently, which also proves the
broker and a realtime worker move), and write-back is not stuck (no outbox entry waiting for
the PSA too long). Every check is cheap (one query or one Redis command, short timeouts) and
reports only a status, a number and an exception class name: the body never holds URLs,
hosts or secrets.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Min

from topleft.counters import redis_client

OK, FAIL, NOT_CONFIGURED, SKIPPED = "ok", "fail", "not configured", "skipped"
HEARTBEAT_KEY = "topleft:beat-heartbeat"
HEARTBEAT_EVERY_SECONDS = 30  # the beat schedule entry in sync/tiers.py


# --- beat heartbeat -------------------------------------------------------------------------
# Stored straight in Redis when configured (the short-timeout client below, so a Redis outage
# cannot hang /readyz), else in the Django cache (the file cache shared by local processes).


def beat_heartbeat_stamp(now: float | None = None) -> None:
    stamp = time.time() if now is None else now
    client = redis_client()
    if client is not None:
        client.set(HEARTBEAT_KEY, repr(stamp))
    else:
        cache.set(HEARTBEAT_KEY, stamp, timeout=None)


def beat_heartbeat_age() -> float | None:
    """Seconds since the heartbeat task last ran; None when it never did."""
    client = redis_client()
    stored: Any = client.get(HEARTBEAT_KEY) if client is not None else cache.get(HEARTBEAT_KEY)
    if stored is None:
        return None
    return max(time.time() - float(stored), 0.0)


# --- checks ---------------------------------------------------------------------------------


@dataclass
class CheckResult:
    status: str
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, **self.details}


def check_database() -> CheckResult:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return CheckResult(OK)


def check_redis() -> CheckResult:
    client = redis_client()
    if client is None:
        return CheckResult(NOT_CONFIGURED)
    client.ping()
    return CheckResult(OK)


def check_beat() -> CheckResult:
    age = beat_heartbeat_age()
    limit = settings.READYZ_BEAT_MAX_AGE_SECONDS
    if age is None:
        return CheckResult(FAIL, {"reason": "no heartbeat yet", "max_age_seconds": limit})
    details = {"age_seconds": round(age, 1), "max_age_seconds": limit}
    return CheckResult(OK if age <= limit else FAIL, details)


def check_outbox() -> CheckResult:
    from sync.models import OutboxEntry

    waiting = OutboxEntry.objects.filter(state__in=[OutboxEntry.State.PENDING, OutboxEntry.State.SENDING])
    oldest = waiting.aggregate(oldest=Min("created_at"))["oldest"]
    limit = settings.READYZ_OUTBOX_MAX_AGE_SECONDS
    age = max(time.time() - oldest.timestamp(), 0.0) if oldest else 0.0
    details = {"oldest_waiting_age_seconds": round(age, 1), "max_age_seconds": limit}
    return CheckResult(OK if age <= limit else FAIL, details)


CHECKS: dict[str, Callable[[], CheckResult]] = {
    "database": check_database,
    "redis": check_redis,
    "beat": check_beat,
    "outbox": check_outbox,
}
NEEDS_DATABASE = {"outbox"}


def _run(check: Callable[[], CheckResult]) -> CheckResult:
    started = time.monotonic()
    try:
        result = check()
    except Exception as exc:  # any failure is the check's answer; only the class name is shown
        result = CheckResult(FAIL, {"error": type(exc).__name__})
    result.details["ms"] = round((time.monotonic() - started) * 1000, 1)
    return result


def readiness() -> dict[str, Any]:
    """{"status": "ready" | "not ready", "failing": [names], "checks": {name: result}}."""
    results: dict[str, CheckResult] = {}
    for name, check in CHECKS.items():
        if name in NEEDS_DATABASE and results["database"].status == FAIL:
            results[name] = CheckResult(SKIPPED, {"reason": "database unavailable"})
            continue
        results[name] = _run(check)
    failing = [name for name, result in results.items() if result.status == FAIL]
    return {
        "status": "not ready" if failing else "ready",
        "failing": failing,
        "checks": {name: result.as_dict() for name, result in results.items()},
    }
