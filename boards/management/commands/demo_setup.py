"""Set up the demo against a PSA sandbox: connection, first sync, boards, user (idempotent)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from boards.services.demo import DEMO_PASSWORD, DEMOS, demo_setup
from psa.errors import ConfigurationError


class Command(BaseCommand):
    help = "Connect to the PSA sandbox, sync reference and core data, create demo boards and a demo user."

    def add_arguments(self, parser):
        parser.add_argument("--sandbox-url", required=True, help="e.g. http://127.0.0.1:8765")
        parser.add_argument("--password", default=DEMO_PASSWORD, help="demo user's password")
        parser.add_argument("--no-sync", action="store_true", help="skip the first sync")
        parser.add_argument(
            "--provider",
            choices=sorted(DEMOS),
            default="connectwise",
            help="which PSA of the sandbox (psa_sandbox --provider autotask|both serves Autotask)",
        )

    def handle(self, *args, **opts):
        try:
            result = demo_setup(
                sandbox_url=opts["sandbox_url"],
                sync=not opts["no_sync"],
                password=opts["password"],
                provider=opts["provider"],
            )
        except (ConfigurationError, ValueError) as exc:  # e.g. a sandbox URL neither https nor loopback
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"Demo ready ({opts['provider']})."))
        self.stdout.write(f"  boards:   {', '.join(f'/boards/{i}/' for i in result.board_ids)}")
        self.stdout.write(f"  username: {result.username}")
        self.stdout.write(f"  password: {result.password}")
