"""The Celery app. Three queues so `realtime` work never waits behind bulk sync or notes."""

from __future__ import annotations

import os

from celery import Celery
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "topleft.settings")

app = Celery("topleft")
app.config_from_object("django.conf:settings", namespace="CELERY")

# Each queue gets its own exchange and routing key. Bare Queue("x") objects would all be bound
# to the default exchange with the default routing key, so one message would land in every queue.
QUEUE_NAMES = ("realtime", "sync", "notes")
app.conf.task_queues = tuple(
    Queue(name, Exchange(name, type="direct"), routing_key=name) for name in QUEUE_NAMES
)
app.conf.update(task_default_queue="sync", task_default_exchange="sync", task_default_routing_key="sync")
# At-least-once delivery: a task is acknowledged only after it ran, and re-queued if the
# worker dies; tasks are written to be idempotent.
app.conf.task_acks_late = True
app.conf.task_reject_on_worker_lost = True
app.conf.worker_prefetch_multiplier = 1
app.conf.task_ignore_result = True
app.conf.broker_connection_retry_on_startup = True

app.autodiscover_tasks()

# The whole beat schedule, built from the tier table (sync/tiers.py).
from sync.tiers import build_beat_schedule  # noqa: E402

app.conf.beat_schedule = build_beat_schedule()
