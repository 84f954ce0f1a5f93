"""Task events are on, so Flower (or `celery -A topleft events`) can follow every task: the caller
announces it (task-sent), the worker reports receiving, starting and finishing it."""

from __future__ import annotations

import threading

import pytest

from tests.support.processes import start_worker
from tests.support.waiting import wait_until
from topleft.celery import app, beat_heartbeat

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.usefixtures("fresh_cache")]

LIFECYCLE = ["task-sent", "task-received", "task-started", "task-succeeded"]


def test_it_sends_the_events_of_a_task_from_the_caller_and_the_worker():
    events: list[dict] = []
    app.control.purge()
    worker = start_worker(queues="realtime", concurrency=1)
    with app.connection_for_read() as connection:
        receiver = app.events.Receiver(connection, handlers={"*": events.append})
        listening = threading.Thread(target=receiver.capture, kwargs={"wakeup": False}, daemon=True)
        listening.start()
        try:
            # Events published before the receiver subscribed are lost: send probes until one is seen.
            wait_until(lambda: _probe_seen(events), timeout=30, interval=0.5)
            task_id = beat_heartbeat.apply_async(queue="realtime").id
            wait_until(lambda: _types_of(events, task_id) == LIFECYCLE, timeout=30)
        finally:
            receiver.should_stop = True
            worker.stop()
            listening.join(5)
    sent = next(e for e in events if e.get("uuid") == task_id and e["type"] == "task-sent")
    assert sent["name"] == "topleft.celery.beat_heartbeat" and sent["queue"] == "realtime"


def _probe_seen(events: list[dict]) -> bool:
    if any(e["type"] == "task-succeeded" for e in events):
        return True
    beat_heartbeat.apply_async(queue="realtime")
    return False


def _types_of(events: list[dict], task_id: str) -> list[str]:
    return [e["type"] for e in list(events) if e.get("uuid") == task_id]
