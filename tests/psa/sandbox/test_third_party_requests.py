"""Requests as third-party ConnectWise clients send them (pyconnectwise, connectwise-rest,
connectpyse, ConnectPyse-Manage, ConnectWiseManageAPI), replayed with plain requests: each test
is a place where one of those clients failed against the sandbox while the real API serves it."""

from __future__ import annotations

import base64

import requests

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
