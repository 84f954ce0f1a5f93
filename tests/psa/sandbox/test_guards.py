"""Auth, the sandbox's rate limit, injected faults (deterministic per seed) and forced errors."""

from __future__ import annotations

import base64
import time

import pytest
import requests

from psa.sandbox.connectwise import FaultSpec, SandboxServer
from tests.psa.sandbox.conftest import ANCHOR, Api
from tests.support.waiting import wait_until

TICKETS = "service/tickets"


def test_it_answers_401_for_missing_or_wrong_credentials(api):
    url = api.base + TICKETS
    missing = requests.get(url, headers={"clientId": "x"}, timeout=5)
    assert missing.status_code == 401 and missing.json()["code"] == "Unauthorized"
    wrong = base64.b64encode(b"sandbox+sandbox-public:nope").decode()
    assert (
        requests.get(url, headers={"clientId": "x", "Authorization": f"Basic {wrong}"}, timeout=5).status_code
        == 401
    )
    assert (
        requests.get(url, headers={"clientId": "x", "Authorization": "Basic !!!"}, timeout=5).status_code
        == 401
    )


def test_it_requires_a_client_id_header(api):
    headers = {"Authorization": api.session.headers["Authorization"]}
    response = requests.get(api.base + TICKETS, headers=headers, timeout=5)
    assert response.status_code == 403 and "clientId" in response.json()["message"]


def test_it_rate_limits_with_429_and_retry_after():
    with SandboxServer(scale="small", seed=1, anchor=ANCHOR, rate_limit_per_minute=5) as sandbox:
        api = Api(sandbox)
        statuses = [api.get("system/info").status_code for _ in range(7)]
        assert statuses == [200] * 5 + [429] * 2
        limited = api.get("system/info")
        assert limited.json()["code"] == "TooManyRequests"
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        # the server counts a 429 once it has written it, possibly after we read it: wait for 3
        wait_until(lambda: sandbox.stats["status_429"] == 3)
        assert requests.get(f"{sandbox.url}/login/companyinfo/sandbox", timeout=5).status_code == 200


def fault_outcomes(seed: int, count: int = 40) -> list[str]:
    with SandboxServer(
        scale="small", seed=seed, anchor=ANCHOR, rate_limit_per_minute=0, faults="500=0.2,429=0.2,reset=0.1"
    ) as sandbox:
        api = Api(sandbox)
        outcomes = []
        for _ in range(count):
            try:
                response = requests.get(
                    api.base + "system/info", headers=dict(api.session.headers), timeout=5
                )
                outcomes.append(str(response.status_code))
                if response.status_code == 429:
                    assert response.headers["Retry-After"] == "1"
            except requests.ConnectionError:
                outcomes.append("reset")
        return outcomes


def test_it_injects_faults_deterministically_for_a_seed():
    first, again, other = fault_outcomes(3), fault_outcomes(3), fault_outcomes(4)
    assert first == again
    assert first != other
    assert {"200", "500", "429", "reset"} <= set(first)


def _record_sleeps(monkeypatch) -> list[float]:
    """The sandbox's added latency, seen as the sleeps its request handler makes (they still
    happen); no elapsed-time assertion outside tests/bench."""
    slept: list[float] = []

    class RecordingTime:
        def __getattr__(self, name):
            return getattr(time, name)

        def sleep(self, seconds: float) -> None:
            slept.append(seconds)
            time.sleep(seconds)

    monkeypatch.setattr("psa.sandbox.connectwise.front.time", RecordingTime())
    return slept


def test_it_times_out_requests_and_can_clear_faults_at_runtime(monkeypatch):
    with SandboxServer(scale="small", seed=1, anchor=ANCHOR, faults="timeout=1,timeout_s=3") as sandbox:
        api = Api(sandbox)
        with pytest.raises(requests.exceptions.ReadTimeout):
            api.session.get(api.base + "system/info", timeout=0.3)
        sandbox.faults.clear()
        assert api.get("system/info").status_code == 200
        sandbox.faults = "latency_ms=50"
        slept = _record_sleeps(monkeypatch)
        assert api.get("system/info").status_code == 200 and slept == [0.05]
        assert requests.get(f"{sandbox.url}/login/companyinfo/sandbox", timeout=5).status_code == 200


def test_it_parses_and_rejects_fault_specs():
    spec = FaultSpec.parse("500=0.1,429=0.05,reset=0.02,timeout=0.01,latency_ms=20")
    assert (spec.error_500, spec.error_429, spec.reset, spec.timeout, spec.latency_ms) == (
        0.1,
        0.05,
        0.02,
        0.01,
        20,
    )
    for bad in ("500=2", "boom=0.1", "500=x", "500=0.6,429=0.6", "500"):
        with pytest.raises(ValueError):
            FaultSpec.parse(bad)


def test_it_forces_errors_a_number_of_times(fresh_api, fresh_sandbox):
    ticket_id = fresh_sandbox.store.ids(TICKETS)[0]
    fresh_sandbox.force_error(
        "PATCH", rf"service/tickets/{ticket_id}$", 400, "Blocked by a workflow rule", times=1
    )
    op = [{"op": "replace", "path": "summary", "value": "x"}]
    first = fresh_api.patch(f"{TICKETS}/{ticket_id}", op)
    assert first.status_code == 400 and first.json()["message"] == "Blocked by a workflow rule"
    assert fresh_api.patch(f"{TICKETS}/{ticket_id}", op).status_code == 200
    fresh_sandbox.force_error("GET", r"^service/boards", 503, "maintenance")
    assert fresh_api.get("service/boards").status_code == 503
    fresh_sandbox.clear_forced_errors()
    assert fresh_api.get("service/boards").status_code == 200


def test_it_empties_matching_lists_for_mass_delete_tests(fresh_api, fresh_sandbox):
    fresh_sandbox.empty_lists_for(r"^service/tickets$")
    assert fresh_api.forward(TICKETS).json() == []
    assert fresh_api.get(f"{TICKETS}/count").json() == {"count": 0}
    assert fresh_api.get("company/companies").json()
    fresh_sandbox.empty_lists_for(None)
    assert len(fresh_api.forward(TICKETS).json()) == 25


def test_it_stops_hanging_once_the_client_gives_up():
    with SandboxServer(scale="small", seed=1, anchor=ANCHOR, faults="timeout=1") as sandbox:  # 60 s hang
        api = Api(sandbox)
        with pytest.raises(requests.exceptions.ReadTimeout):
            api.session.get(api.base + "system/info", timeout=0.2)
        api.session.close()
        wait_until(lambda: sandbox.stats["timeouts_released"], timeout=30)
        assert sandbox.stats["fault_timeout"] == 1 and sandbox.stats["timeouts_released"] == 1
