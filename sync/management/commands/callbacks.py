"""Keep a connection's ConnectWise callback registrations pointing at this service."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from psa.connectwise import callbacks
from psa.errors import PSAError
from sync.models import Connection


class Command(BaseCommand):
    help = (
        "Register (--ensure), show (--list) or delete (--remove) the system/callbacks entries "
        "for ticket, opportunity, project, company and schedule pointing at PUBLIC_URL."
    )

    def add_arguments(self, parser):
        parser.add_argument("--connection", required=True, help="connection name")
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--ensure", action="store_true", help="add the missing, remove the stale")
        action.add_argument("--list", action="store_true", help="show this connection's registrations")
        action.add_argument("--remove", action="store_true", help="delete this connection's registrations")

    def handle(self, *args, **opts):
        try:
            connection = Connection.objects.get(name=opts["connection"])
        except Connection.DoesNotExist:
            raise CommandError(f"no connection named {opts['connection']!r}") from None
        if connection.provider != Connection.Provider.CONNECTWISE:
            raise CommandError(f"{connection.name} is not a ConnectWise connection")
        try:
            if opts["ensure"]:
                self._ensure(connection)
            elif opts["list"]:
                self._show(callbacks.connection_callbacks_list(connection=connection))
            else:
                removed = callbacks.connection_callbacks_remove(connection=connection)
                self.stdout.write(f"Removed {len(removed)} registration(s)")
        except PSAError as err:
            raise CommandError(f"the PSA refused: {err}") from err

    def _ensure(self, connection: Connection) -> None:
        changes = callbacks.connection_callbacks_ensure(connection=connection, public_url=settings.PUBLIC_URL)
        self.stdout.write(
            f"Added {len(changes.added)}, removed {len(changes.removed)}, "
            f"kept {len(changes.kept)} registration(s)"
        )

    def _show(self, entries: list[dict]) -> None:
        if not entries:
            self.stdout.write("No registrations for this connection")
        for entry in entries:
            state = "inactive" if entry.get("inactiveFlag") else "active"
            self.stdout.write(
                f"{entry.get('id')}\t{entry.get('type')}\t{entry.get('level')}\t{state}\t{entry.get('url')}"
            )
