"""Counters of the sync fleet's events (exported at /metrics by sync/metrics_export.py).

Each hook is one call at the place the event happens; the counts live in Redis (see
topleft/counters.py for why), so a worker's events show up in the web process's scrape.
"""

from __future__ import annotations

import re
from typing import Any

from topleft.counters import CounterFamily, counters_add

SYNC_RUNS = CounterFamily(
    "topleft_sync_runs", "Engine runs finished (one entity of one tier)", ("connection", "tier", "status")
)
SYNC_RECORDS = CounterFamily(
    "topleft_sync_records", "Mirror rows written by engine runs", ("connection", "tier", "change")
)
WEBHOOK_RECEIPTS = CounterFamily(
    "topleft_webhook_receipts",
    "Authenticated PSA callbacks: queued for a refresh, or ignored (not mirrored, our own echo)",
    ("connection", "outcome"),
)
WEBHOOK_REJECTIONS = CounterFamily(
    "topleft_webhook_rejections", "PSA callbacks refused, by reason", ("connection", "reason")
)
OUTBOX_PUSHES = CounterFamily(
    "topleft_outbox_pushes",
    "Write-back push attempts, by outcome (done, retry, failed)",
    ("connection", "outcome"),
)
FAMILIES = [SYNC_RUNS, SYNC_RECORDS, WEBHOOK_RECEIPTS, WEBHOOK_REJECTIONS, OUTBOX_PUSHES]

RECORD_CHANGES = ("created", "updated", "deleted")


def sync_run_finished(run: Any) -> None:
    """A SyncRun reached its final status: count it and the rows it wrote."""
    labels = {"connection": run.connection_id, "tier": run.tier}
    counters_add(
        [(SYNC_RUNS, 1, {**labels, "status": run.status})]
        + [
            (SYNC_RECORDS, getattr(run, change) or 0, {**labels, "change": change})
            for change in RECORD_CHANGES
        ]
    )


def webhook_received(connection_id: int, outcome: str) -> None:
    counters_add([(WEBHOOK_RECEIPTS, 1, {"connection": connection_id, "outcome": outcome})])


def webhook_rejected(connection_id: int | None, reason: str | BaseException) -> None:
    """`reason`: a short word, or the CallbackError itself (its class names the reason)."""
    if isinstance(reason, BaseException):
        reason = _snake_case(type(reason).__name__)
    counters_add([(WEBHOOK_REJECTIONS, 1, {"connection": connection_id or "", "reason": reason})])


def outbox_pushed(entry: Any, outcome: str) -> None:
    counters_add([(OUTBOX_PUSHES, 1, {"connection": entry.connection_id, "outcome": outcome})])


def _snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
