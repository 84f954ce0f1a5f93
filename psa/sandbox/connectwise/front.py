"""How a ConnectWise site answers one request (the shared HTTP front calls `serve`).

API paths are `/{codebase}apis/3.0/...` under the codebase companyinfo reports and under
`v4_6_release/`, which cloud sites also answer and many clients use without asking. Pipeline:
injected fault → rate limit → Basic auth + clientId header → forced test errors → Api.
`GET /login/companyinfo/{company}` and the callback key URL are unauthenticated and never
faulted or limited. Other paths are not claimed: the host answers a plain 404 without a
ConnectWise error body (what a client sees after an upgrade moved the codebase;
psa.connectwise.client then re-discovers it).
"""

from __future__ import annotations

import base64
import binascii
import logging
import time
from typing import TYPE_CHECKING

from psa.sandbox.faults import SlidingWindowLimit
from psa.sandbox.replies import Reply, encode_json, error
from psa.sandbox.site import SandboxRequest

if TYPE_CHECKING:
    from psa.sandbox.connectwise.server import SandboxServer

logger = logging.getLogger("psa.sandbox.connectwise")

COMPANY_INFO = "/login/companyinfo/"
API_PREFIX = "apis/3.0/"


def split_codebase(path: str, codebases: tuple[str, ...]) -> tuple[str | None, str]:
    """(`v2025_1/`, `apis/3.0/...`) when the path starts with a codebase the site answers."""
    lowered = path.lower()
    for codebase in codebases:  # IIS paths ignore case: /V4_6_release/APIs/3.0/ is the same API
        if lowered.startswith(f"/{codebase.lower()}"):
            rest = path[len(codebase) + 1 :]
            return codebase, API_PREFIX + rest[len(API_PREFIX) :] if _is_api(rest) else rest
    return None, path


def _is_api(rest: str) -> bool:
    return rest[: len(API_PREFIX)].lower() == API_PREFIX


def claims(sandbox: SandboxServer, request: SandboxRequest) -> bool:
    """A site alone on its host claims every ConnectWise path; one of several tenants on a host
    (`claim_by_company`) only its own: its company's companyinfo, its callback key, and API
    requests whose Basic auth names its company (an unknown company gets the host's 404)."""
    if request.path.lower().startswith(COMPANY_INFO):
        return not sandbox.claim_by_company or _same_company(sandbox, request.path[len(COMPANY_INFO) :])
    codebase, rest = split_codebase(request.path, sandbox.codebases)
    if codebase is None:
        return False
    if not sandbox.claim_by_company:
        return True
    if rest == "system/callbackkey/index.rails":
        return request.query.get("keyid") == sandbox.notifier.key_id
    return _same_company(sandbox, basic_user(request.headers).partition("+")[0])


def _same_company(sandbox: SandboxServer, company: str) -> bool:
    return company.strip().lower() == sandbox.company.lower()


def basic_user(headers: dict[str, str]) -> str:
    """`company+publickey:privatekey` of a Basic Authorization header ('' when there is none)."""
    scheme, _, token = (headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "basic" or not token:
        return ""
    try:
        return base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ""


def serve(sandbox: SandboxServer, request: SandboxRequest) -> Reply | None:
    """The answer, or None for a path under a codebase that no ConnectWise route knows."""
    sandbox._count("requests")
    codebase, rest = split_codebase(request.path, sandbox.codebases)
    if request.method == "GET" and request.path.lower().startswith(COMPANY_INFO):
        return Reply(200, sandbox.company_info(request.path.split("/", 3)[3]))
    if request.method == "GET" and codebase and rest == "system/callbackkey/index.rails":
        return _callback_key(sandbox, request.query)
    if codebase and rest.startswith(API_PREFIX):
        reply = _api(sandbox, request, rest[len(API_PREFIX) :], codebase)
        if reply.status == 429:  # counted before it is sent: a client that saw it sees the count
            sandbox._count("status_429")
        return reply
    return None


def _callback_key(sandbox: SandboxServer, query: dict[str, str]) -> Reply:
    notifier = sandbox.notifier
    if query.get("keyid") != notifier.key_id:
        return error(404, "NotFound", "unknown callback key")
    return Reply(200, {"signing_key": notifier.signing_key})


def _api(sandbox: SandboxServer, request: SandboxRequest, api_path: str, codebase: str) -> Reply:
    if sandbox.faults.latency_ms:
        time.sleep(sandbox.faults.latency_ms / 1000)
    fault = sandbox.injector.decide()
    if fault is not None:
        sandbox._count(f"fault_{fault}")
        return _fault(sandbox, fault)
    wait = sandbox.limiter.acquire()
    if wait is not None:
        sandbox._count("rate_limited")
        return _too_many(wait)
    refusal = _auth(sandbox, request.headers)
    if refusal is not None:
        return refusal
    forced = sandbox.forced.take(request.method, api_path.strip("/"))
    if forced is not None:
        sandbox._count("forced_errors")
        return error(forced.status, _code_for(forced.status), forced.message)
    try:
        reply, template = sandbox.api.handle(
            request.method,
            api_path,
            request.query,
            request.headers,
            _as_utf8(request.body, request.headers.get("content-type", "")),
            listings=sandbox.faults.listings,
        )
    except Exception:  # a sandbox bug must still answer, like ConnectWise's own 500s
        logger.exception("sandbox failed on %s /%s", request.method, api_path)
        sandbox._count("internal_errors")
        reply, template = error(500, "InternalServerError", "the sandbox failed on this request"), "error"
    sandbox._count((request.method, template))
    reply = sandbox.answer_or_lose(request.method, api_path.strip("/"), reply)
    if codebase != sandbox.codebase:
        _under_codebase(reply, f"/{sandbox.codebase}apis/3.0/", f"/{codebase}apis/3.0/")
    return reply


def _as_utf8(body: bytes, content_type: str) -> bytes:
    """The body as UTF-8. Windows PowerShell 5.1 sends a string body in ISO-8859-1 when the
    Content-Type names no charset. Read like an ASP.NET JSON formatter reads it: in the declared
    charset, else as UTF-8 with U+FFFD for bytes that do not decode (not a 400 for the note)."""
    try:
        body.decode("utf-8")
        return body
    except UnicodeDecodeError:
        pass
    charset = _charset_of(content_type)
    try:
        return body.decode(charset or "utf-8", errors="replace").encode("utf-8")
    except LookupError:  # a charset Python does not know
        return body.decode("utf-8", errors="replace").encode("utf-8")


def _charset_of(content_type: str) -> str | None:
    for parameter in content_type.split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"') or None
    return None


def _under_codebase(reply: Reply, old: str, new: str) -> None:
    """Paging links and the records' `_info` hrefs under the codebase the client called (most
    call `v4_6_release/`): ConnectWise builds them from the request's own URL."""
    reply.headers = [(n, v.replace(old, new) if n == "Link" else v) for n, v in reply.headers]
    if reply.raw is None and reply.body is None:
        return
    encoded = reply.raw if reply.raw is not None else encode_json(reply.body)
    reply.raw = encoded.replace(old.encode(), new.encode())


def _too_many(wait: float) -> Reply:
    reply = error(429, "TooManyRequests", "Rate limit exceeded: too many requests for this site, retry later")
    reply.headers.append(("Retry-After", SlidingWindowLimit.retry_after(wait)))
    return reply


def _fault(sandbox: SandboxServer, fault: str) -> Reply:
    if fault == "500":
        return error(500, "InternalServerError", "An unexpected error occurred (injected fault)")
    if fault == "429":
        return _too_many(1)
    if fault == "reset":
        return Reply(0, fault="reset")
    return Reply(
        0,
        fault="timeout",
        timeout_s=sandbox.faults.timeout_s,
        released=lambda: sandbox._count("timeouts_released"),
    )


def _auth(sandbox: SandboxServer, headers: dict[str, str]) -> Reply | None:
    # Reference: developer guide "Authentication": Basic base64("{companyId}+{publicKey}:{privateKey}"),
    # plus a clientId header on every call.
    if not _keys_match(basic_user(headers), sandbox.expected_basic):
        sandbox._count("unauthorized")
        return error(
            401,
            "Unauthorized",
            "Username or password is incorrect, or the API keys are not valid for this company.",
        )
    if not (headers.get("clientid") or "").strip():
        sandbox._count("missing_client_id")
        return error(
            403,
            "Forbidden",
            "A clientId header is required on every request; see https://developer.connectwise.com/ClientID",
        )
    return None


def _keys_match(given: str, expected: str) -> bool:
    """`company+public:private` as the site expects it. The company id is the login company,
    which ConnectWise matches ignoring case (as companyinfo does); the keys must match exactly."""
    given_company, plus, given_keys = given.partition("+")
    company, _, keys = expected.partition("+")
    return bool(plus) and given_company.strip().lower() == company.lower() and given_keys == keys


def _code_for(status: int) -> str:
    return {
        400: "InvalidObject",
        401: "Unauthorized",
        403: "Forbidden",
        404: "NotFound",
        409: "Conflict",
        429: "TooManyRequests",
        500: "InternalServerError",
        503: "ServiceUnavailable",
    }.get(status, "Error")
