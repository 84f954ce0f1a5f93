"""One small exception tree for everything that can go wrong talking to a PSA.

    PSAError
    ├── RetryableError        the same request may succeed later
    │   ├── RateLimited       429; carries retry_after (seconds)
    │   ├── ServerError       5xx
    │   └── TransportError    timeout, connection refused/reset, TLS failure
    └── PermanentError        repeating the request will not help
        ├── AuthError         401 / 403
        ├── NotFound          404 (the record was deleted, or the path is wrong)
        ├── BadRequest        any other 4xx (400, 405, 409, 422 ...)
        └── ConfigurationError  bad site URL, plain http on a public host, unknown company

Every error carries the request (method, url), the HTTP status, the PSA's own message (from the
ConnectWise body `{"code","message","errors"}`) and the raw body, so a sync run or an outbox row
can show exactly what the PSA said. `str(err)` is one readable line; it never contains the
credentials (they travel only in the Authorization header, which is never stored here).
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests

BODY_PREVIEW_CHARS = 300


class PSAError(Exception):
    """Base class: anything that went wrong talking to a PSA."""

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        url: str | None = None,
        status: int | None = None,
        psa_message: str | None = None,
        psa_code: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = url
        self.status = status
        self.psa_message = psa_message
        self.psa_code = psa_code
        self.body = body

    def __str__(self) -> str:
        parts = []
        if self.method or self.url:
            parts.append(f"{self.method or ''} {self.url or ''}".strip())
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        head = " → ".join(parts)
        text = self.message
        if self.psa_message and self.psa_message not in text:
            text = f"{text}: {self.psa_message}"
        return f"{head}: {text}" if head else text


class RetryableError(PSAError):
    """The request may succeed if repeated after a delay."""


class RateLimited(RetryableError):
    """HTTP 429. `retry_after` is the server's Retry-After in seconds (None when absent)."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(RetryableError):
    """HTTP 5xx."""


class TransportError(RetryableError):
    """No usable HTTP response: timeout, connection refused or reset, TLS failure."""


class PermanentError(PSAError):
    """Repeating the same request will not help; a person or a code change must act."""


class AuthError(PermanentError):
    """HTTP 401 (wrong keys) or 403 (the API member's security role forbids it)."""


class NotFound(PermanentError):
    """HTTP 404: the record does not exist (deleted) or the path is wrong."""


class BadRequest(PermanentError):
    """Any other 4xx: invalid conditions, validation failure, conflict ..."""


class ConfigurationError(PermanentError):
    """The connection's settings cannot work (bad site URL, http on a public host, unknown company)."""


def parse_body(response: requests.Response) -> Any:
    """The decoded JSON body, or the text when it is not JSON, or None when empty."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text[: BODY_PREVIEW_CHARS * 10]


def is_psa_error_body(body: Any) -> bool:
    """True for a ConnectWise-shaped error body (`{"code": ..., "message": ...}`)."""
    return isinstance(body, dict) and ("code" in body or "message" in body)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: either delta-seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _psa_message(body: Any) -> tuple[str | None, str | None]:
    if isinstance(body, dict):
        message = body.get("message")
        details = body.get("errors")
        if isinstance(details, list) and details:
            detail_texts = [
                str(d.get("message") or d) if isinstance(d, dict) else str(d) for d in details[:5]
            ]
            message = f"{message or ''} ({'; '.join(detail_texts)})".strip()
        code = body.get("code") or body.get("error")
        return (str(message) if message else None, str(code) if code else None)
    if isinstance(body, str) and body.strip():
        return body.strip()[:BODY_PREVIEW_CHARS], None
    return None, None


def error_from_response(response: requests.Response, *, method: str, url: str) -> PSAError:
    """The right PSAError subclass for a non-2xx response."""
    status = response.status_code
    body = parse_body(response)
    psa_message, psa_code = _psa_message(body)
    kw: dict[str, Any] = {
        "method": method,
        "url": url,
        "status": status,
        "psa_message": psa_message,
        "psa_code": psa_code,
        "body": body,
    }
    reason = response.reason or "error"
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return RateLimited("rate limited by the PSA", retry_after=retry_after, **kw)
    if status >= 500:
        return ServerError(f"PSA server error ({reason})", **kw)
    if status in (401, 403):
        what = "authentication failed" if status == 401 else "forbidden by the API member's security role"
        return AuthError(what, **kw)
    if status == 404:
        return NotFound("not found", **kw)
    if 400 <= status < 500:
        return BadRequest(f"request rejected ({reason})", **kw)
    return PSAError(f"unexpected HTTP status {status}", **kw)
