"""The sandbox's HTTP/1.1 front: threaded, keep-alive, optional TLS.

API paths are `/{codebase}apis/3.0/...` under the codebase companyinfo reports and under
`v4_6_release/`, which cloud sites also answer and many clients use without asking. Pipeline:
injected fault → rate limit → Basic auth + clientId header → forced test errors → Api. `GET /login/companyinfo/{company}`
and the callback key URL are unauthenticated and never faulted or limited. Any other path
answers a plain 404 without a ConnectWise error body (what a client sees after an upgrade
moved the codebase; psa.connectwise.client then re-discovers it).
"""

from __future__ import annotations

import base64
import binascii
import logging
import select
import socket
import ssl
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from psa.sandbox.faults import SlidingWindowLimit
from psa.sandbox.replies import Reply, encode_json, error

if TYPE_CHECKING:
    from psa.sandbox.server import SandboxServer

logger = logging.getLogger("psa.sandbox.http")


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], sandbox: SandboxServer, tls: ssl.SSLContext | None) -> None:
        self.sandbox = sandbox
        self.tls = tls
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(address, SandboxHandler)

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = self.socket.accept()
        if self.tls is not None:  # handshake later, in the handler thread
            connection = self.tls.wrap_socket(connection, server_side=True, do_handshake_on_connect=False)
        with self.sockets_lock:
            self.open_sockets.add(connection)
        return connection, address

    def shutdown_request(self, request) -> None:  # a socket here (the base class also allows a tuple)
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def close_all(self) -> None:
        with self.sockets_lock:
            sockets = list(self.open_sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class SandboxHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ConnectWiseSandbox/1.0"
    timeout = 120  # idle keep-alive connections are closed after this
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stalls
    server: SandboxHTTPServer

    def setup(self) -> None:
        super().setup()
        if isinstance(self.connection, ssl.SSLSocket):
            try:
                self.connection.do_handshake()
            except (ssl.SSLError, OSError):
                self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        logger.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def do_PATCH(self) -> None:  # noqa: N802
        self._handle("PATCH")

    def do_PUT(self) -> None:  # noqa: N802
        self._handle("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle("DELETE")

    # --- pipeline --------------------------------------------------------------------------

    def _handle(self, method: str) -> None:
        sandbox = self.server.sandbox
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            self._send_plain(400, b"Bad Content-Length")
            return
        body = self.rfile.read(length) if length > 0 else b""
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        query = {k.lower(): v for k, v in parse_qsl(parts.query, keep_blank_values=True)}
        sandbox._count("requests")
        codebase, rest = _split_codebase(path, sandbox.codebases)
        if method == "GET" and path.lower().startswith("/login/companyinfo/"):
            self._send(Reply(200, sandbox.company_info(path.split("/", 3)[3])))
        elif method == "GET" and codebase and rest == "system/callbackkey/index.rails":
            self._callback_key(query)
        elif codebase and rest.startswith("apis/3.0/"):
            self._api(method, rest[len("apis/3.0/") :], query, body, codebase)
        else:
            self._send_plain(404, b"Not Found")

    def _callback_key(self, query: dict[str, str]) -> None:
        notifier = self.server.sandbox.notifier
        if query.get("keyid") != notifier.key_id:
            self._send(error(404, "NotFound", "unknown callback key"))
        else:
            self._send(Reply(200, {"signing_key": notifier.signing_key}))

    def _api(self, method: str, api_path: str, query: dict[str, str], body: bytes, codebase: str) -> None:
        sandbox = self.server.sandbox
        if sandbox.faults.latency_ms:
            time.sleep(sandbox.faults.latency_ms / 1000)
        fault = sandbox.injector.decide()
        if fault is not None:
            sandbox._count(f"fault_{fault}")
            self._fault(fault)
            return
        wait = sandbox.limiter.acquire()
        if wait is not None:
            sandbox._count("rate_limited")
            self._send(self._too_many(wait))
            return
        refusal = self._auth()
        if refusal is not None:
            self._send(refusal)
            return
        forced = sandbox.forced.take(method, api_path.strip("/"))
        if forced is not None:
            sandbox._count("forced_errors")
            self._send(error(forced.status, _code_for(forced.status), forced.message))
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            reply, template = sandbox.api.handle(
                method, api_path, query, headers, body, listings=sandbox.faults.listings
            )
        except Exception:  # a sandbox bug must still answer, like ConnectWise's own 500s
            logger.exception("sandbox failed on %s /%s", method, api_path)
            sandbox._count("internal_errors")
            reply, template = error(500, "InternalServerError", "the sandbox failed on this request"), "error"
        sandbox._count((method, template))
        if codebase != sandbox.codebase:  # paging links stay under the codebase the client called
            old, new = f"/{sandbox.codebase}apis/3.0/", f"/{codebase}apis/3.0/"
            reply.headers = [(n, v.replace(old, new) if n == "Link" else v) for n, v in reply.headers]
        self._send(reply)

    def _too_many(self, wait: float) -> Reply:
        reply = error(
            429, "TooManyRequests", "Rate limit exceeded: too many requests for this site, retry later"
        )
        reply.headers.append(("Retry-After", SlidingWindowLimit.retry_after(wait)))
        return reply

    def _fault(self, fault: str) -> None:
        sandbox = self.server.sandbox
        if fault == "500":
            self._send(error(500, "InternalServerError", "An unexpected error occurred (injected fault)"))
        elif fault == "429":
            self._send(self._too_many(1))
        elif fault == "reset":
            self._reset()
        else:  # timeout: say nothing until the client gives up, timeout_s passes or the sandbox stops
            deadline = time.monotonic() + sandbox.faults.timeout_s
            while time.monotonic() < deadline and not self._client_gone():
                if sandbox.stopping.wait(0.1):
                    break
            sandbox._count("timeouts_released")
            self._reset()

    def _client_gone(self) -> bool:
        """True once the client closed its end (a readable socket with nothing to read)."""
        if isinstance(self.connection, ssl.SSLSocket):
            return False  # no MSG_PEEK on TLS sockets: wait for the deadline instead
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _reset(self) -> None:
        self.close_connection = True
        try:  # SO_LINGER 0: close() sends a TCP RST instead of a clean FIN
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass

    def _auth(self) -> Reply | None:
        # Reference: developer guide "Authentication": Basic base64("{companyId}+{publicKey}:{privateKey}"),
        # plus a clientId header on every call.
        sandbox = self.server.sandbox
        header = self.headers.get("Authorization") or ""
        scheme, _, token = header.partition(" ")
        try:
            decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8") if token else ""
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        if scheme.lower() != "basic" or decoded != sandbox.expected_basic:
            sandbox._count("unauthorized")
            return error(
                401,
                "Unauthorized",
                "Username or password is incorrect, or the API keys are not valid for this company.",
            )
        client_id = self.headers.get("clientId") or ""
        if not client_id.strip():
            sandbox._count("missing_client_id")
            return error(
                403,
                "Forbidden",
                "A clientId header is required on every request; see "
                "https://developer.connectwise.com/ClientID",
            )
        return None

    # --- writing ---------------------------------------------------------------------------

    def _send(self, reply: Reply) -> None:
        if reply.raw is not None:
            payload = reply.raw
        elif reply.status == 204 or reply.body is None and reply.status != 200:
            payload = b""
        else:
            payload = encode_json(reply.body)
        if reply.status == 429:  # counted before it is sent: a client that saw it sees the count
            self.server.sandbox._count("status_429")
        self.send_response(reply.status)
        if payload:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    def _send_plain(self, status: int, text: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)


def _split_codebase(path: str, codebases: tuple[str, ...]) -> tuple[str | None, str]:
    """(`v2025_1/`, `apis/3.0/...`) when the path starts with a codebase the site answers."""
    for codebase in codebases:
        if path.startswith(f"/{codebase}"):
            return codebase, path[len(codebase) + 1 :]
    return None, path


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
