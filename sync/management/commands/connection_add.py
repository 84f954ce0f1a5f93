"""Create or update (by name) a PSA connection."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from psa.providers import provider_get, provider_names
from sync.services.connections import connection_test, connection_upsert


def _flag(field_name: str) -> str:
    return "--" + field_name.replace("_", "-")


class Command(BaseCommand):
    help = (
        "Add a PSA connection, or update the one with the same name. Credential options are the "
        "chosen provider's (each provider lists its own below); secrets can come from the "
        "environment instead: TOPLEFT_<FIELD>, e.g. TOPLEFT_PRIVATE_KEY, so they stay out of ps."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--provider", choices=provider_names(), default="connectwise")
        parser.add_argument("--retention-days", type=int, default=None)
        parser.add_argument(
            "--test",
            action="store_true",
            help="check the credentials with one call to the PSA first; nothing is saved when it fails",
        )
        seen: set[str] = set()
        for name in provider_names():
            provider = provider_get(name)
            group = parser.add_argument_group(f"{provider.label} credentials ({name})")
            for spec in provider.credential_fields:
                if spec.name in seen:  # the same field of another provider: one option serves both
                    continue
                seen.add(spec.name)
                group.add_argument(
                    _flag(spec.name), dest=f"credential_{spec.name}", help=spec.help or spec.label
                )

    def handle(self, *args, **opts):
        import os

        provider = provider_get(opts["provider"])
        credentials = {}
        for spec in provider.credential_fields:
            value = opts.get(f"credential_{spec.name}") or os.environ.get(f"TOPLEFT_{spec.name.upper()}", "")
            if value:
                credentials[spec.name] = value
        if opts["test"]:
            self._test(provider, opts["name"], credentials)
        try:
            connection, created = connection_upsert(
                name=opts["name"],
                provider=opts["provider"],
                credentials=credentials,
                closed_ticket_retention_days=opts["retention_days"],
            )
        except ValueError as exc:  # CredentialsInvalid names each field in plain words
            raise CommandError(str(exc)) from None
        verb = "Created" if created else "Updated"
        self.stdout.write(f"{verb} connection {connection.name!r} (id {connection.pk})")

    def _test(self, provider, name: str, credentials: dict) -> None:
        """The provider's connection test on an unsaved connection: CommandError when it fails."""
        from sync.models import Connection

        try:
            document = provider.credentials_clean(credentials)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        result = connection_test(
            connection=Connection(name=name, provider=provider.name, credentials=document)
        )
        if not result.get("ok"):
            raise CommandError(f"the credentials do not work, nothing saved: {result.get('error')}")
        self.stdout.write(f"Credentials work: {result.get('summary', 'ok')}")
