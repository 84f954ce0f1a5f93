"""SandboxHost: one HTTP(S) port serving every PSA site of the sandbox (see site.py)."""

from __future__ import annotations

import ssl
import threading

from psa.sandbox.http import SandboxHTTPServer
from psa.sandbox.replies import Reply
from psa.sandbox.site import SandboxRequest, Site


class SandboxHost:
    """Binds `host:port` at once (port 0 = any free port; `url` is known before `start`)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        tls_cert: str | None = None,
        tls_key: str | None = None,
    ) -> None:
        self.sites: list[Site] = []
        self.stopping = threading.Event()
        tls = tls_context(tls_cert, tls_key)
        self._httpd = SandboxHTTPServer((host, port), self, tls)
        bound_host, bound_port = self._httpd.server_address[:2]
        host_text = bound_host.decode() if isinstance(bound_host, bytes) else str(bound_host)
        shown_host = f"[{host_text}]" if ":" in host_text else host_text
        self.url = f"{'https' if tls else 'http'}://{shown_host}:{bound_port}"
        self._thread: threading.Thread | None = None

    def add(self, site: Site) -> Site:
        self.sites.append(site)
        return site

    def dispatch(self, request: SandboxRequest) -> Reply | None:
        """The first claiming site's answer; None when no site claims the request (plain 404)."""
        for site in self.sites:
            if site.claims(request):
                return site.serve(request)
        return None

    def start(self) -> SandboxHost:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.1},
                name="sandbox-http",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()
        self._httpd.close_all()


def tls_context(cert: str | None, key: str | None) -> ssl.SSLContext | None:
    if not cert and not key:
        return None
    if not (cert and key):
        raise ValueError("TLS needs both --tls-cert and --tls-key")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context
