"""Sandbox fixtures: a small seeded server on an ephemeral port and a requests session for it."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
import requests

from psa.sandbox.connectwise import SandboxServer

WEDNESDAY = 2


def last_wednesday_before(now: datetime) -> datetime:
    """Midnight UTC of the last Wednesday at least a day before `now`."""
    day = (now - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=(day.weekday() - WEDNESDAY) % 7)


# The sandbox's data are generated before ANCHOR, while its writes and background edits stamp the
# real time of the test run: ANCHOR must lie before the real clock (not on a fixed date that the
# clock may not have reached), and on the same weekday on any date (the SLA clocks count
# business days). Read once at import, so every server of the run serves the same data.
ANCHOR = last_wednesday_before(datetime.now(UTC))


class Api:
    """requests against one sandbox with its credentials; paths relative to the API base."""

    def __init__(self, sandbox: SandboxServer) -> None:
        self.sandbox = sandbox
        self.base = sandbox.api_base
        c = sandbox.credentials
        token = base64.b64encode(f"{c['company_id']}+{c['public_key']}:{c['private_key']}".encode()).decode()
        self.session = requests.Session()
        self.session.headers.update(
            {
                "Authorization": f"Basic {token}",
                "clientId": c["client_id"],
                "Accept": "application/vnd.connectwise.com+json; version=2025.1",
            }
        )

    def get(self, path: str, **kw) -> requests.Response:
        return self.session.get(self.base + path, timeout=10, **kw)

    def post(self, path: str, **kw) -> requests.Response:
        return self.session.post(self.base + path, timeout=10, **kw)

    def patch(self, path: str, ops: list[dict], **kw) -> requests.Response:
        return self.session.patch(self.base + path, json=ops, timeout=10, **kw)

    def delete(self, path: str, **kw) -> requests.Response:
        return self.session.delete(self.base + path, timeout=10, **kw)

    def forward(self, path: str, **params) -> requests.Response:
        return self.get(path, params=params, headers={"pagination-type": "forward-only"})


@pytest.fixture(scope="module")
def sandbox():
    """Read-only tests share one server per module (writes use `fresh_sandbox`)."""
    with SandboxServer(scale="small", seed=7, anchor=ANCHOR, rate_limit_per_minute=0) as server:
        yield server


@pytest.fixture
def fresh_sandbox():
    with SandboxServer(
        scale="small", seed=7, anchor=ANCHOR, rate_limit_per_minute=0, callback_retry_delays=(0.05, 0.1)
    ) as server:
        yield server


@pytest.fixture(scope="module")
def api(sandbox) -> Api:
    return Api(sandbox)


@pytest.fixture
def fresh_api(fresh_sandbox) -> Api:
    return Api(fresh_sandbox)
