"""`POST /hooks/autotask/<token>/` through the neutral receiver: the answers, nothing queued for
a refused delivery, replays dropped, a signed deactivation seen on the connection."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from psa.autotask.webhook import signature_compute
from sync import refresh_queue
from sync.models import Connection
from tests.support.clock import psa_time

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]

SECRET = "a-connection-secret-of-more-than-32-characters"


@pytest.fixture
def connection():
    return Connection.objects.create(
        name="at",
        provider="autotask",
        credentials={"username": "api@x.example", "secret": "s", "integration_code": "CODE"},
        callback_secret=SECRET,
    )


@pytest.fixture
def reensures(monkeypatch):
    calls = []
    monkeypatch.setattr(
        "sync.callbacks_health.callbacks_reensure.apply_async", lambda args, queue: calls.append(args)
    )
    return calls


def delivery(**overrides) -> bytes:
    body = {
        "Action": "Update",
        "Guid": "8f0c7a1e",
        "EntityType": "Ticket",
        "Id": 7001,
        "Fields": {"Status": "5"},
        "EventTime": psa_time(datetime.now(UTC), seconds=-5),
        "SequenceNumber": 1,
        "PersonID": 29682900,
    }
    body.update(overrides)
    return json.dumps(body, separators=(",", ":")).encode()


def post(client, connection, raw: bytes, *, signature: str | None = "sign"):
    headers = {}
    if signature == "sign":
        signature = signature_compute(body=raw, secret=SECRET)
    if signature is not None:
        headers["HTTP_X_HOOK_SIGNATURE"] = signature
    return client.post(
        f"/hooks/autotask/{connection.webhook_token}/", data=raw, content_type="application/json", **headers
    )


def test_a_signed_delivery_queues_one_refresh(client, connection, enqueued):
    response = post(client, connection, delivery())
    assert response.status_code == 202 and response.json()["queued"] is True
    [item] = refresh_queue.take_items(connection.pk).values()
    assert (item.kind, item.psa_id) == ("ticket", 7001)


@pytest.mark.parametrize("signature", [None, "", "sha1=AAAA", "sha1=fXzMZCUTsLvdjkgWHwfViWmt5Oo="])
def test_a_missing_or_wrong_signature_is_401_and_queues_nothing(client, connection, enqueued, signature):
    assert post(client, connection, delivery(), signature=signature).status_code == 401
    assert enqueued == [] and refresh_queue.take_items(connection.pk) == {}


@pytest.mark.parametrize("raw", [b"{not json", b"[]", b'{"Action":"Update","EntityType":"Ticket"}'])
def test_a_signed_but_malformed_body_is_400(client, connection, enqueued, raw):
    assert post(client, connection, raw).status_code == 400
    assert enqueued == []


def test_an_unknown_token_or_provider_is_404(client, connection, enqueued):
    raw = delivery()
    headers = {"HTTP_X_HOOK_SIGNATURE": signature_compute(body=raw, secret=SECRET)}
    assert (
        client.post("/hooks/autotask/nope/", data=raw, content_type="application/json", **headers).status_code
        == 404
    )
    assert (
        client.post(
            f"/hooks/connectwise/{connection.webhook_token}/",
            data=raw,
            content_type="application/json",
            **headers,
        ).status_code
        == 404
    )
    assert enqueued == []


def test_a_body_over_1_mb_is_413(client, connection, enqueued):
    raw = delivery(Fields={"Description": "x" * (1024 * 1024)})
    assert post(client, connection, raw).status_code == 413 and enqueued == []


def test_a_replayed_delivery_is_dropped(client, connection, enqueued):
    raw = delivery(SequenceNumber=42)
    assert post(client, connection, raw).json()["queued"] is True
    again = post(client, connection, raw)
    assert again.status_code == 202 and again.json()["queued"] is False and "replay" in again.json()["detail"]
    old = delivery(SequenceNumber=43, EventTime="2020-01-01T00:00:00Z")
    assert post(client, connection, old).json()["queued"] is False
    assert len(enqueued) == 1


def test_a_signed_deactivation_marks_the_registration_lost_and_reensures(
    client, connection, enqueued, reensures, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, connection, delivery(Action="Deactivated", Guid="w-1", Id=None))
    assert response.status_code == 202 and enqueued == []
    connection.refresh_from_db()
    assert connection.callback_health["state"] == "lost" and "w-1" in connection.callback_health["reason"]
    assert reensures == [(connection.pk,)]


def test_an_unsigned_deactivation_changes_nothing(client, connection, enqueued, reensures):
    assert post(client, connection, delivery(Action="Deactivated"), signature=None).status_code == 401
    connection.refresh_from_db()
    assert connection.callback_health == {} and reensures == []
