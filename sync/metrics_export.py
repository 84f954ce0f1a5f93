"""What /metrics reports, gathered at scrape time by one custom collector.

Gauges are read from the database and Redis when Prometheus asks, so they are the same whichever
web process answers: per connection and tier the newest successful run and the lag since then,
the write-back outbox backlog, the Celery queue depths and the beat heartbeat. Counters (PSA
requests, 429s, budget waits, records synced, webhook receipts...) are read from their Redis
hashes (topleft/counters.py). A part that cannot be read is reported as
topleft_metrics_source_up{source=...} 0 instead of failing the whole scrape.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator

from django.db.models import Count, Min, OuterRef, Subquery
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from psa import metrics as psa_metrics
from sync import metrics as sync_metrics
from sync.models import Connection, OutboxEntry, SyncRun
from sync.tiers import QUEUES, TIERS
from topleft.counters import CounterFamily, counters_read, redis_client

logger = logging.getLogger("sync.metrics")

COUNTER_FAMILIES: list[CounterFamily] = psa_metrics.FAMILIES + sync_metrics.FAMILIES
# kombu's Redis transport keeps a queue's priority levels in separate lists: "<queue>" for 0-2,
# "<queue>\x06\x16<step>" for the other steps (kombu.transport.redis PRIORITY_STEPS, sep).
_PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")
_BACKLOG_STATES = (OutboxEntry.State.PENDING, OutboxEntry.State.SENDING)


def _last_success(tier: str) -> Subquery:
    # The newest run first (index connection, tier, -started_at), the first succeeded one wins.
    return Subquery(
        SyncRun.objects.filter(connection=OuterRef("pk"), tier=tier, status=SyncRun.Status.SUCCEEDED)
        .order_by("-started_at")
        .values("finished_at")[:1]
    )


def sync_freshness() -> Iterator[Metric]:
    """Per enabled connection and tier: when its newest successful entity run finished and how
    long ago that was (since the connection was added when no run has succeeded yet). One query."""
    info = GaugeMetricFamily(
        "topleft_connection_info", "Enabled PSA connections", labels=["connection", "name"]
    )
    last = GaugeMetricFamily(
        "topleft_sync_last_success_timestamp_seconds",
        "When the newest successful run of the tier finished (Unix time)",
        labels=["connection", "tier"],
    )
    lag = GaugeMetricFamily(
        "topleft_sync_lag_seconds",
        "Seconds since the tier last succeeded (since the connection was added if never)",
        labels=["connection", "tier"],
    )
    now = time.time()
    rows = (
        Connection.objects.filter(enabled=True)
        .annotate(**{f"last_{name}": _last_success(name) for name in TIERS})
        .values("pk", "name", "created_at", *(f"last_{name}" for name in TIERS))
    )
    for row in rows:
        connection = str(row["pk"])
        info.add_metric([connection, row["name"]], 1)
        for tier in TIERS:
            finished = row[f"last_{tier}"]
            if finished is not None:
                last.add_metric([connection, tier], finished.timestamp())
            lag.add_metric([connection, tier], max(now - (finished or row["created_at"]).timestamp(), 0.0))
    yield from (info, last, lag)


def outbox_backlog() -> Iterator[Metric]:
    """Outbox entries waiting (pending, sending) or rejected (failed) per connection, and the age
    of the oldest waiting one. One query."""
    entries = GaugeMetricFamily(
        "topleft_outbox_entries", "Write-back outbox entries by state", labels=["connection", "state"]
    )
    oldest = GaugeMetricFamily(
        "topleft_outbox_oldest_waiting_age_seconds",
        "Age of the oldest pending or sending outbox entry",
        labels=["connection"],
    )
    rows = (
        OutboxEntry.objects.filter(state__in=[*_BACKLOG_STATES, OutboxEntry.State.FAILED])
        .values("connection_id", "state")
        .annotate(count=Count("id"), oldest=Min("created_at"))
        .order_by("connection_id", "state")
    )
    now, oldest_by_connection = time.time(), dict[str, float]()
    for row in rows:
        connection = str(row["connection_id"])
        entries.add_metric([connection, row["state"]], row["count"])
        if row["state"] in _BACKLOG_STATES:
            age = now - row["oldest"].timestamp()
            oldest_by_connection[connection] = max(age, oldest_by_connection.get(connection, 0.0))
    for connection, age in oldest_by_connection.items():
        oldest.add_metric([connection], max(age, 0.0))
    yield from (entries, oldest)


def queue_depths() -> Iterator[Metric]:
    """Messages waiting in each Celery queue (Redis LLEN over its priority lists)."""
    client = redis_client()
    if client is None:
        return
    pipe = client.pipeline(transaction=False)
    for queue in QUEUES:
        for suffix in _PRIORITY_SUFFIXES:
            pipe.llen(queue + suffix)
    lengths = iter(pipe.execute())
    depth = GaugeMetricFamily(
        "topleft_celery_queue_length", "Messages waiting in a Celery queue", labels=["queue"]
    )
    for queue in QUEUES:
        depth.add_metric([queue], sum(next(lengths) for _ in _PRIORITY_SUFFIXES))
    yield depth


def counters() -> Iterator[Metric]:
    samples = counters_read(COUNTER_FAMILIES)
    for family in COUNTER_FAMILIES:
        if family.name not in samples:
            continue
        metric = CounterMetricFamily(family.name, family.help, labels=list(family.labels))
        for labels, value in samples[family.name]:
            metric.add_metric([labels[name] for name in family.labels], value)
        yield metric


def beat_heartbeat() -> Iterator[Metric]:
    from topleft.health import beat_heartbeat_age

    age = beat_heartbeat_age()
    if age is not None:
        yield GaugeMetricFamily(
            "topleft_beat_heartbeat_age_seconds", "Seconds since beat's heartbeat task last ran", value=age
        )


SOURCES: dict[str, Callable[[], Iterator[Metric]]] = {
    "sync_runs": sync_freshness,
    "outbox": outbox_backlog,
    "celery_queues": queue_depths,
    "counters": counters,
    "beat": beat_heartbeat,
}


class FleetCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "topleft_metrics_source_up", "1 when the source could be read for this scrape", labels=["source"]
        )
        for name, source in SOURCES.items():
            try:
                metrics = list(source())
            except Exception:  # one unreadable source must not hide the others
                logger.exception("metrics source %s could not be read", name)
                up.add_metric([name], 0)
                continue
            up.add_metric([name], 1)
            yield from metrics
        yield up


def metrics_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FleetCollector())
    return registry
