"""Connections for tests: a ConnectWise credentials document with test values."""

from __future__ import annotations

from typing import Any


def cw_credentials(
    *,
    site_url: str = "https://na.myconnectwise.net",
    company_id: str = "acme",
    public_key: str = "pub",
    private_key: str = "priv",
    client_id: str = "guid",
    api_version: str = "2025.1",
) -> dict[str, str]:
    return {
        "site_url": site_url,
        "company_id": company_id,
        "public_key": public_key,
        "private_key": private_key,
        "client_id": client_id,
        "api_version": api_version,
    }


def make_connection(name: str = "acme", *, fields: dict[str, Any] | None = None, **credentials: str):
    """A saved ConnectWise Connection called `name`; keyword arguments override credential values,
    `fields` sets other model fields (enabled, closed_ticket_retention_days, ...)."""
    from sync.models import Connection

    return Connection.objects.create(
        name=name, provider="connectwise", credentials=cw_credentials(**credentials), **(fields or {})
    )
