"""A ConnectWise connection's credentials document (stored encrypted on the Connection).

Reference: developer guide "Authentication" and "ClientIds": Basic auth `company+publicKey:
privateKey`, a `clientId` GUID on every request, the site (cloud: na/eu/au.myconnectwise.net) and
the API version requested in the Accept header.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from psa.connectwise.discovery import parse_site
from psa.errors import ConfigurationError
from psa.providers import CredentialField, CredentialsInvalid, credential_fields_clean

DEFAULT_API_VERSION = "2025.1"

FIELDS = (
    CredentialField("site_url", "Site URL", help="e.g. https://na.myconnectwise.net (https required)"),
    CredentialField("company_id", "Company ID", help="the company you log in to ConnectWise with"),
    CredentialField("public_key", "Public key", secret=True, help="of the API member"),
    CredentialField("private_key", "Private key", secret=True, help="of the API member"),
    CredentialField("client_id", "clientId", help="your integration's GUID from developer.connectwise.com"),
    CredentialField("api_version", "API version", required=False, default=DEFAULT_API_VERSION),
)


@dataclass(frozen=True)
class ConnectWiseCredentials:
    site_url: str
    company_id: str
    public_key: str
    private_key: str
    client_id: str
    api_version: str = DEFAULT_API_VERSION

    def __repr__(self) -> str:  # never the keys
        return f"<ConnectWiseCredentials {self.site_url} company={self.company_id!r}>"


def credentials_clean(document: Mapping[str, Any]) -> dict[str, str]:
    """The document with every field a non-empty string (defaults filled in), or CredentialsInvalid
    naming each problem in plain words."""
    cleaned, errors = credential_fields_clean(FIELDS, document, psa="ConnectWise")
    if "site_url" in cleaned:
        cleaned["site_url"] = cleaned["site_url"].rstrip("/")
        try:
            parse_site(cleaned["site_url"])  # https required; plain http only for a loopback sandbox
        except ConfigurationError as exc:
            errors["site_url"] = str(exc)
    if errors:
        raise CredentialsInvalid(errors)
    return cleaned


def credentials_of(connection: Any) -> ConnectWiseCredentials:
    """The connection's stored document as typed credentials (ConfigurationError if unusable)."""
    try:
        return ConnectWiseCredentials(**credentials_clean(connection.credentials or {}))
    except CredentialsInvalid as exc:
        raise ConfigurationError(f"connection {connection.name!r} has unusable credentials: {exc}") from None


def site_url_of(connection: Any) -> str:
    return str((connection.credentials or {}).get("site_url") or "").rstrip("/")


def describe(connection: Any) -> str:
    document = connection.credentials or {}
    return f"{site_url_of(connection)} ({document.get('company_id', '')})"
