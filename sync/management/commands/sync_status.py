"""Mirrored row counts per entity and the last run per tier for a connection."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from psa.providers import provider_for
from sync.models import Connection


class Command(BaseCommand):
    help = "Show mirrored row counts per entity and the last run of each tier for a connection."

    def add_arguments(self, parser):
        parser.add_argument("--connection", required=True, help="connection name")
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def handle(self, *args, **opts):
        from sync.engine.status import sync_status

        connection = Connection.objects.filter(name=opts["connection"]).first()
        if connection is None:
            raise CommandError(f"no connection named {opts['connection']!r}")
        status = sync_status(connection=connection)
        if opts["json"]:
            self.stdout.write(json.dumps(status, indent=2, default=str))
            return
        site = provider_for(connection).describe(connection)
        self.stdout.write(f"Connection {connection.name} ({connection.provider}, {site})")
        self.stdout.write("\nMirrored rows:")
        for entity, count in status["counts"].items():
            self.stdout.write(f"  {entity:<22} {count:>9}")
        self.stdout.write("\nLast run per tier:")
        for tier, run in status["last_runs"].items():
            if run is None:
                self.stdout.write(f"  {tier:<10} never")
                continue
            self.stdout.write(
                f"  {tier:<10} {run['status']:<10} started {run['started_at']:%Y-%m-%d %H:%M:%S} "
                f"entities {run['entities']} fetched {run['fetched']} deleted {run['deleted']} "
                f"failed {run['failed_entities'] or '-'}"
            )
