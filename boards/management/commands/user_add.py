"""Create or update a user and make them a member (or admin) of a connection."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from boards.models import Membership
from boards.services.users import InvalidCredentials, UnknownConnection, user_add


class Command(BaseCommand):
    help = "Add a user to a connection: user_add --username U --password P --connection NAME [--role admin|member]"

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--connection", required=True, help="connection name")
        parser.add_argument("--role", choices=Membership.Role.values, default=Membership.Role.MEMBER)

    def handle(self, *args, **opts):
        try:
            user, created = user_add(
                username=opts["username"],
                password=opts["password"],
                connection_name=opts["connection"],
                role=opts["role"],
            )
        except (UnknownConnection, InvalidCredentials) as exc:
            raise CommandError(str(exc)) from exc
        verb = "Created" if created else "Updated"
        self.stdout.write(f"{verb} user {user.username!r}: {opts['role']} of {opts['connection']!r}")
