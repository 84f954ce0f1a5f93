"""Single-record refresh: re-read one PSA record and bring its mirror row up to date.

Used by the webhook receiver (through a coalesced `realtime` task) and by write-back (to revert
the mirror after a rejection). A 404 is the only proof of a delete: a callback saying
`Action: deleted` is never trusted on its own.

Coalescing (per connection + kind + record id, in the Django cache = Redis in production):
- a callback stamps `dirty` with its arrival time and enqueues a refresh only if it wins
  `cache.add(pending)`;
- the task clears `dirty` before it fetches, so anything arriving during the fetch re-marks it;
- when it finishes it releases `pending` and, if `dirty` was set again, enqueues ONE trailing
  refresh, no earlier than COALESCE_SECONDS after its own start;
- the trailing refresh waits (without fetching) while callbacks are still arriving, i.e. until
  the last one is QUIET_SECONDS old (at most MAX_DEFER_SECONDS after the burst began).
A burst of any size therefore costs one refresh in flight plus one trailing refresh.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from psa.connectwise.client import ConnectWiseClient
from psa.connectwise.conditions import all_of, cond
from psa.errors import NotFound
from psa.http import (
    BACKGROUND,
    MIN_INTERACTIVE_PER_MINUTE,
    SITE_REQUESTS_PER_MINUTE,
    RateBudget,
    budget_for_connection,
)
from sync.mapping.catalog import mapping_get
from sync.models import Connection

logger = logging.getLogger("sync.refresh")

PENDING_SECONDS = 120  # a crashed worker's pending flag frees itself (acks_late redelivers anyway)
QUIET_SECONDS = 0.3
MAX_DEFER_SECONDS = 10.0


def coalesce_seconds() -> float:
    return float(getattr(settings, "REALTIME_COALESCE_SECONDS", 0.3))


@dataclass(frozen=True)
class RecordKind:
    """One refreshable kind: where to GET it (first path wins) and which mirror entity it is."""

    name: str
    paths: tuple[tuple[str, str], ...]  # (path template, entity), tried in order until one answers
    model_label: str
    rank_family: str | None = None


KINDS: dict[str, RecordKind] = {
    "ticket": RecordKind(
        "ticket",
        # Reference: endpoints.tsv GET /service/tickets/{id}, GET /project/tickets/{id}
        (("service/tickets/{id}", "service_tickets"), ("project/tickets/{id}", "project_tickets")),
        "boards.Ticket", rank_family="ticket",
    ),
    "opportunity": RecordKind(
        "opportunity", (("sales/opportunities/{id}", "opportunities"),),  # Reference: GET /sales/opportunities/{id}
        "boards.Opportunity", rank_family="opportunity",
    ),
    "project": RecordKind(
        "project", (("project/projects/{id}", "projects"),), "boards.Project",  # Reference: GET /project/projects/{id}
    ),
    "company": RecordKind(
        "company", (("company/companies/{id}", "companies"),), "boards.Company",  # Reference: GET /company/companies/{id}
    ),
}


# --- the engine's mapper (sync/engine owns the PSA record → mirror row mapping) -------------------

def _engine_upsert(*, connection: Connection, entity: str, records: list[dict], parent_id: int | None = None):
    from sync.engine.services import mirror_upsert_records

    kw = {"parent_id": parent_id} if parent_id is not None else {}
    return mirror_upsert_records(connection=connection, entity=entity, records=records, **kw)


def _engine_delete(*, connection: Connection, entity: str, psa_id: int) -> None:
    from sync.engine.services import mirror_delete_record

    mirror_delete_record(connection=connection, entity=entity, psa_id=psa_id)


# --- coalescing ---------------------------------------------------------------------------------

def _keys(connection_id: int, kind: str, psa_id: int) -> tuple[str, str]:
    base = f"sync:refresh:{connection_id}:{kind}:{psa_id}"
    return f"{base}:pending", f"{base}:dirty"


SCHEDULE_HINT = "schedule"  # the refresh was asked for by a schedule-entry (assignment) callback


def _assignments_key(connection_id: int, kind: str, psa_id: int) -> str:
    return f"sync:refresh:{connection_id}:{kind}:{psa_id}:assignments"


def refresh_request(*, connection_id: int, kind: str, psa_id: int, enqueue: Callable[..., None],
                    hint: str = "") -> bool:
    """Mark the record dirty and enqueue a refresh unless one is already pending. True if enqueued."""
    pending, dirty = _keys(connection_id, kind, psa_id)
    if hint == SCHEDULE_HINT:  # sticky until the next fetch, whichever callback enqueued it
        cache.set(_assignments_key(connection_id, kind, psa_id), 1, PENDING_SECONDS)
    cache.set(dirty, time.time(), PENDING_SECONDS)
    if not cache.add(pending, 1, PENDING_SECONDS):
        return False
    enqueue(connection_id=connection_id, kind=kind, psa_id=psa_id, hint=hint, countdown=0)
    return True


def refresh_run_coalesced(*, connection_id: int, kind: str, psa_id: int, enqueue: Callable[..., None],
                          hint: str = "", burst_started: float | None = None) -> str:
    """The task body: clear dirty, refresh, then enqueue one trailing refresh if dirty again.

    `burst_started` is set on a trailing refresh: the epoch second the burst's first fetch began."""
    pending, dirty = _keys(connection_id, kind, psa_id)
    now = time.time()
    if burst_started is not None:
        last_callback = cache.get(dirty)
        if last_callback and now - float(last_callback) < QUIET_SECONDS and now - burst_started < MAX_DEFER_SECONDS:
            # Still arriving: keep `pending` held and look again shortly, without fetching.
            enqueue(connection_id=connection_id, kind=kind, psa_id=psa_id, hint=hint, countdown=QUIET_SECONDS,
                    burst_started=burst_started)
            return "deferred"
    cache.delete(dirty)
    assignments_key = _assignments_key(connection_id, kind, psa_id)
    assignments = bool(cache.get(assignments_key)) or None
    if assignments:
        cache.delete(assignments_key)
    try:
        outcome = record_refresh(connection_id=connection_id, kind=kind, psa_id=psa_id, hint=hint,
                                 assignments=assignments)
        logger.info("refreshed connection=%s kind=%s id=%s outcome=%s started_at=%.3f took_ms=%.0f",
                    connection_id, kind, psa_id, outcome, now, (time.time() - now) * 1000)
        return outcome
    finally:
        # Release first, then look: a callback landing in between either sees no pending flag
        # (and enqueues itself) or its dirty mark is seen here; `cache.add` lets only one win.
        cache.delete(pending)
        if cache.get(dirty) and cache.add(pending, 1, PENDING_SECONDS):
            wait = max(0.0, coalesce_seconds() - (time.time() - now))
            enqueue(connection_id=connection_id, kind=kind, psa_id=psa_id, hint=hint, countdown=wait,
                    burst_started=burst_started or now)


# --- the refresh itself -------------------------------------------------------------------------

def realtime_budget(connection: Connection) -> RateBudget:
    """What background work leaves of the site's requests per minute (as the interactive budget)."""
    site = getattr(settings, "PSA_SITE_REQUESTS_PER_MINUTE", SITE_REQUESTS_PER_MINUTE)
    if site == SITE_REQUESTS_PER_MINUTE:
        return budget_for_connection(connection, interactive=True)
    background = connection.background_budget_per_minute or settings.PSA_BACKGROUND_BUDGET_PER_MINUTE
    return RateBudget(f"connection:{connection.pk}:interactive", max(site - background, MIN_INTERACTIVE_PER_MINUTE))


def realtime_client(connection: Connection) -> ConnectWiseClient:
    """Background retry policy (nobody waits on a refresh) but the interactive rate budget, so
    a long sync never delays webhook refreshes."""
    return ConnectWiseClient(
        site_url=connection.site_url, company_id=connection.company_id,
        public_key=connection.public_key, private_key=connection.private_key,
        client_id=connection.client_id, api_version=connection.api_version,
        policy=BACKGROUND, budget=realtime_budget(connection), timeout=settings.PSA_TIMEOUT_SECONDS,
    )


def _stored_ticket(connection_id: int, psa_id: int) -> tuple[str, str] | None:
    """(kind, resources) of the mirrored ticket, None when it is not mirrored yet."""
    return (apps.get_model("boards", "Ticket").objects.filter(connection_id=connection_id, psa_id=psa_id)
            .values_list("kind", "resources").first())


def _ordered_paths(spec: RecordKind, *, stored: tuple[str, str] | None, hint: str) -> list[tuple[str, str]]:
    paths = list(spec.paths)
    stored_kind = stored[0] if stored else None
    if stored_kind == "project" or (stored_kind is None and hint.lower().startswith("project")):
        paths.reverse()
    return paths


def _needs_assignments(stored: tuple[str, str] | None, record: dict, assignments: bool | None) -> bool:
    # The PSA keeps the ticket's `resources` string in step with its type-S schedule entries, so
    # the assignments are re-read only when it changed, the ticket is new, or a schedule callback
    # (or a write-back revert) asked for it: one request instead of two for most callbacks.
    if assignments is not None:
        return assignments
    if stored is None:
        return True
    normalise = lambda text: ",".join(sorted(p.strip().lower() for p in (text or "").split(",") if p.strip()))  # noqa: E731
    return normalise(stored[1]) != normalise(record.get("resources"))


def record_refresh(*, connection_id: int, kind: str, psa_id: int, hint: str = "",
                   client: ConnectWiseClient | None = None, assignments: bool | None = None) -> str:
    """GET the record and upsert it, or confirm its delete by a 404. Returns updated|deleted.

    For tickets `assignments` forces (True) or skips (False) re-reading its schedule entries;
    None decides from the ticket's resources."""
    spec = KINDS[kind]
    connection = Connection.objects.get(pk=connection_id)
    client = client or realtime_client(connection)
    stored = _stored_ticket(connection_id, psa_id) if kind == "ticket" else None
    for template, entity in _ordered_paths(spec, stored=stored, hint=hint):
        try:
            record = client.get(template.format(id=int(psa_id)), fields=mapping_get(entity).api_fields)
        except NotFound:
            continue
        with transaction.atomic():
            _engine_upsert(connection=connection, entity=entity, records=[record])
            if kind == "ticket" and _needs_assignments(stored, record, assignments):
                ticket_assignments_refresh(connection=connection, ticket_psa_id=psa_id, client=client)
        _announce(connection_id)
        return "updated"
    record_forget(connection=connection, kind=kind, psa_id=psa_id)
    return "deleted"


def ticket_assignments_refresh(*, connection: Connection, ticket_psa_id: int, client: ConnectWiseClient) -> int:
    """Re-read the ticket's open type-S schedule entries; drop mirrored ones the PSA no longer has."""
    entity = "ticket_assignments"
    # Same scope as the core tier (open entries only), narrowed to this ticket.
    conditions = all_of(cond("type/identifier", "=", "S"), cond("objectId", "=", int(ticket_psa_id)),
                        cond("doneFlag", "=", False))
    # Reference: endpoints.tsv GET /schedule/entries (ScheduleEntry)
    records = client.list_all("schedule/entries", conditions=conditions, fields=mapping_get(entity).api_fields)
    if records:
        _engine_upsert(connection=connection, entity=entity, records=records)
    seen = {int(r["id"]) for r in records if isinstance(r, dict) and str(r.get("id", "")).isdigit()}
    model = apps.get_model("boards", "TicketAssignment")
    gone = (model.objects.filter(connection=connection, ticket_psa_id=ticket_psa_id, psa_id__gt=0)
            .exclude(psa_id__in=seen).values_list("psa_id", flat=True))
    for assignment_id in list(gone):
        _engine_delete(connection=connection, entity=entity, psa_id=assignment_id)
    return len(records)


def record_forget(*, connection: Connection, kind: str, psa_id: int) -> None:
    """The PSA confirmed the delete (404): remove the row, its rank and (tickets) its assignments."""
    spec = KINDS[kind]
    with transaction.atomic():
        for entity in dict.fromkeys(entity for _, entity in spec.paths):  # both ticket kinds
            _engine_delete(connection=connection, entity=entity, psa_id=psa_id)
        if kind == "ticket":
            apps.get_model("boards", "TicketAssignment").objects.filter(
                connection=connection, ticket_psa_id=psa_id).delete()
        if spec.rank_family:
            _rank_delete(connection=connection, family=spec.rank_family, psa_id=psa_id)
    logger.info("connection %s: %s %s deleted in the PSA (404), removed from the mirror",
                connection.pk, kind, psa_id)
    _announce(connection.pk)


def _rank_delete(*, connection: Connection, family: str, psa_id: int) -> None:
    try:
        rank = apps.get_model("boards", "CardRank")
    except LookupError:  # ranks not installed
        return
    rank.objects.filter(connection=connection, family=family, psa_id=psa_id).delete()


def _announce(connection_id: int) -> None:
    """Tell open boards (boards/live.py) after the commit."""
    try:
        from boards.live import mirror_changed
    except ImportError:
        return
    transaction.on_commit(lambda: mirror_changed(connection_id=connection_id))
