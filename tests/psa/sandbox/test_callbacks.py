"""Callbacks: signed POSTs to a tiny local receiver, verified with the product's own verifier."""

from __future__ import annotations

import json

import pytest
import requests

from psa.connectwise.callbacks import callback_parse, key_url_check, signature_verify
from tests.psa.sandbox.receiver import Receiver

TICKETS = "service/tickets"
# Seconds for the sandbox to deliver its callbacks: waited for, so generous for a loaded machine.
CALLBACKS_DEADLINE = 30


@pytest.fixture
def receiver():
    r = Receiver()
    r.url += "/hooks/cw?recordId="
    yield r
    r.close()


def register(api, url: str, kind: str = "ticket", level: str = "owner", object_id: int = 1) -> dict:
    response = api.post(
        "system/callbacks",
        json={
            "url": url,
            "objectId": object_id,
            "type": kind,
            "level": level,
            "description": "TopLeft mirror",
        },
    )
    assert response.status_code == 201
    return response.json()


def test_it_posts_a_signed_callback_for_an_api_patch(fresh_api, fresh_sandbox, receiver):
    registration = register(fresh_api, receiver.url)
    ticket_id = fresh_sandbox.store.ids(TICKETS)[0]
    fresh_api.patch(f"{TICKETS}/{ticket_id}", [{"op": "replace", "path": "summary", "value": "Callback me"}])
    assert fresh_sandbox.wait_for_callbacks(CALLBACKS_DEADLINE)
    [call] = receiver.received
    assert call.path == f"/hooks/cw?recordId={ticket_id}"
    payload = callback_parse(call.body)
    assert (payload.type, payload.action, payload.record_id) == ("ticket", "updated", ticket_id)
    assert payload.entity["summary"] == "Callback me" and payload.record_type == "ServiceTicket"
    raw = json.loads(call.body)
    assert raw["CallbackObjectRecId"] == registration["id"] and raw["CompanyId"] == "sandbox"
    key_url = key_url_check(key_url=payload.key_url, site_url=fresh_sandbox.url)
    signing_key = requests.get(key_url, timeout=5).json()["signing_key"]
    signature_verify(body=call.body, signing_key=signing_key, signature=call.headers["x-content-signature"])
    with pytest.raises(Exception):  # noqa: B017 - any mismatch error will do
        signature_verify(
            body=call.body + b" ", signing_key=signing_key, signature=call.headers["x-content-signature"]
        )


def test_it_sends_added_and_deleted_with_a_null_entity_on_delete(fresh_api, fresh_sandbox, receiver):
    register(fresh_api, receiver.url, kind="opportunity")
    created = fresh_api.post("sales/opportunities", json={"name": "Deal 🤝"}).json()
    fresh_api.delete(f"sales/opportunities/{created['id']}")
    assert fresh_sandbox.wait_for_callbacks(CALLBACKS_DEADLINE)
    actions = sorted(
        (json.loads(c.body)["Action"], json.loads(c.body)["Entity"] is None) for c in receiver.received
    )
    assert actions == [("added", False), ("deleted", True)]


def test_it_honours_skip_callback_in_query_header_and_body(fresh_api, fresh_sandbox, receiver):
    register(fresh_api, receiver.url)
    ids = fresh_sandbox.store.ids(TICKETS)
    op = [{"op": "replace", "path": "summary", "value": "quiet"}]
    fresh_api.patch(f"{TICKETS}/{ids[0]}", op, params={"skipCallback": "true"})
    fresh_api.patch(f"{TICKETS}/{ids[1]}", op, headers={"skipCallback": "true"})
    fresh_api.post(TICKETS, json={"summary": "quiet create", "skipCallback": True})
    fresh_sandbox.store.update(TICKETS, ids[2], {"summary": "quiet store"}, skip_callback=True)
    assert fresh_sandbox.wait_for_callbacks(CALLBACKS_DEADLINE)
    assert receiver.received == []
    assert fresh_sandbox.stats["callbacks_skipped"] == 4
    fresh_api.patch(f"{TICKETS}/{ids[3]}", op)
    assert fresh_sandbox.wait_for_callbacks(CALLBACKS_DEADLINE)
    assert len(receiver.received) == 1


def test_it_matches_levels_and_types(fresh_api, fresh_sandbox, receiver):
    ticket = fresh_sandbox.store.get(TICKETS, fresh_sandbox.store.ids(TICKETS)[0])
    register(fresh_api, receiver.url, level="board", object_id=ticket["board"]["id"] + 1000)  # other board
    register(fresh_api, receiver.url, kind="company")  # other type
    fresh_sandbox.store.update(TICKETS, ticket["id"], {"summary": "nobody listens"})
    assert fresh_sandbox.wait_for_callbacks(CALLBACKS_DEADLINE)
    assert receiver.received == []
    register(fresh_api, receiver.url, level="ticket", object_id=ticket["id"])
    fresh_sandbox.store.update(TICKETS, ticket["id"], {"summary": "one listener"})
    assert fresh_sandbox.wait_for_callbacks(CALLBACKS_DEADLINE)
    assert len(receiver.received) == 1


def test_it_fires_callbacks_for_activity_edits(fresh_api, fresh_sandbox, receiver):
    for kind in ("ticket", "opportunity", "schedule"):
        register(fresh_api, receiver.url, kind=kind)
    for _ in range(30):
        fresh_sandbox.activity.step()
    assert fresh_sandbox.wait_for_callbacks(CALLBACKS_DEADLINE)
    assert fresh_sandbox.stats["activity_edits"] == 30 and fresh_sandbox.stats["activity_errors"] == 0
    assert len(receiver.received) >= 25
    assert fresh_sandbox.stats["callbacks_sent"] == len(receiver.received)


def test_it_retries_a_429_answer_then_gives_up(fresh_api, fresh_sandbox, receiver):
    receiver.status = 429
    register(fresh_api, receiver.url)
    fresh_sandbox.store.update(TICKETS, fresh_sandbox.store.ids(TICKETS)[0], {"summary": "retry"})
    assert fresh_sandbox.wait_for_callbacks(CALLBACKS_DEADLINE)
    assert len(receiver.received) == 3  # first try + 2 retries, like ConnectWise
    assert fresh_sandbox.stats["callbacks_failed"] == 1
