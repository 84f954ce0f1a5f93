"""Keep a connection's PSA callback (webhook) registrations pointing at this service."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from psa.errors import PSAError
from psa.providers import UnknownProvider, provider_for
from sync.callbacks_health import callbacks_ensure
from sync.models import Connection


class Command(BaseCommand):
    help = (
        "Register (--ensure), show (--list) or delete (--remove) the PSA's callback registrations "
        "pointing at PUBLIC_URL (the records each PSA sends are its provider's choice)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--connection", required=True, help="connection name")
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--ensure", action="store_true", help="add the missing, remove the stale")
        action.add_argument("--list", action="store_true", help="show this connection's registrations")
        action.add_argument("--remove", action="store_true", help="delete this connection's registrations")
        parser.add_argument(
            "--rotate-secret",
            action="store_true",
            help="with --ensure: sign with a new secret (PSAs whose signing secret we choose)",
        )

    def handle(self, *args, **opts):
        try:
            connection = Connection.objects.get(name=opts["connection"])
        except Connection.DoesNotExist:
            raise CommandError(f"no connection named {opts['connection']!r}") from None
        try:
            handler = provider_for(connection).callbacks
        except UnknownProvider as err:
            raise CommandError(str(err)) from None
        if opts["rotate_secret"] and not (opts["ensure"] and handler.rotates_secret):
            raise CommandError(
                "--rotate-secret goes with --ensure, on a PSA whose signing secret we choose "
                f"({connection.provider} callbacks are signed with the PSA's own keys)"
                if opts["ensure"]
                else "--rotate-secret goes with --ensure"
            )
        try:
            if opts["ensure"]:
                self._ensure(connection, rotate_secret=opts["rotate_secret"])
            elif opts["list"]:
                self._show(handler.listed(connection=connection))
            else:
                removed = handler.remove(connection=connection)
                self.stdout.write(f"Removed {len(removed)} registration(s)")
        except PSAError as err:
            raise CommandError(f"the PSA refused: {err}") from err

    def _ensure(self, connection: Connection, *, rotate_secret: bool) -> None:
        changes = callbacks_ensure(connection=connection, rotate_secret=rotate_secret)
        self.stdout.write(
            f"Added {len(changes.added)}, removed {len(changes.removed)}, "
            f"kept {len(changes.kept)} registration(s)"
        )

    def _show(self, entries: list[dict]) -> None:
        if not entries:
            self.stdout.write("No registrations for this connection")
        for entry in entries:  # providers list {"id", "what", "state", "url"}
            self.stdout.write(f"{entry['id']}\t{entry['what']}\t{entry['state']}\t{entry['url']}")
