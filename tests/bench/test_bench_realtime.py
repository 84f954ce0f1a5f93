"""Realtime benchmark: callbacks in and write-back out, with real processes.

Setup: the PSA sandbox (in this process) with activity, gunicorn serving the receiver on an
ephemeral port, a Celery worker on Redis (`-Q realtime`), all on this test's database.

Measured (printed):
1. callback received → mirror row updated, under 50 sandbox edits per second: p50 ≤ 300 ms,
   p99 ≤ 1 s. From the receiver's "callback accepted ... received_at=" log line to the end of
   the first refresh of that record that started after it ("refreshed ... started_at= took_ms=",
   logged after the commit).
2. 1,000 callbacks for one ticket fired within 1 s → GETs of that ticket (sandbox stats) ≤ 2.
3. write-back: user action (service call) → PSA updated (sandbox store): p50 ≤ 500 ms.
"""

from __future__ import annotations

import re
import statistics
import time
from collections import defaultdict

import pytest
from django.core.cache import cache

from tests.bench.conftest import cpu_seconds, logs_keep, own_cpu_seconds, percentile, worker_quiet
from tests.support.processes import start_web, start_worker
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow

ACTIVITY_PER_SECOND = 50
ACTIVITY_SECONDS = 12
BURST = 1000
WRITEBACKS = 30
SITE_PER_MINUTE = 60_000

ACCEPTED = re.compile(
    r"callback accepted connection=\d+ type=\S+ id=\d+ action=\S+ kind=(\S+) "
    r"refresh_id=(\d+) received_at=([\d.]+)"
)
REFRESHED = re.compile(
    r"refreshed connection=\d+ kind=(\S+) id=(\d+) outcome=\S+ started_at=([\d.]+) "
    r"took_ms=(\d+)"
)


def callback_latencies(web_lines: list[str], worker_lines: list[str]) -> tuple[list[float], int]:
    """Seconds from each accepted callback to the end of the first refresh that started after it."""
    refreshes = defaultdict(list)
    for line in worker_lines:
        if m := REFRESHED.search(line):
            started = float(m.group(3))
            refreshes[(m.group(1), int(m.group(2)))].append((started, started + int(m.group(4)) / 1000))
    latencies, missing = [], 0
    for line in web_lines:
        if not (m := ACCEPTED.search(line)):
            continue
        received = float(m.group(3))
        done = [end for start, end in refreshes[(m.group(1), int(m.group(2)))] if start >= received - 0.001]
        if done:
            latencies.append(min(done) - received)
        else:
            missing += 1
    return latencies, missing


@pytest.fixture
def stack(transactional_db):
    from psa.connectwise.callbacks import connection_callbacks_ensure
    from psa.sandbox.connectwise.server import SandboxServer
    from sync.models import Connection

    cache.clear()  # this Redis db: cache + broker queues of earlier runs
    # 50 callbacks/s need ~100 GETs/s: far above ConnectWise's ~1000/minute, so this sandbox site
    # (and the worker's budget for it) allows more; everything else is as in production.
    sandbox = SandboxServer(
        scale="small", seed=1, activity_per_second=0, rate_limit_per_minute=SITE_PER_MINUTE
    ).start()
    connection = Connection.objects.create(name="bench", credentials=dict(sandbox.credentials))
    web, web_url = start_web(workers=2, threads=8)
    worker = start_worker(concurrency=4, PSA_SITE_REQUESTS_PER_MINUTE=str(SITE_PER_MINUTE))
    connection_callbacks_ensure(connection=connection, public_url=web_url)
    try:
        yield sandbox, connection, web, worker, web_url
    finally:
        sandbox.stop()
        worker.stop()
        web.stop()
        logs_keep("realtime", {"web": web, "worker": worker})


def stack_cpu_seconds(web, worker) -> dict[str, float]:
    """CPU time used so far by each part of the stack (process trees), for the printout
    (PostgreSQL and Redis are shared with other test runs: not counted)."""
    return {
        "web": cpu_seconds([web.popen.pid]),
        "worker": cpu_seconds([worker.popen.pid]),
        "sandbox+bench": own_cpu_seconds(),
    }


def receiver_answer_times(sandbox, connection, *, web_url: str, psa_id: int, count: int = 100) -> list[float]:
    import json

    import requests

    from psa.connectwise.callbacks import signature_compute

    session, seconds = requests.Session(), []
    url = f"{web_url}/hooks/connectwise/{connection.webhook_token}/?recordId={psa_id}"
    for i in range(count):
        body = json.dumps(
            {
                "MessageId": f"bench-{i}",
                "Action": "updated",
                "Type": "ticket",
                "ID": psa_id,
                "Entity": None,
                "Metadata": {"key_url": sandbox.notifier.key_url},
            }
        ).encode()
        signature = signature_compute(body=body, signing_key=sandbox.notifier.signing_key)
        started = time.perf_counter()
        response = session.post(url, data=body, headers={"x-content-signature": signature}, timeout=5)
        seconds.append(time.perf_counter() - started)
        assert response.status_code == 202, response.text
    return seconds


def drain(sandbox, worker, quiet_seconds: float = 1.5, timeout: float = 60) -> None:
    """Wait until callbacks are delivered and the worker has been silent for a moment."""
    sandbox.wait_for_callbacks(timeout)
    worker_quiet(worker, quiet_seconds, timeout)


def test_bench_realtime(stack):
    from boards.models import Ticket
    from psa.connectwise import refresh
    from psa.sandbox.connectwise.activity import Activity
    from sync import writeback

    sandbox, connection, web, worker, web_url = stack

    # 1. callback → mirror under activity
    activity = Activity(
        sandbox.store,
        sandbox.refs,
        per_second=ACTIVITY_PER_SECOND,
        seed=7,
        stats=sandbox.stats,
        stats_lock=sandbox._stats_lock,
    )
    web_mark, worker_mark = len(web.lines), len(worker.lines)
    cpu_before = stack_cpu_seconds(web, worker)
    activity.start()
    time.sleep(ACTIVITY_SECONDS)
    activity.stop()
    drain(sandbox, worker)
    cpu_used = {
        name: after - cpu_before.get(name, 0.0) for name, after in stack_cpu_seconds(web, worker).items()
    }
    latencies, missing = callback_latencies(web.lines[web_mark:], worker.lines[worker_mark:])
    assert latencies, "no callback was measured:\n" + "\n".join(web.lines[-20:] + worker.lines[-20:])
    p50, p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
    print(
        f"\n[realtime] activity {ACTIVITY_PER_SECOND}/s for {ACTIVITY_SECONDS}s: "
        f"{sandbox.stats['activity_edits']} edits, {sandbox.stats['callbacks_sent']} callbacks delivered, "
        f"{sandbox.stats['callbacks_failed']} failed, {len(latencies)} measured, {missing} without refresh"
    )
    print(
        "[realtime] CPU seconds during the activity: "
        + ", ".join(f"{name} {seconds:.1f}" for name, seconds in sorted(cpu_used.items()))
    )
    print(
        f"[realtime] callback received → mirror updated: p50 {p50 * 1000:.0f} ms (goal ≤ 300), "
        f"p99 {p99 * 1000:.0f} ms (goal ≤ 1000), "
        f"max {max(latencies) * 1000:.0f} ms"
    )

    # 2. a burst for one ticket
    record = next(t for t in sandbox.store.list("service/tickets") if not t.get("closedFlag"))

    def ticket_gets() -> int:  # by id or in an `id in (...)` listing; nothing else reads tickets now
        return sandbox.stats[("GET", "service/tickets/{id}")] + sandbox.stats[("GET", "service/tickets")]

    gets_before, sent_before = ticket_gets(), sandbox.stats["callbacks_sent"]
    started = time.monotonic()
    for i in range(BURST):
        sandbox.store.update("service/tickets", record["id"], {"summary": f"Burst {i}"})
    fired_in = time.monotonic() - started
    drain(sandbox, worker, quiet_seconds=2.0)
    wait_until(lambda: Ticket.objects.filter(psa_id=record["id"], summary=f"Burst {BURST - 1}").exists(), 15)
    burst_gets = ticket_gets() - gets_before
    print(
        f"[realtime] burst: {BURST} callbacks fired in {fired_in:.2f}s, "
        f"{sandbox.stats['callbacks_sent'] - sent_before} delivered → {burst_gets} GETs of the ticket (goal ≤ 2)"
    )

    # 2b. how fast the receiver answers (the PSA gives up after 5 s)
    answer_seconds = receiver_answer_times(sandbox, connection, web_url=web_url, psa_id=record["id"])
    print(
        f"[realtime] receiver answer time: p50 {percentile(answer_seconds, 0.5) * 1000:.1f} ms, "
        f"p99 {percentile(answer_seconds, 0.99) * 1000:.1f} ms ({len(answer_seconds)} signed callbacks)"
    )

    # 3. write-back: service call → PSA updated
    tickets = [t for t in sandbox.store.list("service/tickets") if not t.get("closedFlag")][
        10 : 10 + WRITEBACKS
    ]
    writeback_seconds = []
    for record in tickets:
        refresh.record_refresh(connection_id=connection.pk, kind="ticket", psa_id=record["id"])
        ticket = Ticket.objects.get(connection=connection, psa_id=record["id"])
        statuses = sandbox.store.list("service/boards/{parentId}/statuses", parent_id=record["board"]["id"])
        target = next(s for s in statuses if s["id"] != record["status"]["id"] and not s.get("closedStatus"))
        started = time.monotonic()
        writeback.ticket_change_status(ticket=ticket, status_psa_id=target["id"])
        wait_until(
            lambda rid=record["id"], sid=target["id"]: (
                sandbox.store.get("service/tickets", rid)["status"]["id"] == sid
            ),
            timeout=10,
            interval=0.002,
        )
        writeback_seconds.append(time.monotonic() - started)
    wb50, wb_max = percentile(writeback_seconds, 0.5), max(writeback_seconds)
    print(
        f"[realtime] write-back user action → PSA updated: p50 {wb50 * 1000:.0f} ms (goal ≤ 500), "
        f"p90 {percentile(writeback_seconds, 0.9) * 1000:.0f} ms, max {wb_max * 1000:.0f} ms "
        f"({len(writeback_seconds)} edits; mean {statistics.mean(writeback_seconds) * 1000:.0f} ms)"
    )

    # Correctness, not speed (the figures above are read, not asserted: they depend on the load).
    assert missing == 0  # every accepted callback was followed by a refresh of its record
