"""Run a sync tier (or one entity of it) for a connection in the foreground."""

from __future__ import annotations

import getpass

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from sync.models import Connection, MassDeleteApproval
from sync.tiers import TIERS


class Command(BaseCommand):
    help = "Run a sync tier for one connection now, with a progress bar and a summary."

    def add_arguments(self, parser):
        parser.add_argument("--connection", required=True, help="connection name")
        parser.add_argument("--tier", required=True, choices=list(TIERS))
        parser.add_argument("--entity", default=None, help="only this entity of the tier")
        parser.add_argument(
            "--allow-mass-delete",
            action="store_true",
            help="this run may delete more than the mass-delete limit (once, for the entities it runs; "
            "never after an incomplete listing)",
        )
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
        connection = Connection.objects.filter(name=opts["connection"]).first()
        if connection is None:
            raise CommandError(f"no connection named {opts['connection']!r}")
        if not opts["entity"] and not self._tier_entities(connection, opts["tier"]):
            # e.g. the notes tier of Autotask, whose notes ride the changes tier
            self.stdout.write(
                f"{connection.provider} has no entities in the {opts['tier']} tier: nothing to do"
            )
            return
        unit = "parents" if opts["tier"] == "notes" else "records"
        approvals = self._approve(connection, opts) if opts["allow_mass_delete"] else []
        try:
            runs = self._run(connection, opts, unit)
        finally:  # an approval this run did not use must not linger for a later, unattended run
            MassDeleteApproval.objects.filter(pk__in=[a.pk for a in approvals], used_at__isnull=True).delete()
        if not runs:
            raise CommandError(f"the {opts['tier']} tier is already running for {connection.name}")
        self._summary(runs)
        if any(run.status != "succeeded" for run in runs):
            raise CommandError("some entities did not succeed (see above)")

    @staticmethod
    def _tier_entities(connection, tier: str) -> tuple[str, ...]:
        from psa.providers import catalog_for
        from sync.tiers import tier_entities

        return tier_entities(tier, catalog_for(connection))

    def _approve(self, connection, opts) -> list:
        """Approve one mass delete per entity of this run; returns the approvals it created
        (an operator's pending approval from the admin is used, never removed, by this run)."""
        from psa.providers import catalog_for
        from sync.engine.approvals import (
            approvable_entities,
            mass_delete_approval_pending,
            mass_delete_approve,
        )
        from sync.tiers import tier_entities

        entities = (
            [opts["entity"]] if opts["entity"] else list(tier_entities(opts["tier"], catalog_for(connection)))
        )
        approvable = approvable_entities(connection_id=connection.pk)
        wanted = [entity for entity in entities if entity in approvable]
        if not wanted:
            raise CommandError(
                f"--allow-mass-delete: the {opts['tier']} tier never deletes by mass-delete rules"
            )
        who = f"manage.py sync ({getpass.getuser()})"
        fresh = [e for e in wanted if not mass_delete_approval_pending(connection_id=connection.pk, entity=e)]
        return [mass_delete_approve(connection_id=connection.pk, entity=e, approved_by=who) for e in fresh]

    def _run(self, connection, opts, unit) -> list:
        from sync.engine.services import sync_tier

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
        return runs

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
