"""An Autotask connection's credentials document (stored encrypted on the Connection).

Reference: api.md §1-2 — an API-only user's username and secret, the integration's API tracking
identifier (`ApiIntegrationCode`), and zone discovery at webservices.autotask.net (a sandbox or
a test points it elsewhere with `zone_url`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from psa.errors import ConfigurationError
from psa.providers import CredentialField, CredentialsInvalid, credential_fields_clean

DEFAULT_ZONE_URL = "https://webservices.autotask.net/atservicesrest/"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

FIELDS = (
    CredentialField("username", "API username", help="the API-only user's username (email form)"),
    CredentialField("secret", "Secret", secret=True, help="the API-only user's secret"),
    CredentialField(
        "integration_code", "API integration code", secret=True, help="the API tracking identifier"
    ),
    CredentialField(
        "zone_url",
        "Zone discovery URL",
        required=False,
        default=DEFAULT_ZONE_URL,
        help="where zoneInformation is asked (default: the real webservices.autotask.net)",
    ),
)


@dataclass(frozen=True)
class AutotaskCredentials:
    username: str
    secret: str
    integration_code: str
    zone_url: str = DEFAULT_ZONE_URL

    def __repr__(self) -> str:  # never the secret or the code
        return f"<AutotaskCredentials {self.username!r} via {self.zone_url}>"


def zone_url_problem(url: str) -> str:
    """Why `url` cannot be a zone discovery base ('' when it can): https, or http on loopback."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http(s) URL such as https://webservices.autotask.net/atservicesrest/"
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        return "https is required (plain http only for a sandbox on this machine)"
    return ""


def credentials_clean(document: Mapping[str, Any]) -> dict[str, str]:
    """The document with every field a non-empty string (the zone URL defaulted and ending in
    '/'), or CredentialsInvalid naming each problem in plain words."""
    cleaned, errors = credential_fields_clean(FIELDS, document, psa="Autotask")
    zone_url = cleaned.get("zone_url", "")
    if zone_url:
        cleaned["zone_url"] = zone_url.rstrip("/") + "/"
        problem = zone_url_problem(zone_url)
        if problem:
            errors["zone_url"] = problem
    if errors:
        raise CredentialsInvalid(errors)
    return cleaned


def credentials_of(connection: Any) -> AutotaskCredentials:
    """The connection's stored document as typed credentials (ConfigurationError if unusable)."""
    try:
        return AutotaskCredentials(**credentials_clean(connection.credentials or {}))
    except CredentialsInvalid as exc:
        raise ConfigurationError(f"connection {connection.name!r} has unusable credentials: {exc}") from None


def describe(connection: Any) -> str:
    document = connection.credentials or {}
    return f"{document.get('username', '')} via {document.get('zone_url') or DEFAULT_ZONE_URL}"
