"""Services for PSA connections."""

from __future__ import annotations

from psa.connectwise.client import ConnectWiseClient
from psa.connectwise.discovery import parse_site
from psa.errors import PSAError
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
    """Create the connection called `name`, or update it in place (idempotent).

    Raises ConfigurationError for a site URL the client would refuse (https required, plain
    http only on loopback) and ValueError for a negative retention."""
    if provider == Connection.Provider.CONNECTWISE:
        parse_site(site_url)
    if closed_ticket_retention_days is not None and closed_ticket_retention_days < 0:
        raise ValueError("closed-ticket retention days cannot be negative")
    values: dict[str, object] = {
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


def connection_test(*, connection: Connection) -> dict:
    """Check a connection end to end: companyinfo (fresh, not cached), then `system/info` with
    the connection's keys. Returns {"ok": True, version details...} or {"ok": False, "error": ...}
    with the PSA's exact message; never raises for a PSA problem."""
    try:
        client = ConnectWiseClient.from_connection(connection, interactive=True)
        info = client.company_info(refresh=True)
        system = client.system_info()
    except PSAError as err:
        return {"ok": False, "error": str(err), "error_type": type(err).__name__}
    return {
        "ok": True,
        "company_name": info.get("CompanyName", ""),
        "codebase": info.get("Codebase", ""),
        "version_code": info.get("VersionCode", ""),
        "version": system.get("version", ""),
        "is_cloud": system.get("isCloud"),
        "server_time_zone": system.get("serverTimeZone", ""),
        "api_url": client.api_base,
        "requests_made": client.requests_made,
    }
