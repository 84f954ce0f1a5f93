"""Sandbox benchmark at `large` scale: generation time, RSS, and the latency of 1000-record
forward-only ticket pages (full records) over a real socket with keep-alive. Prints figures.

Targets (issue 2): generation well under a minute, RSS < ~1.5 GB, a 1000-record page well
under 100 ms.
"""

from __future__ import annotations

import base64
import statistics
import time
from urllib.parse import parse_qs, urlsplit

import psutil
import pytest
import requests

from psa.sandbox import SandboxServer

PAGES = 60


@pytest.fixture(scope="module")
def large():
    rss_before = psutil.Process().memory_info().rss
    started = time.perf_counter()
    sandbox = SandboxServer(scale="large", seed=1, rate_limit_per_minute=0).start()
    generation = time.perf_counter() - started
    rss_growth = psutil.Process().memory_info().rss - rss_before
    yield sandbox, generation, rss_growth
    sandbox.stop()


def session_for(sandbox: SandboxServer) -> requests.Session:
    c = sandbox.credentials
    token = base64.b64encode(f"{c['company_id']}+{c['public_key']}:{c['private_key']}".encode()).decode()
    session = requests.Session()
    session.headers.update({"Authorization": f"Basic {token}", "clientId": c["client_id"],
                            "pagination-type": "forward-only"})
    return session


def test_it_serves_1000_record_forward_only_pages_fast_at_large_scale(large):
    sandbox, generation, rss_growth = large
    session = session_for(sandbox)
    url = f"{sandbox.url}/{sandbox.codebase}apis/3.0/service/tickets"
    session.get(url, params={"pageSize": 1000}, timeout=30)  # warm the connection
    latencies, sizes, page_id, records = [], [], None, 0
    for _ in range(PAGES):
        params = {"pageSize": 1000, **({"pageId": page_id} if page_id else {})}
        started = time.perf_counter()
        response = session.get(url, params=params, timeout=30)
        body = response.content
        latencies.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
        sizes.append(len(body))
        records += len(response.json())
        next_url = response.links.get("next", {}).get("url")
        page_id = int(parse_qs(urlsplit(next_url).query)["pageId"][0]) if next_url else None
    filtered = []
    for _ in range(20):  # a scoped sync page: open or recently closed tickets, only mirror fields
        started = time.perf_counter()
        response = session.get(url, params={"pageSize": 1000, "conditions": "closedFlag = False or closedDate > "
                                            "[2026-01-01T00:00:00Z]", "fields": "id,summary,status/id,board/id,"
                                            "_info/lastUpdated,resources"}, timeout=30)
        filtered.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200 and len(response.json()) == 1000
    p50, p95 = statistics.median(latencies), statistics.quantiles(latencies, n=20)[-1]
    counts = sandbox.record_counts()
    print(f"\nsandbox large: generated {counts['service/tickets']} service + {counts['project/tickets']} project "
          f"tickets, {counts['company/companies']} companies, {counts['system/members']} members, "
          f"{counts['sales/opportunities']} opportunities, {counts['schedule/entries']} schedule entries, "
          f"{counts['time/entries']} time entries in {generation:.1f} s; RSS growth {rss_growth / 2**20:.0f} MiB "
          f"(process RSS {psutil.Process().memory_info().rss / 2**20:.0f} MiB)")
    print(f"forward-only 1000-record full ticket pages over HTTP: p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
          f"max {max(latencies):.1f} ms, {statistics.mean(sizes) / 1024:.0f} KiB per page, {records} records")
    print(f"conditions + fields 1000-record pages: p50 {statistics.median(filtered):.1f} ms, "
          f"p95 {statistics.quantiles(filtered, n=20)[-1]:.1f} ms")
    assert records == PAGES * 1000
    assert generation < 60
    assert rss_growth < 1.5 * 2**30
    assert p95 < 100
