"""SandboxServer: the ConnectWise site — seeded data, callbacks and activity — on a SandboxHost.

Alone (`SandboxServer(...)`) it owns a host on `host:port`; given `site_host=` it joins an
existing one (several PSAs or tenants on one port) and the host's owner starts and stops it.
"""

from __future__ import annotations

import re
from datetime import datetime

from psa.sandbox.connectwise import front
from psa.sandbox.connectwise.activity import Activity
from psa.sandbox.connectwise.api import Api
from psa.sandbox.connectwise.data import Generator
from psa.sandbox.connectwise.notify import CallbackNotifier
from psa.sandbox.connectwise.refs import RefBuilder
from psa.sandbox.connectwise.rules import Rules
from psa.sandbox.connectwise.store import SandboxStore
from psa.sandbox.faults import SlidingWindowLimit
from psa.sandbox.host import SandboxHost
from psa.sandbox.replies import Reply
from psa.sandbox.site import SandboxRequest, SiteKnobs, start_of_today

DEFAULT_CLIENT_ID = "8a0c6f3e-0000-4000-8000-000000000001"
LEGACY_CODEBASE = "v4_6_release/"


class SandboxServer(SiteKnobs):
    """A ConnectWise PSA look-alike on `host:port` (port 0 = any free port; see `url`)."""

    def __init__(
        self,
        *,
        scale: str = "small",
        seed: int = 1,
        host: str = "127.0.0.1",
        port: int = 0,
        site_host: SandboxHost | None = None,
        claim_by_company: bool = False,
        faults: str | None = None,
        rate_limit_per_minute: int = 1000,
        activity_per_second: float = 0.0,
        tls_cert: str | None = None,
        tls_key: str | None = None,
        company: str = "sandbox",
        public_key: str = "sandbox-public",
        private_key: str = "sandbox-private",
        client_id: str = DEFAULT_CLIENT_ID,
        codebase: str = "v2025_1/",
        anchor: datetime | None = None,
        callback_retry_delays: tuple[float, ...] = (2.0, 4.0),
        rate_limit_window_seconds: float = 60.0,
    ) -> None:
        self.scale, self.seed, self.company = scale, seed, company
        self.codebase = codebase if codebase.endswith("/") else codebase + "/"
        # A real cloud site answers its current codebase and the long-lived `v4_6_release/` alias.
        self.codebases = tuple(dict.fromkeys((self.codebase, LEGACY_CODEBASE)))
        self.anchor = anchor or start_of_today()
        self.expected_basic = f"{company}+{public_key}:{private_key}"
        self.knobs_init(faults, seed)
        self.limiter = SlidingWindowLimit(rate_limit_per_minute, window_seconds=rate_limit_window_seconds)
        # one tenant of several on a shared host: claim only requests naming this company (front.py)
        self.claim_by_company = claim_by_company
        self.owns_host = site_host is None
        self.host = site_host or SandboxHost(host, port, tls_cert, tls_key)  # bound now: the URL is known
        self.url = self.host.url
        self.stopping = self.host.stopping
        self.credentials = {
            "site_url": self.url,
            "company_id": company,
            "public_key": public_key,
            "private_key": private_key,
            "client_id": client_id,
        }
        self.api_base = f"{self.url}/{self.codebase}apis/3.0/"
        self.store = SandboxStore()
        self.refs = RefBuilder(self.api_base)
        self.store.hooks = Rules(self.refs)
        Generator(self.store, self.refs, scale=scale, seed=seed, anchor=self.anchor).generate()
        self.notifier = CallbackNotifier(
            self.store,
            site_url=self.url,
            codebase=self.codebase,
            company=company,
            count=self._count,
            retry_delays=callback_retry_delays,
        )
        self.store.add_listener(self.notifier.on_change)
        self.api = Api(self.store, self.refs, self.forced, public_base=self.api_base)
        self.activity = Activity(
            self.store,
            self.refs,
            per_second=activity_per_second,
            seed=seed,
            stats=self.stats,
            stats_lock=self._stats_lock,
        )
        if not claim_by_company:  # a tenant is reached through SandboxTenants, which the host asks
            self.host.add(self)

    # --- life cycle --------------------------------------------------------------------------

    def stop_delivery(self) -> None:
        self.notifier.stop()

    # --- the Site protocol (psa/sandbox/site.py) ---------------------------------------------

    name = "connectwise"

    def claims(self, request: SandboxRequest) -> bool:
        return front.claims(self, request)

    def serve(self, request: SandboxRequest) -> Reply | None:
        return front.serve(self, request)

    # --- knobs for tests ---------------------------------------------------------------------

    def empty_lists_for(self, path_regex: str | None) -> None:
        """List/count endpoints whose path matches answer [] (None: back to normal)."""
        self.forced.empty_lists = re.compile(path_regex) if path_regex else None

    def wait_for_callbacks(self, timeout: float = 10.0) -> bool:
        return self.notifier.wait_idle(timeout)

    # --- answers -----------------------------------------------------------------------------

    def company_info(self, company: str) -> dict | None:
        # Reference: developer guide "Calling Company Info"; null for an unknown company.
        if company.strip().lower() != self.company.lower():
            return None
        return {
            "CompanyName": f"{self.company} (PSA sandbox)",
            "Codebase": self.codebase,
            "VersionCode": "v2025.1",
            "VersionNumber": "v4.6.98765",
            "CompanyID": self.company,
            "IsCloud": False,
            "SiteUrl": self.url.split("://", 1)[1],
        }

    def record_counts(self) -> dict[str, int]:
        keys = (
            "service/tickets",
            "project/tickets",
            "company/companies",
            "system/members",
            "sales/opportunities",
            "project/projects",
            "schedule/entries",
            "time/entries",
            "service/boards",
        )
        return {key: self.store.count(key) for key in keys}
