"""Create or update (by name) a PSA connection."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from psa.errors import ConfigurationError
from sync.models import Connection
from sync.services.connections import connection_upsert


class Command(BaseCommand):
    help = "Add a PSA connection, or update the one with the same name."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--provider", choices=Connection.Provider.values, default="connectwise")
        parser.add_argument("--site", required=True, help="PSA site URL")
        parser.add_argument("--company", required=True)
        parser.add_argument("--public-key", required=True)
        parser.add_argument("--private-key", required=True)
        parser.add_argument("--client-id", default="")
        parser.add_argument("--api-version", default="2025.1")
        parser.add_argument("--retention-days", type=int, default=None)

    def handle(self, *args, **opts):
        try:
            connection, created = self._upsert(opts)
        except (ConfigurationError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        verb = "Created" if created else "Updated"
        self.stdout.write(f"{verb} connection {connection.name!r} (id {connection.pk})")

    def _upsert(self, opts):
        return connection_upsert(
            name=opts["name"],
            provider=opts["provider"],
            site_url=opts["site"],
            company_id=opts["company"],
            public_key=opts["public_key"],
            private_key=opts["private_key"],
            client_id=opts["client_id"],
            api_version=opts["api_version"],
            closed_ticket_retention_days=opts["retention_days"],
        )
