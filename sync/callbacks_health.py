"""What the PSA last said about our callback registrations, and getting them back.

A PSA may switch our registration off (Autotask deactivates a webhook after 25 failed
deliveries, or when its owner is deactivated). The receiver hears it (a signed notice) and calls
`callbacks_lost`: the connection's `callback_health` says so on the status page, and the
registrations are ensured again in the background. A successful ensure clears it.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from psa.errors import PSAError
from psa.providers import provider_for
from sync.models import Connection
from sync.tiers import REALTIME

logger = logging.getLogger("sync.webhooks")

REENSURE_RETRIES = 5


def callbacks_ensure(*, connection: Connection, rotate_secret: bool = False) -> Any:
    """The provider's ensure at PUBLIC_URL (the command, the admin action, the re-ensure task);
    once it succeeds the registrations are healthy again. Raises PSAError."""
    extra = {"rotate_secret": True} if rotate_secret else {}
    changes = provider_for(connection).callbacks.ensure(
        connection=connection, public_url=settings.PUBLIC_URL, **extra
    )
    if connection.callback_health:
        Connection.objects.filter(pk=connection.pk).update(callback_health={})
        connection.callback_health = {}
    return changes


def callbacks_lost(*, connection: Connection, reason: str) -> None:
    connection.callback_health = {"state": "lost", "reason": reason[:300], "at": timezone.now().isoformat()}
    connection.save(update_fields=["callback_health", "updated_at"])
    logger.warning("connection=%s callback registration lost: %s; re-ensuring it", connection.pk, reason)
    transaction.on_commit(lambda: callbacks_reensure.apply_async((connection.pk,), queue=REALTIME))


@shared_task(
    name="sync.callbacks_health.callbacks_reensure",
    bind=True,
    ignore_result=True,
    acks_late=True,
    max_retries=REENSURE_RETRIES,
    time_limit=300,
    soft_time_limit=240,
)
def callbacks_reensure(self, connection_id: int) -> str:
    connection = Connection.objects.filter(pk=connection_id, enabled=True).first()
    if connection is None:
        return "gone"
    try:
        changes = callbacks_ensure(connection=connection)
    except PSAError as err:
        Connection.objects.filter(pk=connection_id).update(
            callback_health={**connection.callback_health, "retry_error": str(err)[:300]}
        )
        raise self.retry(exc=err, countdown=60 * 2**self.request.retries) from err
    logger.info(
        "connection=%s callback registrations ensured again: added %s, removed %s, kept %s",
        connection_id,
        len(changes.added),
        len(changes.removed),
        len(changes.kept),
    )
    return "ensured"
