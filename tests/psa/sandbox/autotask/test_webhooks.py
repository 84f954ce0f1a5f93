"""Webhook entities and signed callouts (webhooks.md)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from psa.sandbox.autotask import AutotaskSandbox, DeliveryPolicy
from psa.sandbox.autotask.signing import dotnet_json, signature
from tests.psa.sandbox.autotask.conftest import ANCHOR, Caller
from tests.psa.sandbox.receiver import Receiver
from tests.support.waiting import wait_until

SECRET = "a-secret-of-32-characters-or-so!"
FAST = DeliveryPolicy(timeout_s=5, retry_delay_s=0.01, attempts=5, deactivate_after=3)


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture
def hooked():
    sandbox = AutotaskSandbox(scale="small", seed=1, anchor=ANCHOR, webhook_policy=FAST)
    yield sandbox, Caller(sandbox)
    sandbox.stop()


def field_ids(call: Caller, entity: str) -> dict[str, int]:
    fields = call("GET", f"{entity}WebhookFields/entityInformation/fields")[1]["fields"]
    picklist = next(f for f in fields if f["name"] == "fieldID")["picklistValues"]
    return {v["label"]: int(v["value"]) for v in picklist}


def make_webhook(
    call: Caller, receiver: Receiver, fields: dict[str, tuple[bool, bool]], entity: str = "Ticket"
) -> int:
    status, body = call("POST", f"{entity}Webhooks", {
        "isActive": True, "name": "TopLeft", "webhookUrl": f"{receiver.url}/hook", "deactivationUrl": f"{receiver.url}/off",
        "secretKey": SECRET, "isSubscribedToCreateEvents": True, "isSubscribedToUpdateEvents": True,
        "isSubscribedToDeleteEvents": True, "sendThresholdExceededNotification": False})  # fmt: skip
    assert status == 200, body
    webhook_id = body["itemId"]
    ids = field_ids(call, entity)
    for name, (subscribed, display) in fields.items():
        status, body = call("POST", f"{entity}Webhooks/{webhook_id}/Fields", {
            "webhookID": webhook_id, "fieldID": ids[name], "isSubscribedField": subscribed, "isDisplayAlwaysField": display})  # fmt: skip
        assert status == 200, body
    return webhook_id


def verify(received) -> dict:
    expected = base64.b64encode(hmac.new(SECRET.encode(), received.body, hashlib.sha1).digest()).decode()
    assert received.headers["x-hook-signature"] == f"sha1={expected}"
    return json.loads(received.body)


def test_it_signs_the_documented_test_vectors():
    create = {"Action": "Create", "Guid": "g", "EntityType": "Ticket", "Id": 1, "Fields": {},
              "EventTime": "2025-01-01T00:00:00Z", "SequenceNumber": 1, "PersonID": 2}  # fmt: skip
    assert signature(dotnet_json(create), "secret123") == "sha1=fXzMZCUTsLvdjkgWHwfViWmt5Oo="
    update = {**create, "Action": "Update", "Fields": {"Title": "A & B café"}, "SequenceNumber": 2}
    assert b'"A \\u0026 B caf\\u00E9"' in dotnet_json(update)
    assert signature(dotnet_json(update), "secret123") == "sha1=YmBh70ciyrSFCeE706Ljbxr4M8A="


def test_a_webhook_is_ready_once_it_has_a_field_and_refuses_duplicates(hooked, receiver):
    sandbox, call = hooked
    webhook_id = make_webhook(call, receiver, {})
    webhook = call("GET", f"TicketWebhooks/{webhook_id}")[1]["item"]
    assert webhook["isActive"] and not webhook["isReady"] and webhook["webhookGUID"]
    make_webhook_field = field_ids(call, "Ticket")["status"]
    call("POST", f"TicketWebhooks/{webhook_id}/Fields", {"webhookID": webhook_id, "fieldID": make_webhook_field,
                                                        "isSubscribedField": True, "isDisplayAlwaysField": False})  # fmt: skip
    assert call("GET", f"TicketWebhooks/{webhook_id}")[1]["item"]["isReady"]
    status, body = call("POST", "TicketWebhooks", {**{k: webhook[k] for k in (
        "name", "webhookUrl", "deactivationUrl", "secretKey", "isActive", "isSubscribedToUpdateEvents")},
        "sendThresholdExceededNotification": False})  # fmt: skip
    assert status == 500 and "same URL" in body["errors"][0]


def test_it_calls_out_on_subscribed_changes_only_signed_over_the_exact_bytes(hooked, receiver):
    sandbox, call = hooked
    webhook_id = make_webhook(call, receiver, {"status": (True, False), "ticketNumber": (False, True)})
    guid = call("GET", f"TicketWebhooks/{webhook_id}")[1]["item"]["webhookGUID"]
    ticket = next(t for t in sandbox.store.list("Tickets") if t["status"] == 1)
    call("PATCH", "Tickets", {"id": ticket["id"], "title": "no callout for this"})
    call("PATCH", "Tickets", {"id": ticket["id"], "status": 8})
    assert sandbox.wait_for_callbacks(10)
    [update] = receiver.on("/hook")
    payload = verify(update)
    assert payload == {"Action": "Update", "Guid": guid, "EntityType": "Ticket", "Id": ticket["id"],
                       "Fields": {"Status": "8", "TicketNumber": ticket["ticketNumber"]},
                       "EventTime": payload["EventTime"], "SequenceNumber": 1, "PersonID": 29682885}  # fmt: skip
    status, body = call(
        "POST",
        "Tickets",
        {"title": "café & <b>", "companyID": ticket["companyID"], "status": 1, "priority": 2},
    )
    assert sandbox.wait_for_callbacks(10)
    create = verify(receiver.on("/hook")[1])
    assert (create["Action"], create["Id"], create["SequenceNumber"]) == ("Create", body["itemId"], 2)
    notes_before = call("POST", "TicketNotes/query/count", {"filter": []})[1]["queryCount"]
    sandbox.activity.ticket_delete()  # the UI deletes a ticket (the API cannot)
    assert sandbox.wait_for_callbacks(10)
    assert call("POST", "TicketNotes/query/count", {"filter": []})[1]["queryCount"] < notes_before
    delete = verify(receiver.on("/hook")[2])
    assert (delete["Action"], delete["Fields"], delete["SequenceNumber"]) == ("Delete", {}, 3)
    assert sandbox.store.get("Tickets", delete["Id"]) is None
    assert call.ids("TicketNotes", {"op": "eq", "field": "ticketID", "value": delete["Id"]}) == []
    assert call.ids("DeletedTicketLogs", {"op": "eq", "field": "ticketID", "value": delete["Id"]})


def test_an_excluded_resource_does_not_hear_its_own_writes(hooked, receiver):
    sandbox, call = hooked
    webhook_id = make_webhook(call, receiver, {"priority": (True, False)})
    ours = sandbox.people.active_resources[0]
    assert (
        call(
            "POST",
            f"TicketWebhooks/{webhook_id}/ExcludedResources",
            {"webhookID": webhook_id, "resourceID": ours},
        )[0]
        == 200
    )
    ticket = sandbox.store.list("Tickets")[0]
    as_us = {**call.headers, "impersonationresourceid": str(ours)}
    call(
        "PATCH",
        "Tickets",
        {"id": ticket["id"], "priority": 3 if ticket["priority"] != 3 else 1},
        headers=as_us,
    )
    call("PATCH", "Tickets", {"id": ticket["id"], "priority": 4})
    assert sandbox.wait_for_callbacks(10)
    assert [verify(r)["PersonID"] for r in receiver.on("/hook")] == [29682885]


def test_it_retries_drops_into_the_error_log_and_deactivates_after_consecutive_failures(hooked, receiver):
    sandbox, call = hooked
    webhook_id = make_webhook(call, receiver, {"title": (True, False)})
    receiver.statuses.extend([500, 503, 200])  # the first event succeeds on its third attempt
    ticket = sandbox.store.list("Tickets")[0]
    call("PATCH", "Tickets", {"id": ticket["id"], "title": "one"})
    assert sandbox.wait_for_callbacks(10)
    assert [json.loads(r.body)["SequenceNumber"] for r in receiver.on("/hook")] == [1, 1, 1]
    receiver.statuses.extend([500] * 15)  # three events, five attempts each: all dropped
    for title in ("two", "three", "four"):
        call("PATCH", "Tickets", {"id": ticket["id"], "title": title})
    assert sandbox.wait_for_callbacks(10)
    logs = call(
        "POST",
        "WebhookEventErrorLogs/query",
        {"filter": [{"op": "eq", "field": "ticketWebhookID", "value": webhook_id}]},
    )[1]["items"]
    assert [log["sequenceNumber"] for log in logs] == [2, 3, 4]
    assert call("GET", f"TicketWebhooks/{webhook_id}")[1]["item"]["isActive"] is False
    off = wait_until(lambda: receiver.on("/off"))
    assert verify(off[0])["Action"] == "Deactivated"
    call("PATCH", "Tickets", {"id": ticket["id"], "title": "five"})
    assert sandbox.wait_for_callbacks(10)
    assert len([r for r in receiver.on("/hook") if json.loads(r.body)["Action"] != "Deactivated"]) == 18


def test_note_and_company_webhooks_fire_and_a_deleted_webhook_calls_its_deactivation_url(hooked, receiver):
    sandbox, call = hooked
    make_webhook(call, receiver, {"description": (True, False)}, entity="TicketNote")
    company_hook = make_webhook(call, receiver, {"phone": (True, False)}, entity="Company")
    ticket = sandbox.store.list("Tickets")[0]
    call("POST", f"Tickets/{ticket['id']}/Notes", {"description": "hello", "noteType": 3, "publish": 1})
    company = sandbox.store.list("Companies")[0]
    call("PATCH", "Companies", {"id": company["id"], "phone": "+1 555 000 0000"})
    assert sandbox.wait_for_callbacks(10)
    kinds = sorted((p["EntityType"], p["Action"]) for p in map(verify, receiver.on("/hook")))
    assert kinds == [("Company", "Update"), ("TicketNote", "Create")]
    assert call("DELETE", f"CompanyWebhooks/{company_hook}")[0] == 200
    assert (
        call(
            "POST",
            "CompanyWebhookFields/query",
            {"filter": [{"op": "eq", "field": "webhookID", "value": company_hook}]},
        )[1]["items"]
        == []
    )
    assert wait_until(lambda: receiver.on("/off"))


def test_activity_edits_fire_ticket_callouts(hooked, receiver):
    sandbox, call = hooked
    make_webhook(call, receiver, {"status": (True, False), "priority": (True, False), "queueID": (True, False),
                                  "assignedResourceID": (True, False)})  # fmt: skip
    for _ in range(40):
        sandbox.activity.step()
    assert sandbox.wait_for_callbacks(10)
    assert sandbox.stats["activity_errors"] == 0 and sandbox.stats["activity_edits"] == 40
    payloads = [verify(r) for r in receiver.on("/hook")]
    assert payloads and {p["EntityType"] for p in payloads} == {"Ticket"}
    assert [p["SequenceNumber"] for p in payloads] == list(range(1, len(payloads) + 1))


def test_udf_fields_subscribe_a_webhook_and_children_are_unique(hooked, receiver):
    sandbox, call = hooked
    webhook_id = make_webhook(call, receiver, {"status": (False, True)})
    status_id = field_ids(call, "Ticket")["status"]
    duplicate = {
        "webhookID": webhook_id,
        "fieldID": status_id,
        "isSubscribedField": True,
        "isDisplayAlwaysField": False,
    }
    assert call("POST", f"TicketWebhooks/{webhook_id}/Fields", duplicate)[0] == 500
    udf_fields = call("GET", "TicketWebhookUdfFields/entityInformation/fields")[1]["fields"]
    udf_ids = {
        v["label"]: int(v["value"])
        for v in next(f for f in udf_fields if f["name"] == "udfFieldID")["picklistValues"]
    }
    body = {
        "webhookID": webhook_id,
        "udfFieldID": udf_ids["Root Cause"],
        "isSubscribedField": True,
        "isDisplayAlwaysField": False,
    }
    assert call("POST", f"TicketWebhooks/{webhook_id}/UdfFields", body)[0] == 200
    ticket = sandbox.store.list("Tickets")[0]
    call(
        "PATCH", "Tickets", {"id": ticket["id"], "priority": 4 if ticket["priority"] != 4 else 3}
    )  # not subscribed
    call(
        "PATCH",
        "Tickets",
        {"id": ticket["id"], "userDefinedFields": [{"name": "Root Cause", "value": "DNS"}]},
    )
    assert sandbox.wait_for_callbacks(10)
    [payload] = [verify(r) for r in receiver.on("/hook")]
    assert payload["Fields"] == {"Root Cause": "DNS", "Status": str(ticket["status"])}


def test_contact_webhooks_fire_on_contact_changes(hooked, receiver):
    # webhooks.md §1: ContactWebhooks is one of the five kinds (n8n-nodes-autotask offers it).
    sandbox, call = hooked
    make_webhook(call, receiver, {"lastName": (True, False), "firstName": (False, True)}, entity="Contact")
    contact = sandbox.store.list("Contacts")[0]
    renamed = {"id": contact["id"], "lastName": "Renamed"}
    assert call("PATCH", f"Companies/{contact['companyID']}/Contacts", renamed)[0] == 200
    assert sandbox.wait_for_callbacks(10)
    (payload,) = map(verify, receiver.on("/hook"))
    assert (payload["EntityType"], payload["Action"], payload["Id"]) == ("Contact", "Update", contact["id"])
    assert payload["Fields"] == {"LastName": "Renamed", "FirstName": contact["firstName"]}
    info = call("GET", "Contacts/entityInformation")[1]["info"]
    assert info["supportsWebhookCallouts"] is True
