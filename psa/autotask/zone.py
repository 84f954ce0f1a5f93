"""Zone discovery: which Autotask zone (API base URL and database id) serves an API user.

Reference: api.md §1 — `GET {zone base}v1.0/zoneInformation?user={username}` without auth
headers answers `{"zoneName", "url", "webUrl", "ci"}`; the API base is `{url}V1.0/`. An unknown
user is answered 500 `{"errors": ["Zone information could not be determined"]}`. The answer is
cached per (discovery base, user); a 401 later means "discover again once" (the database may
have moved to another zone).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

from psa.errors import AuthError, BadRequest, ConfigurationError, NotFound, parse_body
from psa.http import RetryingHttp

ZONE_CACHE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Zone:
    url: str  # e.g. https://webservices2.autotask.net/ATServicesRest/ (ends with '/')
    database_id: str  # `ci`: the Autotask database, which the hourly threshold is counted on
    name: str = ""

    @property
    def api_base(self) -> str:
        return f"{self.url}V1.0/"


def _cache_key(zone_url: str, username: str) -> str:
    digest = hashlib.sha256(f"{zone_url}\n{username.lower()}".encode()).hexdigest()[:32]
    return f"autotask:zone:{digest}"


def zone_parse(body: Any, *, username: str) -> Zone:
    if not isinstance(body, dict) or not isinstance(body.get("url"), str) or not body["url"]:
        raise ConfigurationError(f"zone discovery for {username!r} gave no zone URL: {body!r:.200}")
    url = body["url"] if body["url"].endswith("/") else body["url"] + "/"
    return Zone(url=url, database_id=str(body.get("ci") or url), name=str(body.get("zoneName") or ""))


def zone_discover(http: RetryingHttp, *, zone_url: str, username: str) -> Zone:
    """Ask the discovery base for the user's zone and remember it."""
    url = f"{zone_url}v1.0/zoneInformation"
    try:
        # Reference: api.md §1 GET .../v1.0/zoneInformation?user= (no auth headers)
        response = http.send("GET", url, params={"user": username}, headers={"Accept": "application/json"})
    except (BadRequest, AuthError) as err:
        raise AuthError(
            f"Autotask does not know the API user {username!r} (zone discovery)",
            url=url,
            status=err.status,
            psa_message=err.psa_message,
            body=err.body,
        ) from err
    except NotFound as err:
        raise ConfigurationError(
            f"{zone_url} does not answer zone discovery; check the zone URL", url=url
        ) from err
    zone = zone_parse(parse_body(response), username=username)
    cache.set(
        _cache_key(zone_url, username),
        {"url": zone.url, "ci": zone.database_id, "zoneName": zone.name},
        ZONE_CACHE_SECONDS,
    )
    return zone


def zone_cached(*, zone_url: str, username: str) -> Zone | None:
    body = cache.get(_cache_key(zone_url, username))
    return zone_parse(body, username=username) if body else None


def zone_forget(*, zone_url: str, username: str) -> None:
    cache.delete(_cache_key(zone_url, username))
