"""Which PSA client the engine uses for a connection (one indirection, so tests can swap it)."""

from __future__ import annotations

from psa.http import RetryPolicy
from psa.providers import PSAClient, provider_for
from sync.models import Connection


def client_for(connection: Connection, *, policy: RetryPolicy | None = None) -> PSAClient:
    """The background client of a connection: its rate budget, and the background retry policy
    unless `policy` says otherwise (e.g. a tier's own, sync/tasks_lanes.py run_policy)."""
    return provider_for(connection).client_for(connection, policy=policy)
