"""Discovery, credentials, the hourly threshold, the thread limit, faults and forced errors
(api.md §1, §2, §7)."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from psa.sandbox.autotask import AutotaskSandbox
from psa.sandbox.site import SandboxRequest
from tests.psa.sandbox import test_server
from tests.psa.sandbox.autotask.conftest import ANCHOR, Caller
from tests.support.waiting import wait_until

certificate = test_server.certificate  # the ConnectWise tests' self-signed certificate fixture


def _get(sandbox, path: str, query: dict | None = None, headers: dict | None = None):
    pairs = list((query or {}).items())
    reply = sandbox.serve(SandboxRequest("GET", path, dict(pairs), pairs, headers or {}, b""))
    return reply.status, reply.raw if reply.raw is not None else reply.body


def test_it_discovers_the_zone_without_auth_in_any_path_case(shared_sandbox):
    for path in ("/atservicesrest/v1.0/zoneInformation", "/ATServicesRest/V1.0/ZoneInformation/"):
        status, body = _get(shared_sandbox, path, {"user": shared_sandbox.auth.username.upper()})
        assert status == 200 and body["url"] == shared_sandbox.zone_url and body["url"].endswith("/")
    assert _get(shared_sandbox, "/atservicesrest/v1.0/zoneInformation", {"user": "who@else"}) == (
        500, {"errors": ["Zone information could not be determined"]})  # fmt: skip
    assert _get(shared_sandbox, "/atservicesrest/versioninformation") == (200, {"apiVersions": ["1.0"]})


def test_it_answers_credential_failures_as_the_service_does(read):
    good = dict(read.headers)
    assert read("GET", "Version", headers={**good, "secret": "wrong"}) == (401, b"")
    assert read("GET", "Version", headers={k: v for k, v in good.items() if k != "secret"}) == (401, b"")
    status, body = read("GET", "Version", headers={**good, "username": "nobody@example.com"})
    assert status == 500 and body["errors"]
    assert read("GET", "Version", headers={**good, "apiintegrationcode": "X"}) == (
        500,
        {"errors": ["IntegrationCode is invalid"]},
    )
    assert read("GET", "Version")[1]["majorVersion"] == 1


def test_it_answers_unknown_users_and_codes_with_an_empty_401_when_configured():
    sandbox = AutotaskSandbox(scale="small", anchor=ANCHOR, unknown_user="401", bad_code="401")
    try:
        call = Caller(sandbox)
        assert call("GET", "Version", headers={**call.headers, "username": "nobody"}) == (401, b"")
        assert call("GET", "Version", headers={**call.headers, "apiintegrationcode": "X"}) == (401, b"")
    finally:
        sandbox.stop()


def test_it_refuses_calls_past_the_hourly_threshold_and_reports_usage():
    sandbox = AutotaskSandbox(scale="small", anchor=ANCHOR, threshold_per_hour=5)
    try:
        call = Caller(sandbox)
        for _ in range(4):
            assert call("GET", "Version")[0] == 200
        assert call("GET", "ThresholdInformation") == (200, {
            "externalRequestThreshold": 5, "requestThresholdTimeframe": 60, "currentTimeframeRequestCount": 5})  # fmt: skip
        status, body = call("GET", "Version")
        assert status == 429 and "threshold" in body["errors"][0]
        assert sandbox.stats["threshold_refused"] == 1
    finally:
        sandbox.stop()


def test_it_runs_at_most_three_calls_per_endpoint_at_once(shared_sandbox):
    # Four calls held inside the Tickets endpoint: the fourth waits for a slot.
    gate, inside = threading.Event(), []
    api = shared_sandbox.api
    original = api.answer

    def held(request, route, actor):
        inside.append(1)
        gate.wait(10)
        return original(request, route, actor)

    api.answer = held  # type: ignore[method-assign]
    try:
        threads = [threading.Thread(target=shared_sandbox.serve, args=(SandboxRequest(
            "GET", "/ATServicesRest/V1.0/Tickets/7000", {}, [], Caller(shared_sandbox).headers, b""),)) for _ in range(4)]  # fmt: skip
        for thread in threads:
            thread.start()
        wait_until(lambda: len(inside) == 3 and shared_sandbox.stats["thread_limit_waits"] == 1)
        assert len(inside) == 3
        gate.set()
        for thread in threads:
            thread.join(10)
        assert len(inside) == 4 and shared_sandbox.stats["thread_peak"] == 3
    finally:
        gate.set()
        del api.answer


def test_it_injects_faults_and_forced_errors(sandbox, call):
    sandbox.faults = "500=1"
    status, body = call("GET", "Version")
    assert status == 500 and "injected" in body["errors"][0]
    sandbox.faults = "reset=1"
    reply = sandbox.serve(SandboxRequest("GET", "/ATServicesRest/V1.0/Version", {}, [], call.headers, b""))
    assert reply.fault == "reset"
    sandbox.faults = None
    sandbox.force_error("PATCH", r"^Tickets$", 500, "Status is not allowed by the workflow.", times=1)
    ticket_id = sandbox.store.ids("Tickets")[0]
    assert call("PATCH", "Tickets", {"id": ticket_id, "title": "x"}) == (
        500,
        {"errors": ["Status is not allowed by the workflow."]},
    )
    assert call("PATCH", "Tickets", {"id": ticket_id, "title": "x"}) == (200, {"itemId": ticket_id})


@pytest.mark.parametrize("path", ["Tickets/entityInformation", "Tickets/entityInformation/fields/"])
def test_it_describes_entities(read, path):
    status, body = read("GET", path)
    assert status == 200
    if path.endswith("fields/"):
        status_field = next(f for f in body["fields"] if f["name"] == "status")
        assert (
            status_field["isPickList"]
            and {"value": "5", "label": "Complete"}.items() <= status_field["picklistValues"][1].items()
        )
        queue = next(f for f in body["fields"] if f["name"] == "queueID")
        assert all(isinstance(v["value"], str) for v in queue["picklistValues"])
    else:
        assert body["info"]["supportsWebhookCallouts"] and not body["info"]["canDelete"]


def test_it_lists_udf_definitions_and_webhook_field_ids(read):
    udfs = read("GET", "Tickets/entityInformation/userDefinedFields")[1]["fields"]
    assert [u["name"] for u in udfs] == ["Customer Reference", "Billing Approved", "Root Cause"]
    fields = read("GET", "TicketWebhookFields/entityInformation/fields")[1]["fields"]
    field_id = next(f for f in fields if f["name"] == "fieldID")
    labels = {v["label"]: v["value"] for v in field_id["picklistValues"]}
    assert "status" in labels and labels["status"].isdigit()


def test_it_adds_the_injected_latency(sandbox, call):
    sandbox.faults = "latency_ms=150"
    started = time.monotonic()
    assert call("GET", "Version")[0] == 200
    assert time.monotonic() - started >= 0.15


def _notes(sandbox, ticket_id: int, text: str) -> list[dict]:
    return [
        n
        for n in sandbox.store.list("TicketNotes")
        if n["ticketID"] == ticket_id and n["description"] == text
    ]


def test_it_carries_out_a_write_and_then_loses_its_answer_when_asked(sandbox, call):
    ticket = sandbox.store.list("Tickets")[0]
    note = {"description": "lost", "noteType": 3, "publish": 1}
    sandbox.lose_answer("POST", r"^Tickets/\d+/Notes$", times=1)
    assert call("GET", f"Tickets/{ticket['id']}")[0] == 200  # only the matching call is hit
    assert call("POST", f"Tickets/{ticket['id']}/Notes", note)[0] == 0  # the connection is reset
    assert len(_notes(sandbox, ticket["id"], "lost")) == 1 and sandbox.stats["answers_lost"] == 1
    assert call("POST", f"Tickets/{ticket['id']}/Notes", note)[0] == 200  # used up: answered again


def test_the_lost_fault_loses_the_answers_of_writes_only(sandbox, call):
    ticket = sandbox.store.list("Tickets")[0]
    sandbox.faults = "lost=1"
    assert call("GET", f"Tickets/{ticket['id']}")[0] == 200
    assert (
        call("POST", f"Tickets/{ticket['id']}/Notes", {"description": "w", "noteType": 3, "publish": 1})[0]
        == 0
    )
    assert len(_notes(sandbox, ticket["id"], "w")) == 1
    sandbox.faults = None
    with pytest.raises(ValueError, match="out of range"):
        sandbox.faults = "lost=1.5"


def test_it_serves_https_with_the_given_certificate(certificate):
    cert, key = certificate
    with AutotaskSandbox(scale="small", anchor=ANCHOR, tls_cert=cert, tls_key=key) as sandbox:
        assert sandbox.zone_url.startswith("https://127.0.0.1:")
        zone = requests.get(sandbox.discovery_url, verify=cert, timeout=10).json()
        assert zone["url"] == sandbox.zone_url
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(sandbox.discovery_url, timeout=10)  # not a trusted CA


def test_the_threshold_refusal_status_is_configurable():
    sandbox = AutotaskSandbox(
        scale="small", anchor=ANCHOR, threshold_per_hour=1, threshold_refusal_status=500
    )
    try:
        call = Caller(sandbox)
        assert call("GET", "Version")[0] == 200
        status, body = call("GET", "Version")
        assert status == 500 and "threshold" in body["errors"][0]
    finally:
        sandbox.stop()


def test_background_activity_edits_through_the_writer():
    sandbox = AutotaskSandbox(scale="small", anchor=ANCHOR, activity_per_second=50)
    stamps = {t["id"]: t["lastActivityDate"] for t in sandbox.store.list("Tickets")}
    with sandbox:
        wait_until(lambda: sandbox.stats["activity_edits"] >= 25, timeout=30)
    assert sandbox.stats["activity_errors"] == 0
    touched = [t for t in sandbox.store.list("Tickets") if stamps.get(t["id"]) != t["lastActivityDate"]]
    assert touched and all(t["lastActivityResourceID"] in sandbox.people.active_resources for t in touched)


def test_other_integrations_share_the_threshold_and_slow_calls_past_half_of_it():
    sandbox = AutotaskSandbox(scale="small", anchor=ANCHOR, threshold_per_hour=10, threshold_latency_ms=50)
    try:
        call = Caller(sandbox)
        assert call("GET", "Version")[0] == 200 and sandbox.stats["threshold_slowed"] == 0
        sandbox.other_integrations_used(7)
        status, body = call("GET", "ThresholdInformation")
        assert body["currentTimeframeRequestCount"] == 9 and sandbox.stats["threshold_slowed"] == 1
        assert call("GET", "Version")[0] == 200
        assert call("GET", "Version")[0] == 429
    finally:
        sandbox.stop()
