"""Run a sync tier (or one entity of it) for a connection in the foreground."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from sync.models import Connection
from sync.tiers import TIERS


class Command(BaseCommand):
    help = "Run a sync tier for one connection now, with a progress bar and a summary."

    def add_arguments(self, parser):
        parser.add_argument("--connection", required=True, help="connection name")
        parser.add_argument("--tier", required=True, choices=list(TIERS))
        parser.add_argument("--entity", default=None, help="only this entity of the tier")
        notes_mode = parser.add_mutually_exclusive_group()
        notes_mode.add_argument(
            "--changed-only",
            action="store_true",
            help="notes tier: only parents updated since their last notes fetch (default)",
        )
        notes_mode.add_argument(
            "--full-notes",
            action="store_true",
            help="notes tier: visit every parent, not only the changed ones",
        )

    def handle(self, *args, **opts):
        from sync.engine.services import sync_tier

        connection = Connection.objects.filter(name=opts["connection"]).first()
        if connection is None:
            raise CommandError(f"no connection named {opts['connection']!r}")
        unit = "parents" if opts["tier"] == "notes" else "records"
        with tqdm(desc=f"{connection.name} {opts['tier']}", unit=f" {unit}", file=self.stderr._out) as bar:
            try:
                runs = sync_tier(
                    connection_id=connection.pk,
                    tier=opts["tier"],
                    entity=opts["entity"],
                    progress=bar.update,
                    changed_only=not opts["full_notes"] if opts["tier"] == "notes" else None,
                )
            except ValueError as err:  # an entity outside the tier, refused before anything runs
                raise CommandError(str(err)) from None
        if not runs:
            raise CommandError(f"the {opts['tier']} tier is already running for {connection.name}")
        self._summary(runs)
        if any(run.status != "succeeded" for run in runs):
            raise CommandError("some entities did not succeed (see above)")

    def _summary(self, runs) -> None:
        header = (
            f"{'entity':<22} {'status':<10} {'fetched':>8} {'created':>8} {'updated':>8} "
            f"{'deleted':>8} {'skipped':>8} {'coerced':>8} {'requests':>8} {'seconds':>8}"
        )
        self.stdout.write(header)
        for run in runs:
            self.stdout.write(
                f"{run.entity:<22} {run.status:<10} {run.fetched:>8} {run.created:>8} {run.updated:>8} "
                f"{run.deleted:>8} {run.skipped:>8} {run.coerced:>8} {run.requests:>8} "
                f"{run.duration_seconds or 0:>8.1f}"
            )
            if run.error:
                self.stdout.write("    " + run.error.replace("\n", "\n    "))
