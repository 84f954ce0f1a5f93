"""Which PSA client the engine uses for a connection (one indirection, so tests can swap it)."""

from __future__ import annotations

from psa.providers import PSAClient, provider_for
from sync.models import Connection


def client_for(connection: Connection) -> PSAClient:
    """The background client of a connection: background retry policy and rate budget."""
    return provider_for(connection).client_for(connection)
