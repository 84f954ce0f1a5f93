"""`manage.py psa_sandbox`: serve the PSA sandbox in the foreground (Ctrl-C stops it).

One port serves every PSA asked for (`--provider connectwise|autotask|all`); each provider's
sandbox folder brings its own options and banner (psa/sandbox/command.py).
"""

from __future__ import annotations

import signal
import threading
import time
from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError

from psa.providers import provider_names
from psa.sandbox.command import sandbox_command
from psa.sandbox.host import SandboxHost

ALL = ("all", "both")  # "both": what the flag said when there were two


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
    help = "Serve PSA sandboxes (ConnectWise REST 3.0, Autotask REST v1.0, ...) with seeded data on one port."

    def add_arguments(self, parser) -> None:
        names = provider_names()
        scales = set.intersection(*(set(sandbox_command(name).scales) for name in names))
        parser.add_argument(
            "--provider", choices=(*names, *ALL), default=names[0], help="which PSA(s) to serve"
        )
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--scale", choices=sorted(scales), default="small")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--activity", type=float, default=0.0, help="random edits per second")
        parser.add_argument(
            "--faults",
            default=None,
            help="e.g. 500=0.1,429=0.05,reset=0.02,timeout=0.01,latency_ms=20,lost=0.05 (lost: writes carried out, then no answer)",
        )
        parser.add_argument("--tls-cert", default=None)
        parser.add_argument("--tls-key", default=None)
        parser.add_argument(
            "--anchor",
            default="today",
            help="the moment the seeded data are as of: 'today' (midnight UTC, the same data all day), "
            "'now' (SLA deadlines and ages as a live demo expects), or an ISO date-time",
        )
        for name in names:
            sandbox_command(name).add_arguments(parser)

    def handle(self, *args, **opts) -> None:
        providers = provider_names() if opts["provider"] in ALL else [opts["provider"]]
        opts["anchor"] = _anchor(opts["anchor"])
        started = time.perf_counter()
        try:
            host = SandboxHost(opts["host"], opts["port"], opts["tls_cert"], opts["tls_key"])
            sites = [(name, site) for name in providers for site in sandbox_command(name).build(host, opts)]
        except (ValueError, OSError) as err:
            raise CommandError(str(err)) from err
        host.start()
        for _, site in sites:
            site.start()
        seconds = time.perf_counter() - started
        for name, site in sites:
            self.stdout.write("\n".join(sandbox_command(name).describe(site, opts, seconds)), ending="\n")
        self.stdout.flush()
        try:
            self.wait_for_stop()
        finally:
            for _, site in sites:
                site.stop()
            host.stop()
            self.stdout.write("PSA sandbox stopped.")

    def wait_for_stop(self) -> None:
        """Block until SIGTERM or Ctrl-C."""
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            while not stop.wait(1.0):
                pass
        except KeyboardInterrupt:
            pass
