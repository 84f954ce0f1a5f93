"""Requests as third-party ConnectWise clients send them (pyconnectwise, connectwise-rest,
connectpyse, ConnectPyse-Manage, ConnectWiseManageAPI), replayed with plain requests: each test
is a place where one of those clients failed against the sandbox while the real API serves it."""

from __future__ import annotations

import base64

import requests

from tests.psa.sandbox.contract import problems

TICKETS = "service/tickets"
# Member.authenticationServiceType in the 2025.1 spec (pydantic clients check it as a Literal)
AUTHENTICATION_SERVICES = {"AuthAnvil", "GoogleAuthenticator", "Email"}


def basic(user: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(user.encode()).decode(), "clientId": "x"}


# --- data that typed clients parse ------------------------------------------------------------


def test_it_gives_members_only_an_authentication_service_type_of_the_spec(api):
    members = api.get("system/members", params={"pageSize": 1000}).json()
    kinds = {m["authenticationServiceType"] for m in members if "authenticationServiceType" in m}
    assert kinds and kinds <= AUTHENTICATION_SERVICES


def test_it_fills_a_ticket_posted_with_a_summary_only_like_connectwise(fresh_api, fresh_sandbox):
    # ConnectPyse-Manage's Ticket model requires priority: a bare POST must come back with one.
    store = fresh_sandbox.store
    company = store.list("company/companies")[0]
    response = fresh_api.post(TICKETS, json={"summary": "Printer down", "company": {"id": company["id"]}})
    assert response.status_code == 201, response.text
    ticket = response.json()
    default_priority = next(p for p in store.list("service/priorities") if p["defaultFlag"])
    assert ticket["priority"]["id"] == default_priority["id"]
    assert ticket["source"]["id"] == next(s for s in store.list("service/sources") if s["defaultFlag"])["id"]
    assert (
        ticket["serviceLocation"]["id"]
        == next(loc for loc in store.list("service/locations") if loc["defaultFlag"])["id"]
    )
    assert (ticket["severity"], ticket["impact"]) == ("Medium", "Medium")
    board = store.get("service/boards", ticket["board"]["id"])
    assert ticket["location"] == board["location"] and ticket["department"] == board["department"]
    assert problems("Ticket", ticket) == []


def test_it_keeps_the_priority_a_posted_ticket_names(fresh_api, fresh_sandbox):
    chosen = fresh_sandbox.store.list("service/priorities")[0]
    response = fresh_api.post(
        TICKETS,
        json={"summary": "Urgent", "priority": {"id": chosen["id"]}, "type": None, "status": None},
    )
    assert response.status_code == 201, response.text
    assert response.json()["priority"]["id"] == chosen["id"]


def test_it_names_a_posted_ticket_assignment_after_its_ticket(fresh_api, fresh_sandbox):
    ticket = fresh_sandbox.store.list(TICKETS)[0]
    member = fresh_sandbox.store.list("system/members")[0]
    response = fresh_api.post(
        "schedule/entries",
        json={
            "objectId": ticket["id"],
            "type": {"identifier": "S"},
            "member": {"id": member["id"]},
            "dateStart": "2026-12-07T10:00:00Z",
            "dateEnd": "2026-12-07T11:30:00Z",
        },
    )
    assert response.status_code == 201, response.text
    entry = response.json()
    assert entry["name"] == ticket["summary"]
    assert entry["status"]["name"] == "Firm"  # the default schedule status
    assert entry["hours"] == 1.5
    assert problems("ScheduleEntry", entry) == []


# --- how clients address and authenticate -----------------------------------------------------


def test_it_matches_the_company_id_of_basic_auth_ignoring_case(api, sandbox):
    c = sandbox.credentials
    url = api.base + TICKETS
    upper = requests.get(
        url, headers=basic(f"{c['company_id'].upper()}+{c['public_key']}:{c['private_key']}")
    )
    assert upper.status_code == 200
    wrong_key = requests.get(
        url, headers=basic(f"{c['company_id']}+{c['public_key']}:{c['private_key'].upper()}")
    )
    assert wrong_key.status_code == 401


def test_it_answers_the_codebase_and_api_path_in_any_case(api, sandbox):
    response = api.session.get(
        f"{sandbox.url}/V4_6_RELEASE/APIs/3.0/service/tickets", params={"pageSize": 10}
    )
    assert response.status_code == 200
    assert len(response.json()) == 10
    assert "/v4_6_release/apis/3.0/service/tickets?" in response.links["next"]["url"]


def test_it_answers_paths_with_a_trailing_slash(api):
    # connectpyse builds every collection URL with one: .../service/tickets/
    response = api.get(f"{TICKETS}/", params={"pageSize": 3})
    assert response.status_code == 200 and len(response.json()) == 3
