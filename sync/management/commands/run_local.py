"""`make run`: the whole product on one machine with embedded defaults.

Migrates, starts the PSA sandbox, sets up the demo (connection, first sync, board, user),
then runs web, one worker per worker pool (sync/tiers.py) and beat as real processes until
interrupted.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from boards.services.demo import DEMO_AUTOTASK_CONNECTION, DEMO_CONNECTION, DEMO_PASSWORD, DEMO_USERNAME
from psa.providers import provider_for
from sync.models import Connection
from sync.tiers import WORKER_POOLS
from topleft.env import env_int


def wait_for_port(host: str, port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise CommandError(f"nothing answered on {host}:{port} within {timeout:.0f}s")


class Command(BaseCommand):
    help = "Run sandbox, web, worker and beat locally (used by `make run`)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("RUN_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=env_int("RUN_PORT", 8000, minimum=1))
        parser.add_argument("--sandbox-port", type=int, default=env_int("SANDBOX_PORT", 8765, minimum=1))
        parser.add_argument("--activity", type=float, default=0.2, help="sandbox edits per second")

    def handle(self, *args, **opts):
        self.children: list[subprocess.Popen] = []
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            self.run(opts)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop_children()

    def run(self, opts) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        host, port, sandbox_port = opts["host"], opts["port"], opts["sandbox_port"]
        web_url = f"http://{host}:{port}"
        env = {**os.environ, "PUBLIC_URL": os.environ.get("PUBLIC_URL", web_url)}
        manage = [sys.executable, "manage.py"]
        self.spawn(
            manage
            + [
                "psa_sandbox",
                "--provider",
                "both",  # ConnectWise and Autotask on one port: one demo connection each
                "--host",
                "127.0.0.1",
                "--port",
                str(sandbox_port),
                "--scale",
                "small",
                "--seed",
                "1",
                "--activity",
                str(opts["activity"]),
                "--anchor",
                "now",  # a live demo: SLA deadlines and ages as of this moment
            ],
            env,
        )
        wait_for_port("127.0.0.1", sandbox_port)
        sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        call_command("demo_setup", sandbox_url=sandbox_url)
        call_command("demo_setup", sandbox_url=sandbox_url, provider="autotask")
        self.register_callbacks(web_url)
        self.spawn(manage + ["runserver", "--noreload", f"{host}:{port}"], env)
        celery = [sys.executable, "-m", "celery", "-A", "topleft"]
        for pool, queues in WORKER_POOLS.items():  # one worker per pool, like the Procfile
            self.spawn(
                celery
                + ["worker", "-Q", ",".join(queues), "-n", f"{pool}@%h", "--concurrency", "1"]
                + ["--loglevel", "WARNING"],
                env,
            )
        self.spawn(
            celery
            + [
                "beat",
                "--loglevel",
                "WARNING",
                "--schedule",
                str(os.path.join("var", "celerybeat-schedule")),
            ],
            env,
        )
        wait_for_port(host, port)
        self.stdout.write(self.style.SUCCESS(f"\nTopLeft is running at {web_url}/boards/"))
        self.stdout.write(f"Log in as {DEMO_USERNAME} / {DEMO_PASSWORD}   (admin: {web_url}/admin/)")
        self.stdout.write(f"PSA sandbox at {sandbox_url}   (Ctrl-C stops everything)\n")
        while all(child.poll() is None for child in self.children):
            time.sleep(1)
        raise CommandError("a process exited; stopping the others")

    def register_callbacks(self, web_url: str) -> None:
        """Point the sandbox's callbacks at this web server so edits made in the PSA show live."""
        for connection in Connection.objects.filter(name__in=(DEMO_CONNECTION, DEMO_AUTOTASK_CONNECTION)):
            changes = provider_for(connection).callbacks.ensure(connection=connection, public_url=web_url)
            self.stdout.write(
                f"{connection.name} callbacks: {len(changes.added)} added, {len(changes.kept)} kept, "
                f"{len(changes.removed)} removed"
            )

    def spawn(self, argv: list[str], env: dict) -> None:
        self.children.append(subprocess.Popen(argv, env=env))

    def stop_children(self) -> None:
        for child in self.children:
            if child.poll() is None:
                child.terminate()
        for child in self.children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
