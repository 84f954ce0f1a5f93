"""Services for PSA connections (provider-neutral: the provider checks its own credentials)."""

from __future__ import annotations

from collections.abc import Mapping

from psa.providers import UnknownProvider, provider_for, provider_get
from sync.models import Connection


def connection_upsert(
    *,
    name: str,
    provider: str,
    credentials: Mapping[str, str],
    closed_ticket_retention_days: int | None = None,
) -> tuple[Connection, bool]:
    """Create the connection called `name`, or update it in place (idempotent).

    Raises ValueError for an unknown provider, credentials the provider refuses (CredentialsInvalid
    names each field) or a negative retention."""
    try:
        psa = provider_get(provider)
    except UnknownProvider as exc:
        raise ValueError(str(exc)) from None
    document = psa.credentials_clean(credentials)
    if closed_ticket_retention_days is not None and closed_ticket_retention_days < 0:
        raise ValueError("closed-ticket retention days cannot be negative")
    values: dict[str, object] = {"provider": provider, "credentials": document}
    if closed_ticket_retention_days is not None:
        values["closed_ticket_retention_days"] = closed_ticket_retention_days
    return Connection.objects.update_or_create(name=name, defaults=values)


def connection_test(*, connection: Connection) -> dict:
    """Check a connection end to end with its provider: {"ok": True, "summary": ..., details} or
    {"ok": False, "error": ...} with the PSA's exact message; never raises for a PSA problem."""
    return provider_for(connection).connection_test(connection)
