"""The ConnectWise client against the PSA sandbox over a real socket (no mocks)."""

import time
from datetime import UTC, datetime

import pytest

from psa.connectwise.client import ConnectWiseClient, replace_ops
from psa.connectwise.conditions import all_of, cond, in_list, not_, split_in
from psa.errors import AuthError, BadRequest, NotFound, RateLimited
from psa.http import RetryPolicy
from psa.sandbox.connectwise.server import SandboxServer
from psa.sandbox.faults import SlidingWindowLimit

pytestmark = pytest.mark.usefixtures("fresh_cache")

BULK_COMPANIES = 2500
QUICK = RetryPolicy("quick", attempts=6, base=0.01, cap=120.0, connect_timeout=2, read_timeout=5)


@pytest.fixture(scope="module")
def sandbox():
    with SandboxServer(scale="small", seed=1, rate_limit_per_minute=0) as server:
        for i in range(BULK_COMPANIES):
            server.store.create(
                "company/companies", {"identifier": f"BULK{i:05d}", "name": f"Bulk {i}"}, skip_callback=True
            )
        yield server


def make_client(server, sleeps=None, **kw):
    options = {
        **server.credentials,
        "policy": QUICK,
        "sleep": (sleeps.append if sleeps is not None else time.sleep),
    }
    options.update(kw)
    return ConnectWiseClient(**options)


def ids(records):
    return [r["id"] for r in records]


def test_it_pages_through_thousands_of_records_in_both_modes(sandbox):
    expected = sorted(sandbox.store.ids("company/companies"))
    assert len(expected) > BULK_COMPANIES
    client = make_client(sandbox)
    forward = list(client.iter_pages("company/companies", fields=["id", "name", "_info/lastUpdated"]))
    assert [len(p) for p in forward] == [1000, 1000, len(expected) - 2000]
    assert ids(r for page in forward for r in page) == expected
    assert set(forward[0][0]) <= {"id", "name", "_info"}
    small_pages = client.list_all("company/companies", fields="id", page_size=250)
    navigable = client.list_all("company/companies", fields="id", page_size=250, forward_only=False)
    assert ids(small_pages) == ids(navigable) == expected
    assert client.count("company/companies") == len(expected)


def test_it_filters_with_built_conditions(sandbox):
    tickets = sandbox.store.list("service/tickets")
    client = make_client(sandbox)
    open_on_board = all_of(cond("closedFlag", "=", False), cond("board/id", "=", 1))
    expected = [t["id"] for t in tickets if not t["closedFlag"] and t["board"]["id"] == 1]
    assert expected
    assert ids(client.list_all("service/tickets", conditions=open_on_board, fields="id")) == expected
    assert client.count("service/tickets", conditions=open_on_board) == len(expected)
    not_closed = ids(
        client.list_all("service/tickets", conditions=not_(cond("closedFlag", "=", True)), fields="id")
    )
    assert not_closed == [t["id"] for t in tickets if not t["closedFlag"]]
    newest = max(t["_info"]["lastUpdated"] for t in tickets)
    since = datetime.strptime(newest, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    changed = client.list_all("service/tickets", conditions=cond("lastUpdated", ">=", since), fields="id")
    assert ids(changed) == [t["id"] for t in tickets if t["_info"]["lastUpdated"] >= newest]


def test_it_matches_strings_with_quotes_backslashes_and_unicode(sandbox):
    target = sandbox.store.list("service/tickets")[7]["id"]
    tricky = 'Printer "HP\\4050" on C:\\ fails — ☕ ñ שלום'
    sandbox.store.update("service/tickets", target, {"summary": tricky}, skip_callback=True)
    client = make_client(sandbox)
    found = client.list_all("service/tickets", conditions=cond("summary", "=", tricky), fields="id,summary")
    assert found == [{"id": target, "summary": tricky}]
    assert client.list_all(
        "service/tickets", conditions=cond("summary", "contains", '"HP\\4050"'), fields="id"
    )


def test_it_splits_long_in_lists_and_searches_with_the_body(sandbox):
    wanted = sorted(sandbox.store.ids("service/tickets"))[::2]
    client = make_client(sandbox)
    chunks = split_in("id", wanted, extra=cond("closedFlag", "=", False), max_chars=400)
    assert len(chunks) > 3
    got = sorted(
        r["id"] for chunk in chunks for r in client.list_all("service/tickets", conditions=chunk, fields="id")
    )
    open_ids = {t["id"] for t in sandbox.store.list("service/tickets") if not t["closedFlag"]}
    assert got == sorted(set(wanted) & open_ids)
    # The same question in one POST /search: the conditions are far too long for a URL.
    # (Kept near 5,000 characters: the sandbox echoes the conditions into its Link header URLs,
    # and four of those past ~64 KB exceed the HTTP client's header line limit.)
    long_condition = in_list("id", wanted + list(range(900_000, 900_500)))
    assert len(long_condition) > 4000
    pages = list(client.search("service/tickets", conditions=long_condition, fields="id", page_size=100))
    assert sorted(ids(r for page in pages for r in page)) == wanted


def test_it_patches_and_posts(sandbox):
    client = make_client(sandbox)
    ticket = client.get("service/tickets/10002")
    statuses = client.list_all(f"service/boards/{ticket['board']['id']}/statuses", forward_only=False)
    new_status = next(s for s in statuses if s["id"] != ticket["status"]["id"] and not s["closedStatus"])
    updated = client.patch(
        "service/tickets/10002", replace_ops({"status/id": new_status["id"], "summary": "Patched"})
    )
    assert updated["status"]["id"] == new_status["id"] and updated["summary"] == "Patched"
    assert updated["_info"]["lastUpdated"] > ticket["_info"]["lastUpdated"]
    assert sandbox.store.get("service/tickets", 10002)["status"]["id"] == new_status["id"]
    note = client.post(
        "service/tickets/10002/notes", {"text": "Called the user ☎", "internalAnalysisFlag": True}
    )
    assert note["id"] and note["text"] == "Called the user ☎"
    assert client.get(f"service/tickets/10002/notes/{note['id']}")["text"] == "Called the user ☎"
    with pytest.raises(BadRequest):
        client.patch("service/tickets/10002", replace_ops({"summary": "x" * 300}))


def test_it_reports_bad_keys_and_missing_records_without_retrying(sandbox):
    sleeps = []
    bad = make_client(sandbox, sleeps, private_key="wrong")
    before = sandbox.stats["unauthorized"]
    with pytest.raises(AuthError) as caught:
        bad.get("service/tickets/10001")
    assert caught.value.status == 401 and "wrong" not in str(caught.value)
    assert sandbox.stats["unauthorized"] == before + 1 and sleeps == []
    client = make_client(sandbox, sleeps)
    with pytest.raises(NotFound):
        client.get("service/tickets/99999999")
    assert client.requests_made == 1 and sleeps == []  # companyinfo is cached: no rediscovery, no retry


def test_it_waits_out_the_sandbox_rate_limit_exactly_as_told():
    with SandboxServer(scale="small", seed=2) as server:
        now = [1000.0]
        server.limiter = SlidingWindowLimit(3, clock=lambda: now[0])
        sleeps = []

        def sleep(seconds):  # our waiting is the sandbox's passing time
            sleeps.append(seconds)
            now[0] += seconds

        client = make_client(server, sleep=sleep)
        for _ in range(3):
            client.get("service/tickets/10001")
        now[0] += 20  # the window frees its first slot 40 s from now
        assert client.get("service/tickets/10001")["id"] == 10001
        assert sleeps == [40.0]
        assert server.stats["rate_limited"] == 1


def test_it_gives_up_with_rate_limited_when_the_limit_persists():
    with SandboxServer(scale="small", seed=3, rate_limit_per_minute=2) as server:
        sleeps = []
        client = make_client(server, sleeps)
        client.get("system/info")
        client.get("system/info")
        with pytest.raises(RateLimited) as caught:
            client.get("system/info")
        assert 55 <= caught.value.retry_after <= 60
        assert len(sleeps) == QUICK.attempts - 1 and all(55 <= s <= 60 for s in sleeps)
        assert server.stats["rate_limited"] == QUICK.attempts


def test_it_survives_injected_faults_and_loses_nothing():
    with SandboxServer(
        scale="small",
        seed=4,
        rate_limit_per_minute=0,
        faults="500=0.15,429=0.1,reset=0.1,timeout=0.05,timeout_s=2",
    ) as server:
        expected = sorted(server.store.ids("service/tickets"))
        sleeps = []
        policy = RetryPolicy("faulty", attempts=10, base=0.01, cap=5, connect_timeout=1, read_timeout=0.3)
        client = make_client(server, sleeps, policy=policy)
        got = client.list_all("service/tickets", fields="id", page_size=10)
        assert ids(got) == expected
        faults = {k: v for k, v in server.stats.items() if isinstance(k, str) and k.startswith("fault_")}
        assert set(faults) == {"fault_500", "fault_429", "fault_reset", "fault_timeout"}
        assert client.requests_made == 1 + len(expected) // 10 + sum(faults.values())
        assert len(sleeps) == sum(faults.values())
