"""The receiver with Redis unreachable: a signed callback is never lost and never a 500. It is
kept in PostgreSQL and answered 2xx, or answered a retryable 503 when PostgreSQL fails too; the
realtime sweeper hands stored refreshes to the queue once Redis is back."""

import pytest
from django.db import DatabaseError

from sync import refresh_queue
from sync.models import PendingRefresh
from sync.refresh_fallback import pending_refresh_replay
from tests.support.callbacks import payload, post
from tests.support.outages import REDIS_DOWN

pytestmark = pytest.mark.usefixtures("fresh_cache")


def test_it_keeps_the_refresh_in_postgresql_and_answers_202_while_redis_is_down(
    client, connection, psa_key, enqueued
):
    with REDIS_DOWN:
        response = post(client, connection, payload(), record_id=501)
    assert response.status_code == 202 and response.json()["queued"] is True
    stored = PendingRefresh.objects.get()
    assert (stored.connection_id, stored.kind, stored.psa_id, stored.hint) == (
        connection.pk,
        "ticket",
        501,
        "ServiceTicket",
    )
    assert enqueued == []  # the broker is Redis too: nothing was sent


def test_it_still_verifies_the_signature_while_redis_is_down(client, connection, psa_key, enqueued):
    with REDIS_DOWN:
        response = post(client, connection, payload(), signature="AAAA")
    assert response.status_code == 401
    assert not PendingRefresh.objects.exists()


def test_it_answers_a_retryable_503_when_postgresql_fails_too(client, connection, psa_key, monkeypatch):
    def database_down(**kw):
        raise DatabaseError("server closed the connection unexpectedly")

    monkeypatch.setattr(PendingRefresh.objects, "create", database_down)
    with REDIS_DOWN:
        response = post(client, connection, payload(), record_id=501)
    assert response.status_code == 503


def test_it_replays_stored_refreshes_once_redis_is_back(client, connection, psa_key):
    with REDIS_DOWN:
        for record_id in (501, 502, 501):
            assert post(client, connection, payload(ID=record_id)).status_code == 202
        assert pending_refresh_replay(enqueue=lambda **kw: None) == 0  # still down: all kept
    assert PendingRefresh.objects.count() == 3
    drains = []
    assert pending_refresh_replay(enqueue=lambda **kw: drains.append(kw)) == 3
    assert not PendingRefresh.objects.exists()
    assert drains == [{"connection_id": connection.pk, "countdown": 0}]  # coalesced into one drain
    items = refresh_queue.take_items(connection.pk)
    assert sorted(items) == [("ticket", 501), ("ticket", 502)]
