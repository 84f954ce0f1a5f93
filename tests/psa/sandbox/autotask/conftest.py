"""Autotask sandbox fixtures: a small seeded sandbox answered in-process (serve) or over real
HTTP (running), and helpers that build requests the way clients send them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from psa.sandbox.autotask import AutotaskSandbox
from psa.sandbox.site import SandboxRequest

# Generated data lie before ANCHOR; writes stamp the real clock (never compared with ANCHOR).
ANCHOR = datetime(2030, 5, 15, tzinfo=UTC)


class Caller:
    """Requests to one sandbox's serve(), with its credentials unless told otherwise."""

    def __init__(self, sandbox: AutotaskSandbox) -> None:
        self.sandbox = sandbox
        self.headers = {
            "apiintegrationcode": sandbox.auth.integration_code,
            "username": sandbox.auth.username,
            "secret": sandbox.auth.secret,
        }

    def __call__(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        pairs = list((query or {}).items())
        sent_headers = self.headers if headers is None else headers
        raw = json.dumps(body).encode() if body is not None else b""
        request = SandboxRequest(
            method, f"/ATServicesRest/V1.0/{path}", {k.lower(): v for k, v in pairs}, pairs, sent_headers, raw
        )
        reply = self.sandbox.serve(request)
        return reply.status, (reply.raw if reply.raw is not None else reply.body)

    def query(self, entity: str, *filters: dict, **extra: Any) -> dict:
        status, body = self("POST", f"{entity}/query", {"filter": list(filters), **extra})
        assert status == 200, body
        return body

    def ids(self, entity: str, *filters: dict) -> list[int]:
        return [item["id"] for item in self.query(entity, *filters)["items"]]


@pytest.fixture(scope="module")
def shared_sandbox():
    """One small sandbox for read-only tests of a module (never started: serve() directly)."""
    sandbox = AutotaskSandbox(scale="small", seed=1, anchor=ANCHOR)
    yield sandbox
    sandbox.stop()


@pytest.fixture(scope="module")
def running():
    """One small sandbox of a module over real HTTP (started: its host serves a free port)."""
    with AutotaskSandbox(scale="small", seed=1, anchor=ANCHOR) as sandbox:
        yield sandbox


@pytest.fixture
def sandbox():
    """A fresh small sandbox for tests that write."""
    sandbox = AutotaskSandbox(scale="small", seed=1, anchor=ANCHOR)
    yield sandbox
    sandbox.stop()


@pytest.fixture
def call(sandbox) -> Caller:
    return Caller(sandbox)


@pytest.fixture(scope="module")
def read(shared_sandbox) -> Caller:
    return Caller(shared_sandbox)
