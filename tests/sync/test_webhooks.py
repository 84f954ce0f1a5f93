import json

import pytest
import responses
from django.core.cache import cache
from django.utils import timezone

from boards.models import TicketAssignment
from psa.connectwise.callbacks import signature_compute
from psa.connectwise.webhook import SCHEDULE_HINT, record_version
from sync import refresh_queue
from sync.echo import echo_remember
from tests.support.callbacks import KEY_URL, SIGNING_KEY, changed_just_now, payload, post
from tests.support.clock import psa_time

pytestmark = pytest.mark.usefixtures("fresh_cache")


def test_it_accepts_a_signed_callback_and_enqueues_one_refresh_before_answering(
    client, connection, psa_key, enqueued
):
    # The receiver writes nothing to the database on this path, so there is no commit to wait
    # for: the refresh is queued before the 202, which therefore means "durably queued".
    response = post(client, connection, payload(), record_id=501)
    assert response.status_code == 202 and response.json()["queued"] is True
    assert enqueued == [{"connection_id": connection.pk, "countdown": 0}]
    [item] = refresh_queue.take_items(connection.pk).values()
    assert (item.kind, item.psa_id, item.hints) == ("ticket", 501, ("ServiceTicket",))


@pytest.mark.parametrize("signature", [None, "", "AAAA", "sign-with-wrong-key"])
def test_it_rejects_bad_or_missing_signatures(
    client, connection, psa_key, enqueued, signature, django_capture_on_commit_callbacks
):
    raw = payload()
    if signature == "sign-with-wrong-key":
        signature = signature_compute(body=raw, signing_key="another key")
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, connection, raw, signature=signature)
    assert response.status_code == 401
    assert enqueued == []


def test_it_rejects_a_tampered_body(
    client, connection, psa_key, enqueued, django_capture_on_commit_callbacks
):
    raw = payload()
    signature = signature_compute(body=raw, signing_key=SIGNING_KEY)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, connection, raw.replace(b'"ID": 501', b'"ID": 502'), signature=signature)
    assert response.status_code == 401
    assert enqueued == []


@pytest.mark.parametrize(
    "key_url",
    [
        "https://attacker.example.com/key",
        "http://na.myconnectwise.net/key",
        "http://127.0.0.1:9/key",
    ],
)
def test_it_rejects_a_key_url_off_the_psa_host_without_calling_it(client, connection, enqueued, key_url):
    raw = payload(Metadata={"key_url": key_url})
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(key_url, json={"signing_key": SIGNING_KEY})
        response = post(
            client, connection, raw, signature=signature_compute(body=raw, signing_key=SIGNING_KEY)
        )
        assert len(rsps.calls) == 0
    assert response.status_code == 403
    assert enqueued == []


def test_it_rejects_a_redirecting_key_url(client, connection, enqueued):
    raw = payload()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(KEY_URL, status=302, headers={"Location": "https://attacker.example.com/key"})
        rsps.get("https://attacker.example.com/key", json={"signing_key": SIGNING_KEY})
        response = post(client, connection, raw)
        assert [c.request.url for c in rsps.calls] == [KEY_URL]
    assert response.status_code == 503
    assert enqueued == []


def test_it_answers_404_for_an_unknown_token(client, connection, enqueued):
    response = post(client, connection, payload(), token="nope")
    assert response.status_code == 404
    assert enqueued == []


@pytest.mark.parametrize("token", ["%00", "ab%00cd", "x" * 500])
def test_it_answers_404_for_a_malformed_token(client, connection, enqueued, token):
    response = post(client, connection, payload(), token=token)
    assert response.status_code == 404  # a NUL byte reached PostgreSQL and answered 500
    assert enqueued == []


def test_it_answers_413_for_a_body_over_one_megabyte(client, connection, enqueued):
    raw = payload(Padding="x" * (1024 * 1024))
    response = post(client, connection, raw)
    assert response.status_code == 413
    assert enqueued == []


@pytest.mark.parametrize("raw", [b"not json", b"[]", b"{}", payload(ID="x"), payload(Metadata=None)])
def test_it_answers_400_for_malformed_bodies(client, connection, psa_key, enqueued, raw):
    response = post(client, connection, raw)
    assert response.status_code == 400
    assert enqueued == []


def test_it_answers_400_when_record_id_and_body_disagree(client, connection, psa_key, enqueued):
    assert post(client, connection, payload(), record_id=999).status_code == 400
    assert enqueued == []


def test_it_only_accepts_post(client, connection):
    assert client.get(f"/hooks/connectwise/{connection.webhook_token}/").status_code == 405


def test_it_ignores_types_it_does_not_mirror(
    client, connection, psa_key, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, connection, payload(Type="contact"))
    assert response.status_code == 202 and response.json()["queued"] is False
    assert enqueued == []


def test_it_turns_a_schedule_callback_into_a_refresh_of_its_ticket(
    client, connection, psa_key, enqueued, django_capture_on_commit_callbacks
):
    entity = json.dumps({"id": 77, "objectId": 501, "type": {"identifier": "S"}})
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, connection, payload(Type="schedule", ID=77, Entity=entity)).status_code == 202
        # a deleted entry carries no Entity: the mirror knows its ticket
        TicketAssignment.objects.create(connection=connection, psa_id=78, ticket_psa_id=502)
        assert (
            post(
                client, connection, payload(Type="schedule", ID=78, Entity=None, Action="deleted")
            ).status_code
            == 202
        )
        # a schedule entry that is not a ticket assignment (type C, a meeting ...) is ignored
        other = json.dumps({"id": 79, "objectId": 5, "type": {"identifier": "C"}})
        assert (
            post(client, connection, payload(Type="schedule", ID=79, Entity=other)).json()["queued"] is False
        )
    items = refresh_queue.take_items(connection.pk)
    assert sorted(items) == [("ticket", 501), ("ticket", 502)]
    assert {item.hints for item in items.values()} == {(SCHEDULE_HINT,)}  # assignments are re-read


def test_it_coalesces_a_burst_into_one_enqueue(
    client, connection, psa_key, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(20):
            assert post(client, connection, payload()).status_code == 202
    assert len(enqueued) == 1
    assert refresh_queue.take_items(connection.pk)[("ticket", 501)].count == 20  # merged into one record
    assert len(psa_key.calls) == 1  # the signing key was fetched once, then cached


def test_it_ignores_the_echo_of_its_own_push(
    client, connection, psa_key, enqueued, django_capture_on_commit_callbacks
):
    ours = {"id": 501, "_info": {"lastUpdated": changed_just_now()}}
    echo_remember(connection_id=connection.pk, kind="ticket", psa_id=501, version=record_version(ours))
    later = {"id": 501, "_info": {"lastUpdated": psa_time(timezone.now(), seconds=1)}}
    with django_capture_on_commit_callbacks(execute=True):
        echo = post(client, connection, payload(Entity=json.dumps(ours)))
        someone_else = post(client, connection, payload(Entity=json.dumps(later)))
    assert echo.json()["queued"] is False
    assert someone_else.json()["queued"] is True
    assert refresh_queue.take_items(connection.pk)[("ticket", 501)].count == 1


def test_it_refetches_a_rotated_key_once(client, connection, enqueued, django_capture_on_commit_callbacks):
    raw = payload()
    with responses.RequestsMock() as rsps:
        rsps.get(KEY_URL, json={"signing_key": "old-key"})
        rsps.get(KEY_URL, json={"signing_key": SIGNING_KEY})
        cache.clear()
        from psa.connectwise.callbacks import signing_key_fetch

        signing_key_fetch(
            connection_id=connection.pk, key_url=KEY_URL, site_url=connection.credentials["site_url"]
        )
        with django_capture_on_commit_callbacks(execute=True):
            response = post(client, connection, raw)
    assert response.status_code == 202
    assert len(enqueued) == 1


def test_it_never_logs_the_url_token(client, connection, psa_key, enqueued, caplog):
    caplog.set_level("DEBUG")
    post(client, connection, payload(), token="an-unknown-token")
    post(client, connection, payload(), signature="AAAA")
    post(client, connection, b"not json")
    post(client, connection, payload(Padding="x" * (1024 * 1024)))
    client.get(f"/hooks/connectwise/{connection.webhook_token}/")
    post(client, connection, payload())
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert f"connection {connection.pk}" in logged  # the connection is named instead
    assert connection.webhook_token not in logged and "an-unknown-token" not in logged


def test_it_drops_a_replayed_delivery_and_callbacks_about_old_changes(client, connection, psa_key, enqueued):
    raw = payload()
    assert post(client, connection, raw).json()["queued"] is True
    replayed = post(client, connection, raw)  # the same signed bytes, posted again
    assert replayed.status_code == 202 and replayed.json()["queued"] is False
    assert "replay" in replayed.json()["detail"]
    stale = {"id": 501, "_info": {"lastUpdated": psa_time(timezone.now(), hours=-7)}}
    old = post(client, connection, payload(Entity=json.dumps(stale)))
    assert old.json()["queued"] is False and "older than" in old.json()["detail"]
    assert len(enqueued) == 1 and refresh_queue.take_items(connection.pk)[("ticket", 501)].count == 1
