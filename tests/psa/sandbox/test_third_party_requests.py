"""Requests as third-party ConnectWise clients send them (pyconnectwise, connectwise-rest,
connectpyse, ConnectPyse-Manage, ConnectWiseManageAPI), replayed with plain requests: each test
is a place where one of those clients failed against the sandbox while the real API serves it."""

from __future__ import annotations

# Member.authenticationServiceType in the 2025.1 spec (pydantic clients check it as a Literal)
AUTHENTICATION_SERVICES = {"AuthAnvil", "GoogleAuthenticator", "Email"}


# --- data that typed clients parse ------------------------------------------------------------


def test_it_gives_members_only_an_authentication_service_type_of_the_spec(api):
    members = api.get("system/members", params={"pageSize": 1000}).json()
    kinds = {m["authenticationServiceType"] for m in members if "authenticationServiceType" in m}
    assert kinds and kinds <= AUTHENTICATION_SERVICES
