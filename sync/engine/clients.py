"""Which PSA client the engine uses for a connection (one indirection, so tests can swap it)."""

from __future__ import annotations

from psa.connectwise.client import ConnectWiseClient
from sync.models import Connection


def client_for(connection: Connection) -> ConnectWiseClient:
    """The background client of a connection: background retry policy and rate budget."""
    return ConnectWiseClient.from_connection(connection)
