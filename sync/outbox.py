"""Pushing outbox entries to the PSA, and the sweeper that re-sends stuck ones (provider-neutral:
each action's PSA call is the provider's pusher, e.g. psa/connectwise/pushers.py).

- Claim: a conditional UPDATE pending → sending; only the worker whose UPDATE changed one row
  pushes. An older unfinished entry for the same card blocks the claim, so edits of one card
  reach the PSA in the order they were made (the next one is enqueued when one finishes).
- Success: the PSA's answer (the updated or created record) is upserted through the engine's
  mapping, placeholders are replaced, the card's writeback_error is cleared.
- Retryable failure: the row goes back to pending; the task retries, the sweeper after that.
- Permanent rejection (4xx): the row keeps the PSA's message, the mirror is re-read from the PSA
  and the card shows the error.
- A create (POST) that may have reached the PSA before failing is looked up before it is sent
  again, so a timeout never produces a duplicate time entry, note or assignment.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from boards.live import mirror_changed_on_commit
from psa.errors import PermanentError, PSAError, RetryableError
from psa.providers import provider_for
from sync import metrics
from sync.engine.services import mirror_upsert_records
from sync.models import Connection, OutboxEntry
from topleft.logs import log_context

logger = logging.getLogger("sync.outbox")

State = OutboxEntry.State
Action = OutboxEntry.Action
STUCK_AFTER = timedelta(minutes=1)  # pending this long: the enqueue was lost (broker down)
SENDING_LEASE = timedelta(minutes=3)  # sending this long: the worker died mid-push
MAX_ATTEMPTS = 10


def outbox_enqueue_on_commit(entry: OutboxEntry) -> None:
    transaction.on_commit(lambda: _enqueue_safely(entry.pk))


def _enqueue_safely(entry_id: int) -> None:
    from sync.tasks_realtime import enqueue_push

    try:
        enqueue_push(entry_id)
    except Exception:  # broker down: the row is committed, the sweeper will send it
        logger.exception("could not enqueue outbox entry %s; the sweeper will re-send it", entry_id)


# --- claim ----------------------------------------------------------------------------------------


class ConnectionBusy(Exception):
    """The connection already has OUTBOX_PUSHES_PER_CONNECTION pushes in flight."""


def outbox_claim(*, entry_id: int) -> OutboxEntry | None:
    """Take the entry (pending → sending) if no older edit of the same card is unfinished.
    Raises ConnectionBusy when its connection has as many pushes in flight as it may."""
    with transaction.atomic():
        connection_id = (
            OutboxEntry.objects.filter(pk=entry_id, state=State.PENDING)
            .values_list("connection_id", flat=True)
            .first()
        )
        if connection_id is None:
            return None
        # Claims of one connection take turns on its row, so the count below stays true.
        Connection.objects.select_for_update().filter(pk=connection_id).exists()
        in_flight = OutboxEntry.objects.filter(connection_id=connection_id, state=State.SENDING).count()
        if in_flight >= settings.OUTBOX_PUSHES_PER_CONNECTION:
            raise ConnectionBusy(f"connection {connection_id} has {in_flight} write-backs in flight")
        return _claim(entry_id)


def _claim(entry_id: int) -> OutboxEntry | None:
    older_unfinished = OutboxEntry.objects.filter(
        connection_id=OuterRef("connection_id"),
        kind=OuterRef("kind"),
        psa_id=OuterRef("psa_id"),
        id__lt=OuterRef("id"),
        state__in=[State.PENDING, State.SENDING],
    )
    claimed = (
        OutboxEntry.objects.filter(pk=entry_id, state=State.PENDING)
        .exclude(Exists(older_unfinished))
        .update(state=State.SENDING, claimed_at=timezone.now(), attempts=F("attempts") + 1)
    )
    return OutboxEntry.objects.select_related("connection").get(pk=entry_id) if claimed == 1 else None


# --- push -----------------------------------------------------------------------------------------


def outbox_push(*, entry_id: int, client: Any | None = None) -> str:
    """Push one entry. Returns done | failed | retry | skipped (not claimable now) | busy (its
    connection has as many pushes in flight as it may)."""
    try:
        entry = outbox_claim(entry_id=entry_id)
    except ConnectionBusy:
        return "busy"  # the task asks again shortly; the sweeper catches anything left
    if entry is None:
        return "skipped"
    # Every line logged while pushing (PSA retries and the re-read included) names the entry.
    with log_context(connection_id=entry.connection_id, outbox_entry_id=entry.pk):
        outcome = _push(entry, client)
    metrics.outbox_pushed(entry, outcome)
    return outcome


def _push(entry: OutboxEntry, client: Any | None) -> str:
    try:
        provider = provider_for(entry.connection)
        client = client or provider.client_for(entry.connection, interactive=True)
        provider.pushers[entry.action](client, entry)
    except RetryableError as err:
        if entry.attempts >= MAX_ATTEMPTS:
            _reject(entry, err, client)
            return "failed"
        _release(entry, err)
        return "retry"
    except PermanentError as err:
        _reject(entry, err, client)
        return "failed"
    except PSAError as err:  # an answer we could not use: treat like a transient failure
        _release(entry, err)
        return "retry"
    _finish(entry)
    return "done"


def _release(entry: OutboxEntry, err: PSAError) -> None:
    logger.warning("outbox %s: PSA unavailable (attempt %s), will retry: %s", entry.pk, entry.attempts, err)
    OutboxEntry.objects.filter(pk=entry.pk, state=State.SENDING).update(
        state=State.PENDING, error=str(err)[:2000], updated_at=timezone.now()
    )


def _finish(entry: OutboxEntry) -> None:
    OutboxEntry.objects.filter(pk=entry.pk).update(
        state=State.DONE, error="", done_at=timezone.now(), result_psa_id=entry.result_psa_id
    )
    _record_model(entry).objects.filter(connection_id=entry.connection_id, psa_id=entry.psa_id).exclude(
        writeback_error=""
    ).update(writeback_error="")
    _after_commit(entry)


def _reject(entry: OutboxEntry, err: PSAError, client: Any | None) -> None:
    message = err.psa_message or err.message or str(err)
    logger.warning("outbox %s: %s rejected by the PSA: %s", entry.pk, entry.action, err)
    # One commit for the failed entry, the card's message and the card put back to what the PSA
    # holds: nobody sees the entry failed while its card does not say why, or the message on a
    # card still standing where the refused edit put it. The entry must no longer be waiting
    # when the re-read applies, or the re-read would keep the refused edit's values. The re-read
    # makes short retries only (a task is waiting), so the rows stay locked for seconds at most.
    label = Action(entry.action).label
    with transaction.atomic():
        OutboxEntry.objects.filter(pk=entry.pk).update(
            state=State.FAILED, error=str(err)[:2000], done_at=timezone.now()
        )
        _drop_placeholders(entry)
        _record_model(entry).objects.filter(connection_id=entry.connection_id, psa_id=entry.psa_id).update(
            writeback_error=f"{label} was rejected by the PSA: {message}"[:2000]
        )
        if client is not None:
            _reread_refused(entry, client)
    _after_commit(entry)


def _reread_refused(entry: OutboxEntry, client: Any) -> None:
    resources = entry.action in (Action.TICKET_ADD_RESOURCE, Action.TICKET_REMOVE_RESOURCE)
    try:
        with transaction.atomic():  # a failed re-read leaves the failure itself committed
            provider_for(entry.connection).refresh.record(
                connection_id=entry.connection_id,
                kind=entry.kind,
                psa_id=entry.psa_id,
                client=client,
                assignments=resources or None,
            )
    except PSAError as refresh_err:
        logger.warning(
            "outbox %s: could not re-read %s %s: %s", entry.pk, entry.kind, entry.psa_id, refresh_err
        )
    except Exception:  # noqa: BLE001 - the refusal must be recorded whatever the re-read does
        # (the savepoint undid the re-read alone; the next tier run puts the card right).
        logger.exception("outbox %s: re-reading %s %s failed", entry.pk, entry.kind, entry.psa_id)


def _after_commit(entry: OutboxEntry) -> None:
    """Announce the change and start the next waiting edit of the same card."""
    mirror_changed_on_commit(connection_id=entry.connection_id)
    following = (
        OutboxEntry.objects.filter(
            connection_id=entry.connection_id,
            kind=entry.kind,
            psa_id=entry.psa_id,
            state=State.PENDING,
            id__gt=entry.pk,
        )
        .order_by("id")
        .values_list("pk", flat=True)
        .first()
    )
    if following:
        transaction.on_commit(lambda: _enqueue_safely(following))


def _record_model(entry: OutboxEntry):
    return apps.get_model("boards", "Opportunity" if entry.kind == OutboxEntry.Kind.OPPORTUNITY else "Ticket")


# --- the PSA's answer -----------------------------------------------------------------------------


def outbox_apply_record(
    entry: OutboxEntry, entity: str, record: dict, *, parent_id: int | None = None
) -> None:
    """Store the PSA's answer in the mirror (replacing the placeholder row of a created record)."""
    with transaction.atomic():
        _drop_placeholders(entry)
        if isinstance(record, dict) and record.get("id"):
            mirror_upsert_records(
                connection=entry.connection,
                entity=entity,
                records=[record],
                parent_id=parent_id,
                confirming_entry_id=entry.pk,
            )
            if _placeholder_models(entry):
                entry.result_psa_id = int(record["id"])


# --- sweeper --------------------------------------------------------------------------------------


def outbox_sweep(*, enqueue: Callable[[int], None] | None = None) -> int:
    """Re-send entries stuck in pending (lost enqueue) or sending (dead worker). Returns how many.

    With `enqueue=None` the entries are pushed right here (broker-less callers, tests)."""
    now = timezone.now()
    # A dead worker's claim: back to pending; the create lookup keeps a re-send from duplicating.
    # (updated_at is left old, so the entry counts as stuck right away.)
    OutboxEntry.objects.filter(state=State.SENDING, claimed_at__lt=now - SENDING_LEASE).update(
        state=State.PENDING
    )
    stuck = list(
        OutboxEntry.objects.filter(state=State.PENDING, updated_at__lt=now - STUCK_AFTER)
        .order_by("id")
        .values_list("pk", flat=True)[:500]
    )
    # Touch first so the next sweep does not send them again while these are queued.
    OutboxEntry.objects.filter(pk__in=stuck, state=State.PENDING).update(updated_at=timezone.now())
    for entry_id in stuck:
        if enqueue is None:
            outbox_push(entry_id=entry_id)
        else:
            enqueue(entry_id)
    if stuck:
        logger.info("outbox sweeper re-sent %d stuck entries", len(stuck))
    return len(stuck)


def _placeholder_models(entry: OutboxEntry) -> list[str]:
    models: dict[str, list[str]] = {
        Action.TICKET_ADD_RESOURCE: ["TicketAssignment"],
        Action.TIME_ENTRY_CREATE: ["TimeEntry"],
        Action.TICKET_NOTE_ADD: ["ServiceNote"],
    }
    return models.get(entry.action, [])


def _drop_placeholders(entry: OutboxEntry) -> None:
    for name in _placeholder_models(entry):
        apps.get_model("boards", name).objects.filter(
            connection_id=entry.connection_id, psa_id=entry.placeholder_psa_id
        ).delete()
