"""The Celery app. The queues, the task → queue routes and the worker pools are listed in one
place with the beat schedule (sync/tiers.py): `realtime` and `outbox` work never waits behind
the changes tier, and the changes tier never waits behind full runs, notes or slow tenants."""

from __future__ import annotations

import inspect
import logging.config
import os
from typing import Any

from celery import Celery, signals
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "topleft.settings")

app = Celery("topleft")
app.config_from_object("django.conf:settings", namespace="CELERY")

from sync.tiers import FULL, QUEUES, TASK_ROUTES, build_beat_schedule  # noqa: E402

# Each queue gets its own exchange and routing key. Bare Queue("x") objects would all be bound
# to the default exchange with the default routing key, so one message would land in every queue.
app.conf.task_queues = tuple(Queue(name, Exchange(name, type="direct"), routing_key=name) for name in QUEUES)
app.conf.task_routes = TASK_ROUTES
app.conf.update(task_default_queue=FULL, task_default_exchange=FULL, task_default_routing_key=FULL)
# At-least-once delivery: a task is acknowledged only after it ran, and re-queued if the
# worker dies; tasks are written to be idempotent.
app.conf.task_acks_late = True
app.conf.task_reject_on_worker_lost = True
# Each worker process reserves one message at a time: a task never waits in a busy process's
# buffer while another process (or another machine) of the pool is idle.
app.conf.worker_prefetch_multiplier = 1
app.conf.task_ignore_result = True
app.conf.broker_connection_retry_on_startup = True
# Task events (received, started, succeeded, failed, and "sent" from the caller) so Flower or
# `celery -A topleft events` can watch the whole fleet (see the README, Operations).
app.conf.worker_send_task_events = True
app.conf.task_send_sent_event = True

app.autodiscover_tasks()

# The whole beat schedule, built from the tier table (sync/tiers.py).
app.conf.beat_schedule = build_beat_schedule()


@app.task(name="topleft.celery.beat_heartbeat", ignore_result=True, time_limit=30)
def beat_heartbeat() -> None:
    """Scheduled every 30 s on the realtime queue; /readyz and /metrics report its age."""
    from topleft.health import beat_heartbeat_stamp

    beat_heartbeat_stamp()


# --- logging: Django's LOGGING in workers and beat too, with the task's ids ---------------------


@signals.setup_logging.connect
def _use_django_logging(loglevel: Any = None, **_: Any) -> None:
    """Connecting this signal stops Celery from installing its own handlers: workers and beat
    log through settings.LOGGING (LOG_FORMAT plain or json) like the web process, and
    `--loglevel` still applies."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    if loglevel:
        logging.getLogger().setLevel(loglevel)


_task_log_tokens: dict[str, Any] = {}


def _connection_id_argument(task: Any, args: tuple, kwargs: dict) -> Any:
    """The value of the task's `connection_id` parameter, when it has one."""
    try:
        bound = inspect.signature(task.run).bind_partial(*args, **kwargs)
    except (TypeError, ValueError):
        return None
    return bound.arguments.get("connection_id")


@signals.task_prerun.connect
def _bind_task_log_context(
    task_id: str = "", task: Any = None, args: Any = (), kwargs: Any = None, **_: Any
) -> None:
    from topleft.logs import log_context_bind

    _task_log_tokens[task_id] = log_context_bind(
        task_id=task_id,
        task_name=getattr(task, "name", None),
        connection_id=_connection_id_argument(task, tuple(args or ()), dict(kwargs or {})),
    )


@signals.task_postrun.connect
def _reset_task_log_context(task_id: str = "", **_: Any) -> None:
    from topleft.logs import log_context_reset

    token = _task_log_tokens.pop(task_id, None)
    if token is not None:
        try:
            log_context_reset(token)
        except ValueError:  # created in another context (should not happen): leave it
            pass
