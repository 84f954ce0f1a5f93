"""Autotask's error answers → the psa/errors.py tree.

Reference: api.md §6 — errors come as `{"errors": ["message", ...]}` (ASP.NET framework errors
such as the 405 as `{"Message": "..."}`); a business rule, a validation failure, a missing
permission, an unknown user or a bad integration code are all answered 500 with the reason in
`errors`: repeating those cannot help, so they are final, unlike a bare 500 or a 502/503/504.
§2: a wrong secret is an empty 401. §7: past the hourly threshold calls are refused.
"""

from __future__ import annotations

from typing import Any

import requests

from psa.errors import (
    AuthError,
    BadRequest,
    NotFound,
    PSAError,
    RateLimited,
    ServerError,
    parse_body,
    parse_retry_after,
)

# Texts (lower case) that tell what a 500 with an `errors` body really is.
_PERMISSION_TEXTS = ("adequate permissions", "not have permission", "security level")
_CREDENTIAL_TEXTS = ("integrationcode is invalid", "zone information could not be determined")
_THRESHOLD_TEXTS = ("threshold",)
THRESHOLD_RETRY_SECONDS = 60.0  # the window is rolling: some capacity frees up every minute


def error_messages(body: Any) -> list[str]:
    """The messages of an Autotask error body ([] when it has none)."""
    if not isinstance(body, dict):
        return [body.strip()[:300]] if isinstance(body, str) and body.strip() else []
    errors = body.get("errors")
    if isinstance(errors, list):
        return [str(e.get("message") if isinstance(e, dict) else e) for e in errors if e not in (None, "")]
    message = body.get("Message") or body.get("message")
    return [str(message)] if message else []


def _mentions(messages: list[str], texts: tuple[str, ...]) -> bool:
    joined = " ".join(messages).lower()
    return any(text in joined for text in texts)


def error_for(response: requests.Response, *, method: str, url: str) -> PSAError:
    """The right PSAError subclass for a non-2xx Autotask answer."""
    status = response.status_code
    body = parse_body(response)
    messages = error_messages(body)
    kw: dict[str, Any] = {
        "method": method,
        "url": url,
        "status": status,
        "psa_message": "; ".join(messages[:5]) or None,
        "body": body,
    }
    if status == 429 or (messages and _mentions(messages, _THRESHOLD_TEXTS)):
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return RateLimited(
            "over Autotask's request threshold", retry_after=retry_after or THRESHOLD_RETRY_SECONDS, **kw
        )
    if status == 401:
        return AuthError("authentication failed: check the API username and secret", **kw)
    if status == 403 or (status == 500 and _mentions(messages, _PERMISSION_TEXTS)):
        return AuthError("the API user's security level does not allow this", **kw)
    if status == 500 and _mentions(messages, _CREDENTIAL_TEXTS):
        return AuthError("Autotask refused the credentials", **kw)
    if status == 500 and messages:
        return BadRequest("Autotask refused the request", **kw)
    if status >= 500:
        return ServerError(f"Autotask server error ({response.reason or status})", **kw)
    if status == 404:
        return NotFound("not found", **kw)
    if 400 <= status < 500:
        return BadRequest(f"request rejected ({response.reason or status})", **kw)
    return PSAError(f"unexpected HTTP status {status}", **kw)


def refusal_in_success(response: requests.Response, body: Any, *, method: str) -> PSAError | None:
    """A 2xx answer that carries `errors` is a refusal all the same (go-autotask does the same)."""
    messages = error_messages(body) if isinstance(body, dict) and body.get("errors") else []
    if not messages:
        return None
    return BadRequest(
        "Autotask answered with errors",
        method=method,
        url=response.url,
        status=response.status_code,
        psa_message="; ".join(messages[:5]),
        body=body,
    )
