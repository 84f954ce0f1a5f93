"""Where a ConnectWise site's API lives: site URL checks, `companyinfo` codebase discovery, api- host.

Reference: developer guide, "Calling Company Info" and "Cloud vs Premise":
    GET https://{site}/login/companyinfo/{companyId}   (no authentication)
    → {"CompanyName","Codebase":"v2025_1/","VersionCode","VersionNumber","CompanyID","IsCloud"}
    API base = https://{api host}/{Codebase}apis/3.0/
Cloud sites take the `api-` host prefix; on-premise sites answer `v4_6_release/` on their own host.
The answer is cached per site + company in Django's cache (it changes only on a PSA upgrade) and
re-discovered when a request 404s in a way that looks like a wrong codebase.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from django.core.cache import cache

from psa.errors import ConfigurationError

logger = logging.getLogger("psa.connectwise")

CLOUD_HOSTS = frozenset(
    {
        "na.myconnectwise.net",
        "eu.myconnectwise.net",
        "au.myconnectwise.net",
        "aus.myconnectwise.net",
        "za.myconnectwise.net",
        "staging.connectwisedev.com",
    }
)
CACHE_SECONDS = 6 * 3600
_CODEBASE = re.compile(r"^[A-Za-z0-9_.\-]+/$")


@dataclass(frozen=True)
class Site:
    """A validated site URL: scheme + host[:port], no path."""

    scheme: str
    host: str
    port: int | None

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self._netloc(self.host)}"

    @property
    def api_host(self) -> str:
        """The host API calls go to: `api-{site}` for the ConnectWise cloud sites."""
        if self.host in CLOUD_HOSTS:
            return f"api-{self.host}"
        return self.host

    def api_base(self, codebase: str) -> str:
        return f"{self.scheme}://{self._netloc(self.api_host)}/{codebase}apis/3.0/"

    def _netloc(self, host: str) -> str:
        shown = f"[{host}]" if ":" in host else host
        return f"{shown}:{self.port}" if self.port else shown


def is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_site(site_url: str) -> Site:
    """Validate the connection's site URL. https is required except on loopback (the sandbox)."""
    raw = (site_url or "").strip()
    if "://" not in raw:
        raw = f"https://{raw}"
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise ConfigurationError(f"site URL {site_url!r} is not a valid URL: {exc}") from None
    host = (parts.hostname or "").lower()
    if not host:
        raise ConfigurationError(f"site URL {site_url!r} has no host")
    if parts.scheme not in ("https", "http"):
        raise ConfigurationError(f"site URL {site_url!r} must use https")
    if parts.scheme == "http" and not is_loopback(host):
        raise ConfigurationError(
            f"site URL {site_url!r} uses plain http; https is required (http only for 127.0.0.1/localhost)"
        )
    if parts.username or parts.password:
        raise ConfigurationError("site URL must not contain credentials")
    # An `api-` host given by the user is the same site: discovery runs on the login host.
    if host.startswith("api-") and host[4:] in CLOUD_HOSTS:
        host = host[4:]
    return Site(scheme=parts.scheme, host=host, port=port)


@dataclass(frozen=True)
class CompanyInfo:
    company_name: str
    codebase: str
    version_code: str
    version_number: str
    company_id: str
    is_cloud: bool
    raw: dict


def companyinfo_url(site: Site, company_id: str) -> str:
    return f"{site.url}/login/companyinfo/{quote(company_id, safe='')}"


def cache_key(site: Site, company_id: str) -> str:
    digest = hashlib.sha256(f"{site.url}|{company_id.lower()}".encode()).hexdigest()[:32]
    return f"psa:cw:companyinfo:{digest}"


def parse_company_info(body: Any, *, site: Site, company_id: str) -> CompanyInfo:
    """Check the companyinfo answer; `null` (unknown company) or a strange codebase is a config error."""
    if not isinstance(body, dict) or not body:
        raise ConfigurationError(
            f"company {company_id!r} is unknown at {site.url} (companyinfo answered {body!r:.80})"
        )
    codebase = str(body.get("Codebase") or "")
    if codebase and not codebase.endswith("/"):
        codebase += "/"
    if not _CODEBASE.match(codebase):
        raise ConfigurationError(f"companyinfo at {site.url} returned an unusable codebase {codebase!r}")
    is_cloud = body.get("IsCloud")
    return CompanyInfo(
        company_name=str(body.get("CompanyName") or ""),
        codebase=codebase,
        version_code=str(body.get("VersionCode") or ""),
        version_number=str(body.get("VersionNumber") or ""),
        company_id=str(body.get("CompanyID") or company_id),
        is_cloud=is_cloud is True or str(is_cloud).lower() == "true",
        raw=body,
    )


def cached_company_info(site: Site, company_id: str) -> dict | None:
    try:
        return cache.get(cache_key(site, company_id))
    except Exception as exc:  # a cache outage only costs one extra companyinfo request
        logger.warning("companyinfo cache unavailable: %s", exc)
        return None


def remember_company_info(site: Site, company_id: str, body: dict) -> None:
    try:
        cache.set(cache_key(site, company_id), body, CACHE_SECONDS)
    except Exception as exc:
        logger.warning("companyinfo cache unavailable: %s", exc)


def forget_company_info(site: Site, company_id: str) -> None:
    try:
        cache.delete(cache_key(site, company_id))
    except Exception as exc:
        logger.warning("companyinfo cache unavailable: %s", exc)
