"""The product's ConnectWise client against the sandbox over real HTTP: both must agree."""

from __future__ import annotations

import pytest

from psa.connectwise.client import ConnectWiseClient, replace_ops
from psa.connectwise.conditions import all_of, cond, split_in
from psa.errors import AuthError, BadRequest, NotFound, RateLimited
from psa.http import RetryPolicy
from psa.sandbox.connectwise import SandboxServer
from tests.psa.sandbox.conftest import ANCHOR

TICKETS = "service/tickets"

# discovery caches companyinfo per site; ports are reused between servers
pytestmark = pytest.mark.usefixtures("fresh_cache")


def client_for(sandbox: SandboxServer, **overrides) -> ConnectWiseClient:
    return ConnectWiseClient(**{**sandbox.credentials, **overrides})


@pytest.fixture
def client(sandbox):
    return client_for(sandbox)


def test_it_lists_every_open_ticket_with_forward_only_pages(client, sandbox):
    conditions = cond("closedFlag", "=", False)
    pages = list(client.iter_pages(TICKETS, conditions=conditions, fields=["id", "status/id"], page_size=50))
    got = [r["id"] for page in pages for r in page]
    assert got == [t["id"] for t in sandbox.store.list(TICKETS) if not t["closedFlag"]]
    assert all(set(r) == {"id", "status"} for page in pages for r in page)


def test_it_counts_searches_and_splits_long_in_lists(client, sandbox):
    ids = sandbox.store.ids(TICKETS)[:300]
    assert client.count(TICKETS) == 500
    found = [
        r["id"]
        for page in client.search(
            TICKETS, conditions=f"id in ({','.join(map(str, ids))})", fields="id", page_size=120
        )
        for r in page
    ]
    assert found == ids
    chunks = split_in("id", ids, extra=cond("closedFlag", "=", True))
    assert len(chunks) > 1
    by_chunks = sorted(
        r["id"] for chunk in chunks for r in client.list_all(TICKETS, conditions=chunk, fields="id")
    )
    assert by_chunks == [i for i in ids if sandbox.store.get(TICKETS, i)["closedFlag"]]


def test_it_round_trips_awkward_strings_through_conditions(client, sandbox):
    awkward = next(t for t in sandbox.store.list(TICKETS) if '"' in t["summary"] or "\\" in t["summary"])
    records = client.list_all(
        TICKETS,
        conditions=all_of(cond("summary", "=", awkward["summary"]), cond("id", "=", awkward["id"])),
        fields="id,summary",
    )
    assert records == [{"id": awkward["id"], "summary": awkward["summary"]}]


def test_it_patches_and_maps_errors(fresh_sandbox):
    client = client_for(fresh_sandbox)
    ticket = next(t for t in fresh_sandbox.store.list(TICKETS) if not t["closedFlag"])
    priority = fresh_sandbox.store.list("service/priorities")[0]
    body = client.patch(f"{TICKETS}/{ticket['id']}", replace_ops({"priority/id": priority["id"]}))
    assert body["priority"]["id"] == priority["id"]
    with pytest.raises(BadRequest):
        client.patch(f"{TICKETS}/{ticket['id']}", replace_ops({"priority/id": 987654}))
    with pytest.raises(NotFound):
        client.get(f"{TICKETS}/1")
    with pytest.raises(AuthError):
        client_for(fresh_sandbox, private_key="wrong").get(f"{TICKETS}/{ticket['id']}")


def test_it_sees_429_with_retry_after_through_the_client():
    with SandboxServer(scale="small", seed=2, anchor=ANCHOR, faults="429=1") as sandbox:
        client = client_for(sandbox)
        client.http.policy = RetryPolicy(
            name="once", attempts=1, base=0.01, cap=0.01, connect_timeout=2, read_timeout=5
        )
        with pytest.raises(RateLimited) as caught:
            client.system_info()
        assert caught.value.retry_after == 1
