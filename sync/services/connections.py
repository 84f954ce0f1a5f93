"""Services for PSA connections."""

from __future__ import annotations

from sync.models import Connection


def connection_upsert(
    *,
    name: str,
    provider: str,
    site_url: str,
    company_id: str,
    public_key: str,
    private_key: str,
    client_id: str = "",
    api_version: str = "2025.1",
    closed_ticket_retention_days: int | None = None,
) -> tuple[Connection, bool]:
    """Create the connection called `name`, or update it in place (idempotent)."""
    values = {
        "provider": provider,
        "site_url": site_url.rstrip("/"),
        "company_id": company_id,
        "public_key": public_key,
        "private_key": private_key,
        "client_id": client_id,
        "api_version": api_version,
    }
    if closed_ticket_retention_days is not None:
        values["closed_ticket_retention_days"] = closed_ticket_retention_days
    return Connection.objects.update_or_create(name=name, defaults=values)
