"""Many ConnectWise tenants on one port: N sites on one SandboxHost, each its own company id,
API keys, seeded data (its own seed, at a chosen scale), rate limit and faults.

Each tenant is a whole ConnectWise site (server.py) that claims the requests naming its company:
the Basic auth of API calls, `/login/companyinfo/<company>`, its callback key (front.py); the
host asks SandboxTenants, which finds the tenant with one lookup. So a thousand connections of
one fleet can be exercised against one process:

    with SandboxTenants(3, scale="tiny", faults={2: "latency_ms=2000"}) as tenants:
        tenants.credentials(0)      # site_url, company_id, public_key, private_key, client_id
        tenants.site(2).store       # the third tenant's data (slow: 2 s per answer)

Per-tenant faults: `{index: spec}` (FaultSpec syntax, faults.py), or parsed from
`--tenant-faults 0-19:latency_ms=2000` (see `tenant_faults_parse`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from psa.sandbox.connectwise import front
from psa.sandbox.connectwise.server import SandboxServer
from psa.sandbox.host import SandboxHost
from psa.sandbox.replies import Reply
from psa.sandbox.site import SandboxRequest


def tenant_company(index: int) -> str:
    return f"tenant{index:04d}"


def tenant_faults_parse(items: Iterable[str], tenants: int) -> dict[int, str]:
    """`["0-19:latency_ms=2000", "20:500=1"]` → {0: "latency_ms=2000", ..., 20: "500=1"}."""
    faults: dict[int, str] = {}
    for item in items:
        where, sep, spec = item.partition(":")
        first, _, last = where.partition("-")
        try:
            low, high = int(first), int(last or first)
        except ValueError:
            raise ValueError(f"tenant faults {item!r}: use INDEX:SPEC or FIRST-LAST:SPEC") from None
        if not sep or not spec or not 0 <= low <= high < tenants:
            raise ValueError(f"tenant faults {item!r}: indexes 0..{tenants - 1}, then ':' and a fault spec")
        faults.update(dict.fromkeys(range(low, high + 1), spec))
    return faults


class SandboxTenants:
    """`count` ConnectWise tenants on one host (port 0 = any free port; `url` is known at once)."""

    def __init__(
        self,
        count: int,
        *,
        scale: str = "tiny",
        seed: int = 1,
        host: str = "127.0.0.1",
        port: int = 0,
        site_host: SandboxHost | None = None,
        faults: Mapping[int, str] | None = None,
        rate_limit_per_minute: int = 1000,
        activity_per_second: float = 0.0,
        anchor: datetime | None = None,
        tls_cert: str | None = None,
        tls_key: str | None = None,
    ) -> None:
        if count < 1:
            raise ValueError("at least one tenant")
        # Alone it owns a host; given `site_host` it joins one (beside other PSAs' sites).
        self.owns_host = site_host is None
        self.host = site_host or SandboxHost(host, port, tls_cert, tls_key)
        self.url = self.host.url
        faults = dict(faults or {})
        self.sites = [
            SandboxServer(
                scale=scale,
                seed=seed + index,
                site_host=self.host,
                claim_by_company=True,
                faults=faults.get(index),
                rate_limit_per_minute=rate_limit_per_minute,
                activity_per_second=activity_per_second,
                anchor=anchor,
                company=tenant_company(index),
                public_key=f"public-{index:04d}",
                private_key=f"private-{index:04d}",
            )
            for index in range(count)
        ]
        self._by_company = {site.company.lower(): site for site in self.sites}
        self._by_key_id = {site.notifier.key_id: site for site in self.sites}
        # The host asks this one site, which finds the tenant by a dict lookup, rather than a
        # thousand sites in turn (tenants, claiming by company, do not join the host themselves).
        self.host.add(self)

    # --- the Site protocol (psa/sandbox/site.py) ---------------------------------------------

    name = "connectwise"

    def _tenant(self, request: SandboxRequest) -> SandboxServer | None:
        if request.path.lower().startswith(front.COMPANY_INFO):
            company = request.path[len(front.COMPANY_INFO) :]
        elif request.path.endswith("/system/callbackkey/index.rails"):
            return self._by_key_id.get(request.query.get("keyid", ""))
        else:
            company = front.basic_user(request.headers).partition("+")[0]
        return self._by_company.get(company.strip().lower())

    def claims(self, request: SandboxRequest) -> bool:
        tenant = self._tenant(request)
        return tenant is not None and tenant.claims(request)

    def serve(self, request: SandboxRequest) -> Reply | None:
        tenant = self._tenant(request)
        return tenant.serve(request) if tenant is not None else None

    def __len__(self) -> int:
        return len(self.sites)

    def site(self, index: int) -> SandboxServer:
        return self.sites[index]

    def credentials(self, index: int) -> dict[str, str]:
        return dict(self.sites[index].credentials)

    def start(self) -> SandboxTenants:
        if self.owns_host:
            self.host.start()
        for site in self.sites:
            site.start()
        return self

    def stop(self) -> None:
        for site in self.sites:
            site.stop()
        if self.owns_host:
            self.host.stop()

    def __enter__(self) -> SandboxTenants:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
