"""What the sync status page shows for a connection: per tier the last and next run, whether the
tier's lease is held right now, recent failures and refusals, and mirrored row counts.

Read-only queries over SyncRun / TierLock; the engine (sync/engine/) writes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from psa.providers import UnknownProvider, provider_for
from sync.engine.approvals import refused_entities
from sync.engine.status import last_tier_run, mirror_counts, runs_summary
from sync.locks import tier_running_until
from sync.models import Connection, MassDeleteApproval, SyncRun
from sync.tiers import NOTES, TIERS, Tier
from sync.views.chart import BURST_GAP

RECENT_FAILURES = 20
_BAD = [SyncRun.Status.FAILED, SyncRun.Status.REFUSED]


@dataclass(frozen=True)
class TierRow:
    tier: Tier
    last: dict | None  # sync.engine.status.last_tier_run() of the tier, None when it never ran
    next_run_at: datetime | None  # None: the next beat picks it up (never ran)
    overdue: bool
    running_until: datetime | None  # lease expiry when the tier is running now

    @property
    def every_label(self) -> str:
        seconds = self.tier.every_seconds
        return f"{seconds // 3600} h" if seconds % 3600 == 0 else f"{seconds // 60} min"

    @property
    def duration_seconds(self) -> float | None:
        if not self.last or not self.last["finished_at"]:
            return None
        return (self.last["finished_at"] - self.last["started_at"]).total_seconds()


def _next_run(tier: Tier, last: dict | None, now: datetime) -> tuple[datetime | None, bool]:
    # Beat fires every `every_seconds`; the last start is the best estimate of the phase.
    if last is None:
        return None, False
    next_at = last["started_at"] + timedelta(seconds=tier.every_seconds)
    return next_at, next_at < now


def _notes_burst(connection: Connection, now: datetime) -> list[SyncRun]:
    """The chunk runs of the latest notes fan-out: walking back from the newest chunk, every run
    that ended within BURST_GAP of the burst's start (chunks run back to back or side by side)."""
    latest = SyncRun.objects.filter(connection=connection, tier=NOTES).order_by("-started_at", "-id").first()
    if latest is None:
        return []
    since = latest.started_at - timedelta(seconds=TIERS[NOTES].every_seconds) + BURST_GAP
    earlier = SyncRun.objects.filter(
        connection=connection, tier=NOTES, started_at__gte=since, started_at__lte=latest.started_at
    ).exclude(pk=latest.pk)
    burst, burst_start = [latest], latest.started_at
    for run in earlier.order_by("-started_at", "-id"):
        if (run.finished_at or now) + BURST_GAP < burst_start:
            break
        burst.append(run)
        burst_start = min(burst_start, run.started_at)
    return burst


def last_notes_run(*, connection: Connection, now: datetime | None = None) -> dict | None:
    """Like sync.engine.status.last_tier_run, over every chunk of the latest notes fan-out (the
    notes tier writes one SyncRun per chunk of 100 parents, not one per entity)."""
    runs = _notes_burst(connection, now or timezone.now())
    if not runs:
        return None
    summary = runs_summary(runs)
    summary["chunks"] = len(runs)
    if any(run.finished_at is None for run in runs):
        summary["finished_at"] = None  # the fan-out is still running
    return summary


def tier_rows(*, connection: Connection, now: datetime | None = None) -> list[TierRow]:
    now = now or timezone.now()
    rows = []
    for tier in TIERS.values():
        if tier.name == NOTES:
            last = last_notes_run(connection=connection, now=now)
        else:
            last = last_tier_run(connection=connection, tier=tier.name)
        next_at, overdue = _next_run(tier, last, now)
        rows.append(
            TierRow(
                tier=tier,
                last=last,
                next_run_at=next_at,
                overdue=overdue,
                running_until=tier_running_until(connection_id=connection.pk, tier=tier.name, now=now),
            )
        )
    return rows


def recent_failures(*, connection: Connection, limit: int = RECENT_FAILURES) -> list[SyncRun]:
    """The newest failed or refused runs with their error text (abandoned runs count as failed)."""
    return list(
        SyncRun.objects.filter(connection=connection, status__in=_BAD).order_by("-started_at", "-id")[:limit]
    )


def status_page_context(*, connection: Connection, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    counts = mirror_counts(connection=connection)
    return {
        "connection": connection,
        "psa": psa_header(connection),
        "callback_health": connection.callback_health or {},
        "tiers": tier_rows(connection=connection, now=now),
        "failures": recent_failures(connection=connection),
        "refused_entities": refused_entities(connection_id=connection.pk),
        "approvals_pending": list(
            MassDeleteApproval.objects.filter(connection=connection, used_at__isnull=True).order_by("entity")
        ),
        "counts": sorted(counts.items()),
        "total_rows": sum(counts.values()),
        "now": now,
    }


def psa_header(connection: Connection) -> dict[str, str]:
    """The provider's label and its secret-free description of the connection's PSA."""
    try:
        provider = provider_for(connection)
    except UnknownProvider:
        return {"label": connection.provider, "described": "a PSA this installation does not know"}
    return {"label": provider.label, "described": provider.describe(connection)}
