"""The last day of sync runs as a small server-rendered SVG: duration and records per tier.

SyncRun rows are per entity; one execution of a tier (one `sync_tier` call, or the chunks of a
notes run) is a burst of entity runs that follow each other back to back. Runs of a tier whose
start falls within `BURST_GAP` of the previous run's end are one execution. The lease keeps a
tier from overlapping itself, so consecutive executions are separated by at least the idle
time between beats.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from sync.models import Connection, SyncRun
from sync.tiers import TIERS

BURST_GAP = timedelta(seconds=30)
WINDOW = timedelta(hours=24)
TIER_COLOURS = {"changes": "#4e79a7", "core": "#f28e2b", "reference": "#59a14f", "notes": "#b07aa1"}
_SEVERITY: dict[str, int] = {
    SyncRun.Status.SUCCEEDED: 0,
    SyncRun.Status.RUNNING: 1,
    SyncRun.Status.REFUSED: 2,
    SyncRun.Status.FAILED: 3,
}

# Geometry of the SVG (user units; the SVG scales to its container).
WIDTH, PANEL_HEIGHT, LEFT, RIGHT, TOP, GAP = 760, 120, 56, 12, 10, 34


@dataclass
class TierExecution:
    tier: str
    started_at: datetime
    finished_at: datetime
    records: int = 0
    requests: int = 0
    entities: int = 0
    status: str = SyncRun.Status.SUCCEEDED
    errors: list[str] = field(default_factory=list)

    @property
    def duration_seconds(self) -> float:
        return max((self.finished_at - self.started_at).total_seconds(), 0.0)

    @property
    def bad(self) -> bool:
        return self.status in (SyncRun.Status.FAILED, SyncRun.Status.REFUSED)

    def add(self, run: SyncRun, finished_at: datetime) -> None:
        self.finished_at = max(self.finished_at, finished_at)
        self.records += run.fetched
        self.requests += run.requests
        self.entities += 1
        if _SEVERITY.get(run.status, 0) > _SEVERITY.get(self.status, 0):
            self.status = run.status
        if run.status in (SyncRun.Status.FAILED, SyncRun.Status.REFUSED) and run.error:
            self.errors.append(f"{run.entity}: {run.error.splitlines()[0][:160]}")


def tier_executions(
    *, connection: Connection, since: datetime, until: datetime
) -> dict[str, list[TierExecution]]:
    """Per tier, the executions that started in [since, until], oldest first."""
    runs = (
        SyncRun.objects.filter(connection=connection, started_at__gte=since, started_at__lte=until)
        .order_by("started_at", "id")
        .only("tier", "entity", "started_at", "finished_at", "status", "fetched", "requests", "error")
    )
    executions: dict[str, list[TierExecution]] = {name: [] for name in TIERS}
    for run in runs.iterator(chunk_size=2000):
        finished_at = run.finished_at or until  # still running (or abandoned): up to now
        series = executions.setdefault(run.tier, [])
        if not series or run.started_at > series[-1].finished_at + BURST_GAP:
            series.append(TierExecution(run.tier, run.started_at, run.started_at))
        series[-1].add(run, finished_at)
    return executions


def _log_axis(values: list[float], floor: float) -> tuple[float, float]:
    """(lowest, highest) decade of a log axis covering `values`; values below `floor` sit on it.

    Log scale because the tiers differ by orders of magnitude (a `changes` run takes a second,
    a `reference` run minutes): on a linear axis the small tiers would be a flat line and
    their slowdowns invisible.
    """
    top = max([floor * 10, *values])
    return floor, 10.0 ** math.ceil(math.log10(top))


def _label(execution: TierExecution) -> str:
    when = timezone.localtime(execution.started_at).strftime("%H:%M")
    text = (
        f"{execution.tier} {when}: {execution.status}, {execution.duration_seconds:.1f} s, "
        f"{execution.records} records, {execution.requests} requests, {execution.entities} entity runs"
    )
    return "\n".join([text, *execution.errors[:3]])


def _panel(
    title: str, top: int, executions: dict[str, list[TierExecution]], value, x_of, floor: float
) -> dict:
    low, high = _log_axis([value(e) for series in executions.values() for e in series], floor)
    bottom = top + PANEL_HEIGHT
    span = math.log10(high) - math.log10(low)

    def y_of(v: float) -> float:
        return round(bottom - (math.log10(max(v, low)) - math.log10(low)) / span * PANEL_HEIGHT, 1)

    series = []
    for tier, items in executions.items():
        dots = [
            {"x": x_of(e.started_at), "y": y_of(value(e)), "bad": e.bad, "title": _label(e)} for e in items
        ]
        series.append(
            {
                "tier": tier,
                "colour": TIER_COLOURS.get(tier, "#666"),
                "dots": dots,
                "points": " ".join(f"{d['x']},{d['y']}" for d in dots),
            }
        )
    decades = [10.0**exponent for exponent in range(round(math.log10(low)), round(math.log10(high)) + 1)]
    grid = [{"y": y_of(d), "label": f"{d:g}"} for d in decades]
    return {"title": title, "top": top, "bottom": bottom, "grid": grid, "series": series}


def runs_chart(*, connection: Connection, now: datetime | None = None) -> dict:
    """Everything the template needs to draw the last 24 h (coordinates already computed)."""
    now = now or timezone.now()
    since = now - WINDOW
    executions = tier_executions(connection=connection, since=since, until=now)
    plot_width = WIDTH - LEFT - RIGHT

    def x_of(moment: datetime) -> float:
        return round(LEFT + (moment - since).total_seconds() / WINDOW.total_seconds() * plot_width, 1)

    panels = [
        _panel("duration (s, log)", TOP, executions, lambda e: e.duration_seconds, x_of, floor=0.1),
        _panel("records (log)", TOP + PANEL_HEIGHT + GAP, executions, lambda e: e.records, x_of, floor=1),
    ]
    ticks = [since + timedelta(hours=h) for h in range(0, 25, 6)]
    return {
        "width": WIDTH,
        "height": TOP + 2 * PANEL_HEIGHT + GAP + 24,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "panels": panels,
        "x_ticks": [{"x": x_of(t), "label": timezone.localtime(t).strftime("%H:%M")} for t in ticks],
        "legend": [
            {
                "tier": t,
                "colour": TIER_COLOURS.get(t, "#666"),
                "count": len(items),
                "bad": sum(e.bad for e in items),
            }
            for t, items in executions.items()
        ],
        "executions": executions,
    }
