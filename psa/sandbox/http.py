"""The sandbox's HTTP/1.1 front: threaded, keep-alive, optional TLS.

Each request becomes a SandboxRequest that the host (host.py) hands to the first site claiming
it; a path no site claims answers a plain 404 without any vendor's error body. A site's Reply
may ask for a fault instead of an answer (a TCP reset, or silence until the client times out).
"""

from __future__ import annotations

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

from psa.sandbox.replies import Reply, encode_json
from psa.sandbox.site import SandboxRequest

if TYPE_CHECKING:
    from psa.sandbox.host import SandboxHost

logger = logging.getLogger("psa.sandbox.http")
MAX_LINE = 65_537  # a chunk-size or trailer line
MAX_BODY = 64 * 1024 * 1024  # a chunked body larger than this is refused


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], host: SandboxHost, tls: ssl.SSLContext | None) -> None:
        self.host = host
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
    server_version = "PSASandbox/1.0"
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

    # --- dispatch --------------------------------------------------------------------------

    def _handle(self, method: str) -> None:
        body = self._read_body()
        if body is None:
            self.close_connection = True
            self._send_plain(400, b"Bad Content-Length or chunked body")
            return
        parts = urlsplit(self.path)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        request = SandboxRequest(
            method=method,
            path=unquote(parts.path),
            query={k.lower(): v for k, v in pairs},
            pairs=pairs,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        reply = self.server.host.dispatch(request)
        if reply is None:
            self._send_plain(404, b"Not Found")
        elif reply.fault == "reset":
            self._reset()
        elif reply.fault == "timeout":
            self._stall(reply.timeout_s)
            if reply.released is not None:
                reply.released()
        else:
            self._send(reply)

    def _read_body(self) -> bytes | None:
        """The request body: Content-Length bytes, or a chunked body (.NET's PostAsJsonAsync and
        streaming clients send one without a length); None when it cannot be read."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunks()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunks(self) -> bytes | None:
        body = bytearray()
        while True:
            size_line = self.rfile.readline(MAX_LINE)
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                return None
            if size == 0:
                while self.rfile.readline(MAX_LINE) not in (b"\r\n", b"\n", b""):
                    pass  # trailer fields, unused
                return bytes(body)
            if len(body) + size > MAX_BODY:
                return None
            body += self.rfile.read(size)
            self.rfile.readline(MAX_LINE)  # the CRLF closing the chunk

    def _stall(self, seconds: float) -> None:
        """Say nothing until the client gives up, `seconds` pass or the sandbox stops; then reset."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self._client_gone():
            if self.server.host.stopping.wait(0.1):
                break
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

    # --- writing ---------------------------------------------------------------------------

    def _send(self, reply: Reply) -> None:
        if reply.raw is not None:
            payload = reply.raw
        elif reply.status == 204 or reply.body is None and reply.status != 200:
            payload = b""
        else:
            payload = encode_json(reply.body)
        self.send_response(reply.status)
        if payload:
            self.send_header("Content-Type", reply.content_type)
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
