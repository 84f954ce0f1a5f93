"""/healthz and /readyz: what each check reports, the failing checks named in a 503, no secrets,
and beat's heartbeat stamped by a real worker."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.support.connections import make_connection
from tests.support.processes import start_worker
from tests.support.waiting import wait_until
from topleft.health import HEARTBEAT_EVERY_SECONDS, beat_heartbeat_age, beat_heartbeat_stamp

pytestmark = pytest.mark.usefixtures("fresh_cache")

UNREACHABLE_REDIS = "redis://:hunter2@127.0.0.1:1/0"  # nothing listens on port 1


def _outbox_entry(age: timedelta) -> None:
    from sync.models import OutboxEntry

    connection = make_connection("acme")
    entry = OutboxEntry.objects.create(connection=connection, action="ticket_status", kind="ticket", psa_id=1)
    OutboxEntry.objects.filter(pk=entry.pk).update(created_at=timezone.now() - age)


def test_it_answers_healthz_without_the_database_or_redis(client, settings):
    # No database access is allowed in this test (no db fixture): a query would raise.
    settings.REDIS_URL = UNREACHABLE_REDIS
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.redis
def test_it_is_ready_when_every_check_passes(client, db):
    beat_heartbeat_stamp()
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ready" and body["failing"] == []
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "ok",
        "redis": "ok",
        "beat": "ok",
        "outbox": "ok",
    }


@pytest.mark.redis
def test_it_names_redis_and_beat_when_redis_is_unreachable_without_showing_the_url(client, db, settings):
    beat_heartbeat_stamp()
    settings.REDIS_URL = UNREACHABLE_REDIS
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready" and body["failing"] == ["redis", "beat"]
    assert body["checks"]["redis"]["error"] == "ConnectionError"
    assert body["checks"]["database"]["status"] == "ok"
    for secret in ("hunter2", "127.0.0.1", "redis://", settings.SECRET_KEY):
        assert secret not in response.content.decode()


def test_it_reports_redis_as_not_configured_in_the_embedded_mode(client, db, settings):
    settings.REDIS_URL = None  # the heartbeat then lives in the Django cache
    beat_heartbeat_stamp()
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"]["redis"]["status"] == "not configured"


@pytest.mark.redis
def test_it_fails_once_beat_stops_stamping_its_heartbeat(client, db, settings, frozen_clock):
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["failing"] == ["beat"]
    assert response.json()["checks"]["beat"]["reason"] == "no heartbeat yet"

    beat_heartbeat_stamp()
    frozen_clock.shift(settings.READYZ_BEAT_MAX_AGE_SECONDS)
    assert client.get("/readyz").status_code == 200
    frozen_clock.shift(1)
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["failing"] == ["beat"]
    assert response.json()["checks"]["beat"]["age_seconds"] == settings.READYZ_BEAT_MAX_AGE_SECONDS + 1


@pytest.mark.redis
@pytest.mark.parametrize("minutes_waiting, ready", [(14, True), (16, False)])
def test_it_fails_on_an_outbox_entry_waiting_too_long(
    client, db, settings, frozen_now, minutes_waiting, ready
):
    settings.READYZ_OUTBOX_MAX_AGE_SECONDS = 15 * 60
    beat_heartbeat_stamp()
    _outbox_entry(timedelta(minutes=minutes_waiting))
    response = client.get("/readyz")
    assert response.status_code == (200 if ready else 503)
    assert response.json()["failing"] == ([] if ready else ["outbox"])
    assert response.json()["checks"]["outbox"]["oldest_waiting_age_seconds"] == minutes_waiting * 60


def test_it_schedules_the_heartbeat_on_the_realtime_queue():
    from topleft.celery import app

    entry = app.conf.beat_schedule["beat-heartbeat"]
    assert entry["task"] == "topleft.celery.beat_heartbeat"
    assert entry["schedule"].run_every.total_seconds() == HEARTBEAT_EVERY_SECONDS
    assert entry["options"]["queue"] == "realtime"


@pytest.mark.slow
@pytest.mark.redis
def test_it_sees_the_heartbeat_a_real_worker_stamped_and_the_worker_logs_json(client, db):
    from topleft.celery import app, beat_heartbeat

    app.control.purge()
    worker = start_worker(queues="realtime", concurrency=1, LOG_FORMAT="json")
    try:
        assert beat_heartbeat_age() is None
        result = beat_heartbeat.apply_async(queue="realtime")
        wait_until(lambda: beat_heartbeat_age() is not None, timeout=30)
        assert client.get("/readyz").json()["checks"]["beat"]["status"] == "ok"
        done = wait_until(lambda: _json_lines_mentioning(worker.lines, "succeeded"), timeout=30)
    finally:
        worker.stop()
    ready = _json_lines_mentioning(worker.lines, " ready.")
    assert ready and ready[0]["level"] == "INFO" and ready[0]["logger"].startswith("celery")
    assert done[0]["task_id"] == result.id and done[0]["task_name"] == "topleft.celery.beat_heartbeat"


def _json_lines_mentioning(lines: list[str], text: str) -> list[dict]:
    found = []
    for line in list(lines):
        if line.startswith("{") and text in line:
            found.append(json.loads(line))
    return found
