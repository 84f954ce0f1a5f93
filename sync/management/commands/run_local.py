"""`make run`: the whole product on one machine with embedded defaults.

Migrates, starts the PSA sandbox, sets up the demo (connection, first sync, board, user, and a
local admin login), then runs web, one worker per worker pool (sync/tiers.py) and beat as real
processes until interrupted.

The console shows a few progress lines and, once everything answers, a short banner with the URL
and the logins; pressing Enter shows it again. Everything else the processes print (request log
lines, one per board poll; warnings; the first sync's progress) goes to var/run-local.log.
"""

from __future__ import annotations

import io
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from boards.services.demo import DEMO_AUTOTASK_CONNECTION, DEMO_CONNECTION, DEMO_PASSWORD, DEMO_USERNAME
from psa.providers import provider_for
from sync.models import Connection
from sync.tiers import WORKER_POOLS
from topleft.env import env_int

# The local demo's Django admin login (an SQLite file under var/: never a real deployment).
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "topleft-admin"


def admin_login_ensure(*, username: str = ADMIN_USERNAME, password: str = ADMIN_PASSWORD) -> None:
    """A superuser for the local admin, with the password the banner prints."""
    user, _ = get_user_model().objects.get_or_create(username=username)
    user.is_staff = user.is_superuser = user.is_active = True
    user.set_password(password)
    user.save()


def banner(*, web_url: str, sandbox_url: str, log_path: str) -> str:
    lines = [
        f"TopLeft is running at {web_url}/boards/",
        f"  Log in:  {DEMO_USERNAME} / {DEMO_PASSWORD}  (a dispatcher: a ConnectWise and an Autotask demo)",
        f"  Admin:   {web_url}/admin/  {ADMIN_USERNAME} / {ADMIN_PASSWORD}",
        f"  Sandbox: {sandbox_url}  (both demo PSAs on one port; they edit tickets now and then)",
        f"  Logs:    {log_path}",
        "  Enter shows this again · Ctrl-C stops everything",
    ]
    rule = "─" * max(len(line) for line in lines)
    return "\n".join(["", rule, *lines, rule, ""])


def _log_file(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    return open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - open while the children run


def _quiet_console(log) -> None:
    """This process's own logging (the first sync, warnings) goes to the log file, not the console."""
    logging.captureWarnings(True)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
            handler.setStream(log)


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
        self.log_path = Path(settings.VAR_DIR) / "run-local.log"
        self.log = _log_file(self.log_path)
        _quiet_console(self.log)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            self.run(opts)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop_children()

    def say(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def run(self, opts) -> None:
        self.say(f"Starting TopLeft (details in {self.log_path}) …")
        call_command("migrate", interactive=False, verbosity=0, stdout=self.log)
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
        self.say("  first sync of the demo PSAs (a few seconds) …")
        call_command("demo_setup", sandbox_url=sandbox_url, stdout=self.log)
        call_command("demo_setup", sandbox_url=sandbox_url, provider="autotask", stdout=self.log)
        admin_login_ensure()
        self.register_callbacks(web_url)
        self.say("  starting web, workers and beat …")
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
                str(settings.VAR_DIR / "celerybeat-schedule"),
            ],
            env,
        )
        wait_for_port(host, port)
        text = banner(web_url=web_url, sandbox_url=sandbox_url, log_path=str(self.log_path))
        self.say(self.style.SUCCESS(text))
        self.reprint_on_enter(text)
        while all(child.poll() is None for child in self.children):
            time.sleep(1)
        raise CommandError(f"a process exited; stopping the others (see {self.log_path})")

    def reprint_on_enter(self, text: str) -> None:
        """Each line typed on the console (Enter) shows the banner again."""

        def listen(stream: io.TextIOBase) -> None:
            for _ in stream:
                self.say(self.style.SUCCESS(text))

        if sys.stdin is not None and not sys.stdin.closed:
            threading.Thread(target=listen, args=(sys.stdin,), daemon=True).start()

    def register_callbacks(self, web_url: str) -> None:
        """Point the sandbox's callbacks at this web server so edits made in the PSA show live."""
        for connection in Connection.objects.filter(name__in=(DEMO_CONNECTION, DEMO_AUTOTASK_CONNECTION)):
            changes = provider_for(connection).callbacks.ensure(connection=connection, public_url=web_url)
            self.log.write(
                f"{connection.name} callbacks: {len(changes.added)} added, {len(changes.kept)} kept, "
                f"{len(changes.removed)} removed\n"
            )

    def spawn(self, argv: list[str], env: dict) -> None:
        # Their output (a request log line per board poll, warnings) goes to the log file.
        self.children.append(
            subprocess.Popen(
                argv, env=env, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT
            )
        )

    def stop_children(self) -> None:
        for child in self.children:
            if child.poll() is None:
                child.terminate()
        for child in self.children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
