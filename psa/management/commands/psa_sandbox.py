"""`manage.py psa_sandbox`: run the ConnectWise PSA sandbox in the foreground (Ctrl-C stops it)."""

from __future__ import annotations

import signal
import threading
import time
from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError

from psa.sandbox.autotask import AutotaskSandbox
from psa.sandbox.autotask.sandbox import DEFAULT_INTEGRATION_CODE, DEFAULT_SECRET, DEFAULT_USERNAME
from psa.sandbox.connectwise.data import SCALES
from psa.sandbox.connectwise.server import DEFAULT_CLIENT_ID, SandboxServer
from psa.sandbox.connectwise.tenants import SandboxTenants, tenant_faults_parse
from psa.sandbox.host import SandboxHost


def _anchor(value: str) -> datetime | None:
    """None for 'today' (the server's own default), else an aware UTC instant."""
    if value == "today":
        return None
    if value == "now":
        return datetime.now(UTC).replace(second=0, microsecond=0)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--anchor {value!r}: use today, now or an ISO date-time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = (
        "Serve a ConnectWise PSA REST 3.0 and/or Datto Autotask REST v1.0 sandbox with seeded data "
        "(see psa/sandbox/__init__.py and psa/sandbox/autotask/__init__.py)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--provider", choices=("connectwise", "autotask", "both"), default="connectwise")
        parser.add_argument("--username", default=DEFAULT_USERNAME, help="Autotask API user")
        parser.add_argument("--secret", default=DEFAULT_SECRET, help="Autotask API user's secret")
        parser.add_argument(
            "--integration-code", default=DEFAULT_INTEGRATION_CODE, help="Autotask tracking id"
        )
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--scale", choices=sorted(SCALES), default="small")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--activity", type=float, default=0.0, help="random edits per second")
        parser.add_argument(
            "--faults", default=None, help="e.g. 500=0.1,429=0.05,reset=0.02,timeout=0.01,latency_ms=20"
        )
        parser.add_argument("--rate-limit", type=int, default=1000, help="requests per minute (0 = none)")
        parser.add_argument("--tls-cert", default=None)
        parser.add_argument("--tls-key", default=None)
        parser.add_argument("--company", default="sandbox")
        parser.add_argument("--public-key", default="sandbox-public")
        parser.add_argument("--private-key", default="sandbox-private")
        parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
        parser.add_argument("--codebase", default="v2025_1/")
        parser.add_argument(
            "--tenants",
            type=int,
            default=0,
            help="serve N ConnectWise tenants on the port: company ids tenant0000.., keys "
            "public-0000/private-0000.., each with its own data (--seed + index) and rate limit",
        )
        parser.add_argument(
            "--tenant-faults",
            action="append",
            default=[],
            metavar="INDEXES:SPEC",
            help="faults of some tenants, e.g. 0-19:latency_ms=2000 or 20:500=1 (repeatable)",
        )
        parser.add_argument(
            "--anchor",
            default="today",
            help="the moment the seeded data are as of: 'today' (midnight UTC, the same data all day), "
            "'now' (SLA deadlines and ages as a live demo expects), or an ISO date-time",
        )

    def handle(self, *args, **opts) -> None:
        if opts["provider"] != "connectwise":
            self.serve_with_autotask(opts)
            return
        if opts["tenants"]:
            self.serve_tenants(opts)
            return
        started = time.perf_counter()
        try:
            sandbox = SandboxServer(
                scale=opts["scale"],
                seed=opts["seed"],
                host=opts["host"],
                port=opts["port"],
                faults=opts["faults"],
                rate_limit_per_minute=opts["rate_limit"],
                activity_per_second=opts["activity"],
                tls_cert=opts["tls_cert"],
                tls_key=opts["tls_key"],
                company=opts["company"],
                public_key=opts["public_key"],
                private_key=opts["private_key"],
                client_id=opts["client_id"],
                codebase=opts["codebase"],
                anchor=_anchor(opts["anchor"]),
            )
        except (ValueError, OSError) as err:
            raise CommandError(str(err)) from err
        sandbox.start()
        self._describe(sandbox, time.perf_counter() - started, opts)
        try:
            self.wait_for_stop()
        finally:
            sandbox.stop()
            self.stdout.write(
                f"PSA sandbox stopped after {sandbox.stats['requests']} requests, "
                f"{sandbox.stats['activity_edits']} activity edits."
            )

    def serve_with_autotask(self, opts: dict) -> None:
        """Autotask alone, or both PSAs on one port (one SandboxHost, each PSA a site of it)."""
        started = time.perf_counter()
        try:
            host = SandboxHost(opts["host"], opts["port"], opts["tls_cert"], opts["tls_key"])
            sites: list[SandboxServer | AutotaskSandbox] = [
                AutotaskSandbox(
                    host,
                    scale=opts["scale"],
                    seed=opts["seed"],
                    username=opts["username"],
                    secret=opts["secret"],
                    integration_code=opts["integration_code"],
                    anchor=_anchor(opts["anchor"]),
                    faults=opts["faults"],
                    activity_per_second=opts["activity"],
                )
            ]
            if opts["provider"] == "both":
                sites.append(self._connectwise(opts, site_host=host))
        except (ValueError, OSError) as err:
            raise CommandError(str(err)) from err
        host.start()
        for site in sites:
            site.start()
        seconds = time.perf_counter() - started
        for site in sites:
            if isinstance(site, AutotaskSandbox):
                self._describe_autotask(site, seconds)
            else:
                self._describe(site, seconds, opts)
        try:
            self.wait_for_stop()
        finally:
            for site in sites:
                site.stop()
            host.stop()

    def _connectwise(self, opts: dict, site_host: SandboxHost) -> SandboxServer:
        return SandboxServer(
            scale=opts["scale"],
            seed=opts["seed"],
            site_host=site_host,
            faults=opts["faults"],
            rate_limit_per_minute=opts["rate_limit"],
            activity_per_second=opts["activity"],
            company=opts["company"],
            public_key=opts["public_key"],
            private_key=opts["private_key"],
            client_id=opts["client_id"],
            codebase=opts["codebase"],
            anchor=_anchor(opts["anchor"]),
        )

    def _describe_autotask(self, sandbox: AutotaskSandbox, seconds: float) -> None:
        c = sandbox.credentials
        lines = [
            f"Autotask PSA sandbox at {sandbox.url}  (zone URL {sandbox.zone_url})",
            f"  zone discovery  : {sandbox.discovery_url}",
            f"  username        : {c['username']}",
            f"  secret          : {c['secret']}",
            f"  integration code: {c['integration_code']}",
            f"  scale           : {sandbox.scale}, seed {sandbox.seed}, anchor {sandbox.anchor:%Y-%m-%d} "
            f"(generated in {seconds:.1f} s)",
            "  records         : " + ", ".join(f"{k} {v}" for k, v in sandbox.record_counts().items()),
        ]
        self.stdout.write("\n".join(lines), ending="\n")
        self.stdout.flush()

    def serve_tenants(self, opts: dict) -> None:
        started = time.perf_counter()
        try:
            faults = tenant_faults_parse(opts["tenant_faults"], opts["tenants"])
            tenants = SandboxTenants(
                opts["tenants"],
                scale=opts["scale"],
                seed=opts["seed"],
                host=opts["host"],
                port=opts["port"],
                faults=faults,
                rate_limit_per_minute=opts["rate_limit"],
                activity_per_second=opts["activity"],
                anchor=_anchor(opts["anchor"]),
                tls_cert=opts["tls_cert"],
                tls_key=opts["tls_key"],
            )
        except (ValueError, OSError) as err:
            raise CommandError(str(err)) from err
        tenants.start()
        first, last = tenants.credentials(0), tenants.credentials(len(tenants) - 1)
        lines = [
            f"ConnectWise PSA sandbox with {len(tenants)} tenants at {tenants.url}",
            f"  company ids: {first['company_id']} .. {last['company_id']}",
            f"  keys       : {first['public_key']} / {first['private_key']} .. "
            f"{last['public_key']} / {last['private_key']}",
            f"  clientId   : {first['client_id']}",
            f"  scale      : {opts['scale']} each, seeds {opts['seed']}..{opts['seed'] + len(tenants) - 1} "
            f"(generated in {time.perf_counter() - started:.1f} s)",
            f"  faults     : {', '.join(opts['tenant_faults']) or 'none'} ({len(faults)} tenants)",
        ]
        self.stdout.write("\n".join(lines), ending="\n")
        self.stdout.flush()
        try:
            self.wait_for_stop()
        finally:
            tenants.stop()

    def wait_for_stop(self) -> None:
        """Block until SIGTERM or Ctrl-C."""
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            while not stop.wait(1.0):
                pass
        except KeyboardInterrupt:
            pass

    def _describe(self, sandbox: SandboxServer, seconds: float, opts: dict) -> None:
        c = sandbox.credentials
        lines = [
            f"ConnectWise PSA sandbox at {sandbox.url}  (API base {sandbox.api_base})",
            f"  company id : {c['company_id']}",
            f"  public key : {c['public_key']}",
            f"  private key: {c['private_key']}",
            f"  clientId   : {c['client_id']}",
            f"  scale      : {sandbox.scale}, seed {sandbox.seed}, anchor {sandbox.anchor:%Y-%m-%d} "
            f"(generated in {seconds:.1f} s)",
            "  records    : " + ", ".join(f"{k} {v}" for k, v in sandbox.record_counts().items()),
            f"  rate limit : {opts['rate_limit'] or 'none'} requests/minute; activity {opts['activity']}/s; "
            f"faults {sandbox.faults.describe()}",
        ]
        self.stdout.write("\n".join(lines), ending="\n")
        self.stdout.flush()
