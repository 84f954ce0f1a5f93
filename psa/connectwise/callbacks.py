"""ConnectWise callbacks (webhooks): verify the signature, parse the payload, keep registrations.

Reference: developer guide "Callbacks (Webhooks)" and psa-api-facts.md:
- body `{"MessageId","FromUrl","CompanyId","MemberId","Action","Type","ID","Entity",
  "Metadata":{"key_url"},"CallbackObjectRecId"}`; `Entity` is a JSON string (null on delete);
- header `x-content-signature` = base64(HMAC_SHA256(key=SHA256(utf8(signing_key)), raw body));
  `GET key_url` answers `{"signing_key": "..."}`;
- registrations live at `system/callbacks` (`{"url","objectId":1,"type","level":"owner",
  "description"}`); the PSA appends the record id, so the URL ends with `?recordId=`.

The key_url comes from the (not yet authenticated) request body, so fetching it is an SSRF
risk: it is fetched only over https from the connection's own PSA host (plain http only when
the connection's site is itself a loopback sandbox) and only at the signing-key path, never
following redirects, with a short timeout, at most KEY_FETCHES_PER_MINUTE times a minute per
connection, and the answer is cached per connection + key_url.

The body is not authenticated when it is parsed either: any malformed body (not JSON, nested
too deeply, an ID that is not an integer such as 1e400) is an InvalidCallback (400), never a 500.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from django.core.cache import cache

from psa.connectwise.discovery import Site, parse_site
from psa.errors import NotFound
from psa.providers import CallbackRejected

logger = logging.getLogger("psa.connectwise.callbacks")

SIGNATURE_HEADER = "x-content-signature"
KEY_FETCH_TIMEOUT = (2.0, 2.0)  # connect, read: the receiver must answer well inside 5 s
KEY_CACHE_SECONDS = 3600
ACTIONS = frozenset({"added", "updated", "deleted"})
# Reference: psa-api-facts.md "Callbacks": key_url is https://{site}/{codebase}/system/callbackkey/index.rails?...
KEY_PATH = re.compile(r"/[A-Za-z0-9_.]{1,40}/system/callbackkey/index\.rails", re.IGNORECASE)
KEY_FETCHES_PER_MINUTE = 6  # a key rotation needs one or two; forged key_urls get no more

# What TopLeft registers: owner level, objectId 1 (developer guide "Configuring the Callbacks").
# schedule: ticket resources are schedule entries of type S, they change without a ticket callback.
CALLBACK_TYPES = ("ticket", "opportunity", "project", "company", "schedule")
DESCRIPTION = "TopLeft mirror"


class CallbackError(CallbackRejected):
    """Base: the callback cannot be accepted. `status` is the HTTP answer the receiver gives."""

    status = 400


class InvalidCallback(CallbackError):
    """Not JSON, not an object, or a required field missing / of the wrong type."""

    status = 400


class _TooDeep(InvalidCallback):
    """JSON nested too deeply to decode (a hostile document, never a PSA's)."""


class SignatureMissing(CallbackError):
    status = 401


class SignatureMismatch(CallbackError):
    status = 401


class UntrustedKeyUrl(CallbackError):
    """The key_url points somewhere we must not fetch (other host, http, odd port)."""

    status = 403


class KeyUnavailable(CallbackError):
    """The PSA did not hand out the signing key (down, redirect, bad answer)."""

    status = 503


@dataclass(frozen=True)
class CallbackPayload:
    type: str  # lower case: ticket, opportunity, project, company, schedule, ...
    action: str  # added | updated | deleted
    record_id: int
    key_url: str
    entity: dict | None  # the decoded `Entity` record, None on delete or when unreadable
    company_id: str
    message_id: str

    @property
    def record_type(self) -> str:
        """ServiceTicket / ProjectTicket / ProjectIssue for tickets ('' when unknown)."""
        return str((self.entity or {}).get("recordType") or "")


def _json(raw: bytes | str, what: str) -> Any:
    """json.loads that turns every way a hostile document fails into InvalidCallback."""
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidCallback(f"{what} is not JSON") from None
    except RecursionError:  # e.g. 50,000 "[": the decoder recurses once per level
        raise _TooDeep(f"{what} is nested too deeply") from None


def _decode_entity(raw: Any) -> dict | None:
    # Entity is a JSON string inside the JSON body (a second decode); accept an object too.
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        decoded = _json(raw, "Entity")
    except _TooDeep:
        raise
    except InvalidCallback:
        logger.info("callback Entity is not JSON; ignoring it (the refresh re-reads the record)")
        return None
    return decoded if isinstance(decoded, dict) else None


def _record_id(value: Any) -> int:
    # An integer, or a string of digits; never a float (1.5 would become record 1, 1e400 is inf).
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidCallback("ID is missing or not an integer")
    if not 0 < value < 2**63:
        raise InvalidCallback("ID is out of range")
    return value


def callback_parse(body: bytes) -> CallbackPayload:
    """The payload of a callback body. Raises InvalidCallback for anything unusable."""
    data = _json(body, "body")
    if not isinstance(data, dict):
        raise InvalidCallback("body is not a JSON object")
    kind = data.get("Type")
    action = data.get("Action")
    metadata = data.get("Metadata")
    if not isinstance(kind, str) or not kind.strip():
        raise InvalidCallback("Type is missing")
    if not isinstance(action, str) or action.strip().lower() not in ACTIONS:
        raise InvalidCallback("Action is missing or unknown")
    key_url = metadata.get("key_url") if isinstance(metadata, dict) else None
    if not isinstance(key_url, str) or not key_url:
        raise InvalidCallback("Metadata.key_url is missing")
    return CallbackPayload(
        type=kind.strip().lower(),
        action=action.strip().lower(),
        record_id=_record_id(data.get("ID")),
        key_url=key_url,
        entity=_decode_entity(data.get("Entity")),
        company_id=str(data.get("CompanyId") or ""),
        message_id=str(data.get("MessageId") or ""),
    )


# --- signature ---------------------------------------------------------------------------------


def signature_compute(*, body: bytes, signing_key: str) -> str:
    """base64(HMAC_SHA256(key=SHA256(utf8(signing_key)), msg=body)), as the guide's C# sample."""
    key = hashlib.sha256(signing_key.encode("utf-8")).digest()
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode("ascii")


def signature_verify(*, body: bytes, signing_key: str, signature: str | None) -> None:
    """Raise SignatureMissing / SignatureMismatch unless `signature` signs `body` (constant time)."""
    if not signature or not signature.strip():
        raise SignatureMissing(f"{SIGNATURE_HEADER} header is missing")
    expected = signature_compute(body=body, signing_key=signing_key)
    if not hmac.compare_digest(expected.encode("ascii"), signature.strip().encode("ascii", "replace")):
        raise SignatureMismatch("signature does not match the body")


# --- the signing key ---------------------------------------------------------------------------


def key_url_check(*, key_url: str, site_url: str) -> str:
    """`key_url` if it may be fetched for a connection on `site_url`, else UntrustedKeyUrl."""
    site: Site = parse_site(site_url)
    try:
        parts = urlsplit(key_url)
        port = parts.port
    except ValueError:
        raise UntrustedKeyUrl("key_url is not a valid URL") from None
    host = (parts.hostname or "").lower()
    allowed_hosts = {site.host, site.api_host}
    if parts.username or parts.password:
        raise UntrustedKeyUrl("key_url carries credentials")
    if host not in allowed_hosts:
        raise UntrustedKeyUrl(f"key_url host {host!r} is not the connection's PSA host")
    # http only when the connection itself is a loopback sandbox (parse_site allows nothing else).
    if parts.scheme != site.scheme or parts.scheme not in ("https", "http"):
        raise UntrustedKeyUrl(f"key_url must use {site.scheme}")
    if port != site.port:
        raise UntrustedKeyUrl("key_url port differs from the connection's site")
    if not KEY_PATH.fullmatch(parts.path):
        raise UntrustedKeyUrl("key_url is not the PSA's signing-key path")
    return key_url


def _key_cache_key(connection_id: int, key_url: str) -> str:
    digest = hashlib.sha256(key_url.encode("utf-8")).hexdigest()[:40]
    return f"psa:cw:callbackkey:{connection_id}:{digest}"


def signing_key_fetch(
    *,
    connection_id: int,
    key_url: str,
    site_url: str,
    session: requests.Session | None = None,
) -> str:
    """The signing key behind `key_url` (cached). Raises UntrustedKeyUrl / KeyUnavailable."""
    key_url_check(key_url=key_url, site_url=site_url)
    cache_key = _key_cache_key(connection_id, key_url)
    cached = _cache_call(cache.get, cache_key)
    if cached:
        return cached
    if not _key_fetch_allowed(connection_id):
        raise KeyUnavailable("too many signing-key fetches for this connection; retry later")
    http = session or requests
    try:
        # Reference: psa-api-facts.md "Callbacks": GET key_url → {"signing_key": "..."}
        response = http.get(
            key_url, timeout=KEY_FETCH_TIMEOUT, allow_redirects=False, headers={"Accept": "application/json"}
        )
    except requests.RequestException as exc:
        raise KeyUnavailable(f"signing key fetch failed: {exc.__class__.__name__}") from None
    if response.status_code != 200:
        raise KeyUnavailable(f"signing key fetch answered HTTP {response.status_code}")
    try:
        signing_key = response.json().get("signing_key")
    except (ValueError, AttributeError):
        signing_key = None
    if not isinstance(signing_key, str) or not signing_key:
        raise KeyUnavailable("signing key answer has no signing_key")
    _cache_call(cache.set, cache_key, signing_key, KEY_CACHE_SECONDS)
    return signing_key


def signing_key_forget(*, connection_id: int, key_url: str) -> None:
    _cache_call(cache.delete, _key_cache_key(connection_id, key_url))


def _cache_call(operation: Any, *args: Any) -> Any:
    """A cache operation that degrades to "no cache" while the cache (Redis) is unreachable: the
    key is then fetched per callback, still under the per-connection fetch limit."""
    try:
        return operation(*args)
    except Exception as exc:  # the Redis backend raises redis-py's errors, others their own
        logger.warning("signing-key cache unavailable (%s); fetching without it", exc.__class__.__name__)
        return None


_local_fetches: dict[int, deque[float]] = {}
_local_lock = threading.Lock()


def _key_fetch_allowed(connection_id: int) -> bool:
    """At most KEY_FETCHES_PER_MINUTE outbound key fetches per connection: counted in the cache
    (shared by every web process), or in this process while the cache is down."""
    minute = int(time.time() // 60)
    try:
        key = f"psa:cw:callbackkey-fetches:{connection_id}:{minute}"
        cache.add(key, 0, 120)
        return cache.incr(key) <= KEY_FETCHES_PER_MINUTE
    except Exception:
        with _local_lock:
            recent = _local_fetches.setdefault(connection_id, deque())
            now = time.monotonic()
            while recent and now - recent[0] > 60:
                recent.popleft()
            if len(recent) >= KEY_FETCHES_PER_MINUTE:
                return False
            recent.append(now)
            return True


# --- registrations -----------------------------------------------------------------------------


def callback_url(*, public_url: str, webhook_token: str) -> str:
    """Where the PSA posts: ends with `?recordId=` (the PSA appends the id; developer guide)."""
    return f"{public_url.rstrip('/')}/hooks/connectwise/{webhook_token}/?recordId="


def desired_registrations(url: str) -> list[dict]:
    return [
        {"url": url, "objectId": 1, "type": t, "level": "owner", "description": DESCRIPTION}
        for t in CALLBACK_TYPES
    ]


def _registration_key(entry: dict) -> tuple:
    return (
        str(entry.get("url") or ""),
        str(entry.get("type") or "").lower(),
        str(entry.get("level") or "").lower(),
        int(entry.get("objectId") or 0),
    )


def is_ours(entry: dict, *, webhook_token: str) -> bool:
    """Registrations pointing at this connection's receiver, whatever the public URL was then."""
    return f"/hooks/connectwise/{webhook_token}/" in str(entry.get("url") or "")


def callbacks_list(client: Any, *, webhook_token: str | None = None) -> list[dict]:
    """All registrations of the site (only ours when `webhook_token` is given)."""
    # Reference: endpoints.tsv GET /system/callbacks (no forward-only paging on this endpoint)
    entries = client.list_all("system/callbacks", forward_only=False)
    if webhook_token is None:
        return entries
    return [e for e in entries if is_ours(e, webhook_token=webhook_token)]


@dataclass(frozen=True)
class RegistrationChanges:
    added: list[dict]
    removed: list[dict]
    kept: list[dict]


def callbacks_ensure(*, client: Any, url: str, webhook_token: str) -> RegistrationChanges:
    """Make our registrations exactly `desired_registrations(url)`, touching only differences."""
    desired = {_registration_key(d): d for d in desired_registrations(url)}
    existing = callbacks_list(client, webhook_token=webhook_token)
    kept, removed, seen = [], [], set()
    for entry in existing:
        key = _registration_key(entry)
        if key in desired and key not in seen and not entry.get("inactiveFlag"):
            seen.add(key)
            kept.append(entry)
        else:  # stale URL, type we no longer want, duplicate or disabled by the PSA
            _delete_registration(client, entry)
            removed.append(entry)
    added = []
    for key, body in desired.items():
        if key not in seen:
            # Reference: endpoints.tsv POST /system/callbacks (CallbackEntry)
            added.append(client.post("system/callbacks", body))
    return RegistrationChanges(added=added, removed=removed, kept=kept)


def callbacks_remove(*, client: Any, webhook_token: str) -> list[dict]:
    """Delete every registration pointing at this connection's receiver."""
    removed = callbacks_list(client, webhook_token=webhook_token)
    for entry in removed:
        _delete_registration(client, entry)
    return removed


def _delete_registration(client: Any, entry: dict) -> None:
    try:
        # Reference: endpoints.tsv DELETE /system/callbacks/{id}
        client.delete(f"system/callbacks/{int(entry['id'])}")
    except NotFound:
        logger.info("callback registration %s was already gone", entry.get("id"))


# --- per connection (management command, admin action) ----------------------------------------


def _client_for(connection: Any) -> Any:
    from psa.connectwise.client import ConnectWiseClient

    return ConnectWiseClient.from_connection(connection, interactive=True)


def connection_callbacks_ensure(*, connection: Any, public_url: str) -> RegistrationChanges:
    url = callback_url(public_url=public_url, webhook_token=connection.webhook_token)
    return callbacks_ensure(client=_client_for(connection), url=url, webhook_token=connection.webhook_token)


def connection_callbacks_list(*, connection: Any) -> list[dict]:
    return callbacks_list(_client_for(connection), webhook_token=connection.webhook_token)


def connection_callbacks_remove(*, connection: Any) -> list[dict]:
    return callbacks_remove(client=_client_for(connection), webhook_token=connection.webhook_token)
