"""/metrics: token protection, and what a scrape reports after real events (a sync run against
the PSA sandbox, signed callbacks, outbox rows, queued Celery messages)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from sync.engine.run import sync_entity
from sync.models import OutboxEntry
from tests.support.callbacks import payload, post
from tests.sync.conftest import sandbox_connection

pytestmark = pytest.mark.usefixtures("fresh_cache")

TOKEN = "scrape-token-for-tests"


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client) -> dict[tuple[str, frozenset], float]:
    """(sample name, its labels) → value, from an authorised GET /metrics."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def sample(samples: dict, metric: str, **labels: object) -> float | None:
    return samples.get((metric, frozenset((k, str(v)) for k, v in labels.items())))


def test_it_does_not_exist_without_a_configured_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
def test_it_refuses_a_scrape_without_the_right_bearer_token(client, metrics_token, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get("/metrics", **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"topleft_" not in response.content


@pytest.mark.redis
def test_it_reports_a_sync_run_its_records_and_psa_requests(client, db, sandbox, metrics_token):
    connection = sandbox_connection(sandbox)
    run = sync_entity(connection=connection, entity="members", tier="core")
    assert run.status == "succeeded" and run.created > 0

    samples = scrape(client)
    by_run = {"connection": connection.pk, "tier": "core"}
    assert sample(samples, "topleft_sync_runs_total", **by_run, status="succeeded") == 1
    assert sample(samples, "topleft_sync_records_total", **by_run, change="created") == run.created
    assert sample(samples, "topleft_sync_records_total", **by_run, change="deleted") is None  # none deleted
    assert sample(samples, "topleft_sync_last_success_timestamp_seconds", **by_run) == pytest.approx(
        run.finished_at.timestamp()
    )
    assert sample(samples, "topleft_sync_lag_seconds", **by_run) >= 0
    # never succeeded yet: the lag counts from the connection's creation, no last-success sample
    assert (
        sample(samples, "topleft_sync_last_success_timestamp_seconds", connection=connection.pk, tier="notes")
        is None
    )
    assert sample(samples, "topleft_sync_lag_seconds", connection=connection.pk, tier="notes") >= 0
    # every attempt the run's client made went through the connection's background budget
    requests = sample(samples, "topleft_psa_requests_total", connection=connection.pk, budget="background")
    assert requests is not None and requests >= run.requests > 0
    assert sample(samples, "topleft_connection_info", connection=connection.pk, name="sandbox") == 1
    sources = {
        dict(labels)["source"]: value
        for (name, labels), value in samples.items()
        if name == "topleft_metrics_source_up"
    }
    assert sources == {"sync_runs": 1, "outbox": 1, "celery_queues": 1, "counters": 1, "beat": 1}


@pytest.mark.redis
def test_it_counts_callbacks_by_outcome_and_rejection_reason_and_shows_the_queued_refresh(
    client, connection, psa_key, metrics_token
):
    assert post(client, connection, payload(), record_id=501).status_code == 202
    not_an_assignment = json.dumps({"id": 9, "type": {"identifier": "C"}})  # a schedule entry of another kind
    assert (
        post(client, connection, payload(Type="schedule", ID=9, Entity=not_an_assignment)).status_code == 202
    )
    assert post(client, connection, payload(), signature=None).status_code == 401
    assert post(client, connection, payload(), signature="AAAA").status_code == 401
    assert post(client, connection, payload(), token="no-such-token").status_code == 404

    samples = scrape(client)
    receipts, rejections = "topleft_webhook_receipts_total", "topleft_webhook_rejections_total"
    assert sample(samples, receipts, connection=connection.pk, outcome="queued") == 1
    assert sample(samples, receipts, connection=connection.pk, outcome="ignored") == 1
    assert sample(samples, rejections, connection=connection.pk, reason="signature_missing") == 1
    assert sample(samples, rejections, connection=connection.pk, reason="signature_mismatch") == 1
    assert sample(samples, rejections, connection="", reason="unknown_url") == 1
    # the accepted callback's refresh task waits in the realtime queue (no worker in this test)
    assert sample(samples, "topleft_celery_queue_length", queue="realtime") >= 1
    assert sample(samples, "topleft_celery_queue_length", queue="notes") == 0


@pytest.mark.redis
def test_it_reports_the_outbox_backlog_and_its_oldest_waiting_entry(client, connection, metrics_token):
    def entry(state: str, age: timedelta) -> None:
        row = OutboxEntry.objects.create(
            connection=connection, action="ticket_status", kind="ticket", psa_id=1, state=state
        )
        OutboxEntry.objects.filter(pk=row.pk).update(created_at=timezone.now() - age)

    entry("pending", timedelta(minutes=20))
    entry("pending", timedelta(minutes=1))
    entry("failed", timedelta(hours=2))
    entry("done", timedelta(hours=3))

    samples = scrape(client)
    entries = "topleft_outbox_entries"
    assert sample(samples, entries, connection=connection.pk, state="pending") == 2
    assert sample(samples, entries, connection=connection.pk, state="failed") == 1
    assert sample(samples, entries, connection=connection.pk, state="done") is None
    oldest = sample(samples, "topleft_outbox_oldest_waiting_age_seconds", connection=connection.pk)
    assert 20 * 60 <= oldest < 21 * 60


@pytest.mark.redis
def test_it_still_answers_with_the_database_parts_when_redis_is_unreachable(
    client, connection, metrics_token, settings
):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    samples = scrape(client)
    up = "topleft_metrics_source_up"
    assert sample(samples, up, source="counters") == 0
    assert sample(samples, up, source="celery_queues") == 0
    assert sample(samples, up, source="sync_runs") == 1 and sample(samples, up, source="outbox") == 1
    assert sample(samples, "topleft_connection_info", connection=connection.pk, name="acme") == 1
