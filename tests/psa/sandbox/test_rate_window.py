"""The sandbox's rate-limit window can be shortened for time-compressed benchmarks."""

from __future__ import annotations

import requests

from psa.sandbox.connectwise import SandboxServer
from psa.sandbox.faults import SlidingWindowLimit


def test_it_limits_per_configured_window():
    now = [100.0]
    limit = SlidingWindowLimit(2, clock=lambda: now[0], window_seconds=6)
    assert limit.acquire() is None and limit.acquire() is None
    now[0] += 1.5
    assert limit.acquire() == 4.5  # the first hit leaves the 6 s window 4.5 s from now
    now[0] += 4.5
    assert limit.acquire() is None


def test_it_keeps_the_one_minute_window_by_default():
    now = [0.0]
    limit = SlidingWindowLimit(1, clock=lambda: now[0])
    assert limit.acquire() is None
    now[0] += 59
    assert limit.acquire() == 1.0


def test_it_answers_429_over_http_until_the_short_window_passes():
    with SandboxServer(
        scale="small", seed=4, rate_limit_per_minute=2, rate_limit_window_seconds=0.5
    ) as server:
        assert (server.limiter.per_minute, server.limiter.window_seconds) == (2, 0.5)
        # The same limit on a clock the test moves: a loaded machine neither stretches the three
        # requests over the window nor needs a sleep to let it pass.
        now = [100.0]
        server.limiter = SlidingWindowLimit(2, clock=lambda: now[0], window_seconds=0.5)
        url = f"{server.api_base}system/info"
        auth = (f"{server.company}+sandbox-public", "sandbox-private")
        headers = {"clientId": server.credentials["client_id"]}
        answers = [requests.get(url, auth=auth, headers=headers, timeout=5) for _ in range(3)]
        assert [answer.status_code for answer in answers] == [200, 200, 429]
        assert answers[-1].headers["Retry-After"] == "1"  # whole seconds, rounded up
        now[0] += 0.4
        assert requests.get(url, auth=auth, headers=headers, timeout=5).status_code == 429
        now[0] += 0.1  # the first two hits leave the 0.5 s window
        assert requests.get(url, auth=auth, headers=headers, timeout=5).status_code == 200
        assert server.stats["rate_limited"] == 2
