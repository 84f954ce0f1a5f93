"""Webhook refresh: re-read PSA records and bring their mirror rows up to date.

Used by the webhook receiver (through a coalesced `realtime` task) and by write-back (to revert
the mirror after a rejection). A 404 on GET by id is the only proof of a delete: a callback
saying `Action: deleted` is never trusted on its own.

Coalescing, per connection, in the Django cache (Redis in production):
- a callback appends [kind, id] to the connection's queue (an incr'ed sequence of items) and
  enqueues a drain only if it wins `cache.add(pending)`: one drain in flight per connection;
- the drain takes everything queued, merges it per record and fetches the records in batches
  (`id in (...)` listings, one per kind, plus the assignments of the tickets that need them);
  a record missing from its listing is confirmed by GET by id (404 → removed);
- it then releases `pending` and enqueues one trailing drain if more arrived meanwhile;
- a record fetched less than COALESCE_SECONDS ago, or whose callbacks are still arriving
  (a burst), is held back and fetched once it has been quiet for QUIET_SECONDS.
A burst for one record therefore costs one fetch plus one trailing fetch, and a busy PSA costs
a few requests per drain instead of one or two per callback.
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

from boards.live import mirror_changed_on_commit
from psa.connectwise.client import ConnectWiseClient
from psa.connectwise.conditions import all_of, cond, split_in
from psa.errors import NotFound, PermanentError, RetryableError
from psa.http import BACKGROUND
from sync.engine.services import mirror_delete_record, mirror_upsert_records
from sync.mapping.catalog import mapping_get
from sync.models import Connection

logger = logging.getLogger("sync.refresh")

PENDING_SECONDS = 120  # a crashed worker's pending flag frees itself (acks_late redelivers anyway)
ITEM_SECONDS = 3600
MAX_BACKLOG = 20_000
HOLE_SECONDS = 5.0
QUIET_SECONDS = 0.3
MAX_DEFER_SECONDS = 10.0


def coalesce_seconds() -> float:
    return float(getattr(settings, "REALTIME_COALESCE_SECONDS", 0.3))


@dataclass(frozen=True)
class RecordKind:
    """One refreshable kind: where to GET it (first path wins) and which mirror entity it is."""

    name: str
    paths: tuple[tuple[str, str], ...]  # (path template, entity), tried in order until one answers
    rank_family: str | None = None


# Reference: endpoints.tsv GET /service/tickets/{id}, /project/tickets/{id}, /sales/opportunities/{id},
# /project/projects/{id}, /company/companies/{id} (and the listings without /{id})
KINDS: dict[str, RecordKind] = {
    "ticket": RecordKind(
        "ticket",
        (("service/tickets/{id}", "service_tickets"), ("project/tickets/{id}", "project_tickets")),
        rank_family="ticket",
    ),
    "opportunity": RecordKind(
        "opportunity", (("sales/opportunities/{id}", "opportunities"),), rank_family="opportunity"
    ),
    "project": RecordKind("project", (("project/projects/{id}", "projects"),)),
    "company": RecordKind("company", (("company/companies/{id}", "companies"),)),
}


SCHEDULE_HINT = "schedule"  # asked for by a schedule-entry (assignment) callback: re-read assignments


# --- coalescing queue (per connection) ----------------------------------------------------------


def _qkey(connection_id: int, name: str) -> str:
    return f"sync:refresh:{connection_id}:{name}"


def _record_key(connection_id: int, kind: str, psa_id: int) -> str:
    return _qkey(connection_id, f"fetched:{kind}:{psa_id}")


def _push_items(connection_id: int, items: list[list]) -> None:
    """Append [kind, id, hint, last arrival, count] items to the connection's queue."""
    seq = _qkey(connection_id, "seq")
    if cache.add(seq, 0, None):  # a new (or lost and restarted) sequence: nothing of it is drained
        cache.set(_qkey(connection_id, "drained"), 0, None)
    for item in items:
        cache.set(_qkey(connection_id, f"item:{cache.incr(seq)}"), item, ITEM_SECONDS)


def refresh_request(
    *, connection_id: int, kind: str, psa_id: int, enqueue: Callable[..., None], hint: str = ""
) -> bool:
    """Queue the record for a refresh; enqueue a drain unless one is pending. True if enqueued."""
    _push_items(connection_id, [[kind, int(psa_id), hint, time.time(), 1]])
    if not cache.add(_qkey(connection_id, "pending"), 1, PENDING_SECONDS):
        return False
    enqueue(connection_id=connection_id, countdown=0)
    return True


def _take_items(connection_id: int) -> dict[tuple[str, int], list]:
    """Everything queued since the last drain, merged per record.

    A callback increments the sequence before it writes its item, so a slot can still be empty
    when we read it: such holes are looked at again by the next drains (for HOLE_SECONDS)."""
    now, holes_key = time.time(), _qkey(connection_id, "holes")
    upto = int(cache.get(_qkey(connection_id, "seq")) or 0)
    start = max(int(cache.get(_qkey(connection_id, "drained")) or 0), upto - MAX_BACKLOG)
    holes = cache.get(holes_key) or {}
    numbers = [*holes, *range(start + 1, upto + 1)]
    keys = {n: _qkey(connection_id, f"item:{n}") for n in numbers}
    found: dict = {}
    for chunk in range(0, len(numbers), 500):
        found.update(cache.get_many([keys[n] for n in numbers[chunk : chunk + 500]]))
    cache.set(
        holes_key,
        {
            n: holes.get(n, now)
            for n in numbers
            if keys[n] not in found and now - holes.get(n, now) < HOLE_SECONDS
        },
        None,
    )
    cache.set(_qkey(connection_id, "drained"), upto, None)
    cache.delete_many(list(found))
    merged: dict[tuple[str, int], list] = {}
    for kind, psa_id, hint, arrived, count in found.values():
        item = merged.setdefault((kind, psa_id), [kind, psa_id, "", 0.0, 0])
        if hint == SCHEDULE_HINT or not item[2]:
            item[2] = hint
        item[3], item[4] = max(item[3], arrived), item[4] + count
    return merged


def _split_due(connection_id: int, merged: dict, now: float) -> tuple[list[list], list[list]]:
    """Records to fetch now, and records held back because they were fetched a moment ago and
    callbacks for them are still arriving (a burst: fetched again once it is quiet)."""
    keys = {key: _record_key(connection_id, *key) for key in merged}
    fetched = cache.get_many(list(keys.values()))
    due: list[list] = []
    later: list[list] = []
    for key, item in merged.items():
        last_fetch = fetched.get(keys[key])
        since_fetch = None if last_fetch is None else now - last_fetch
        recent = since_fetch is not None and since_fetch < MAX_DEFER_SECONDS
        bursting = item[4] > 1 and now - item[3] < QUIET_SECONDS
        if recent and since_fetch is not None and (since_fetch < coalesce_seconds() or bursting):
            later.append(item)
        else:
            due.append(item)
    cache.set_many({keys[(i[0], i[1])]: now for i in due}, MAX_DEFER_SECONDS * 2)
    return due, later


def refresh_drain(*, connection_id: int, enqueue: Callable[..., None]) -> dict[str, int]:
    """The task body: refresh everything queued for the connection in batches, then release the
    pending flag and enqueue the next drain if more arrived (or some records were held back)."""
    due: list[list] = []
    later: list[list] = []
    counts: dict[str, int] = {}
    wait = 0.0
    try:
        merged = _take_items(connection_id)
        taken_at = time.time()  # every callback taken arrived before this: the fetch below covers it
        due, later = _split_due(connection_id, merged, taken_at)
        counts = records_refresh(connection_id=connection_id, items=due, started_at=taken_at)
        cache.delete(_qkey(connection_id, "failures"))
    except RetryableError as err:
        failures = _failures(connection_id)
        wait = min(5.0 * 2**failures, 300.0)
        logger.warning(
            "connection %s: refresh of %d records failed (%s), again in %.0fs",
            connection_id,
            len(due),
            err,
            wait,
        )
        cache.delete_many([_record_key(connection_id, i[0], i[1]) for i in due])
        later += due
    except PermanentError as err:
        # Keys revoked, a role without access ...: repeating will not help; the tiered sync
        # catches these records up once the connection is fixed.
        logger.error(
            "connection %s: refresh of %d records refused by the PSA: %s", connection_id, len(due), err
        )
    finally:
        if later:
            _push_items(connection_id, later)
        cache.delete(_qkey(connection_id, "pending"))
        fresh = int(cache.get(_qkey(connection_id, "seq")) or 0) - int(
            cache.get(_qkey(connection_id, "drained")) or 0
        )
        holes = bool(cache.get(_qkey(connection_id, "holes")))
        if (fresh or holes) and cache.add(_qkey(connection_id, "pending"), 1, PENDING_SECONDS):
            # Only what we put back (held-back records, holes): look again shortly, not at once.
            enqueue(connection_id=connection_id, countdown=wait or (0.1 if fresh == len(later) else 0))
    return counts


def _failures(connection_id: int) -> int:
    key = _qkey(connection_id, "failures")
    cache.add(key, 0, 3600)
    return cache.incr(key) - 1


# --- the refresh itself -------------------------------------------------------------------------


def realtime_client(connection: Connection) -> ConnectWiseClient:
    """Background retry policy (nobody waits on a refresh) but the interactive rate budget, so
    a long sync never delays webhook refreshes."""
    return ConnectWiseClient.from_connection(connection, interactive=True, policy=BACKGROUND)


def _stored_ticket(connection_id: int, psa_id: int) -> tuple[str, str] | None:
    """(kind, resources) of the mirrored ticket, None when it is not mirrored yet."""
    return (
        apps.get_model("boards", "Ticket")
        .objects.filter(connection_id=connection_id, psa_id=psa_id)
        .values_list("kind", "resources")
        .first()
    )


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


def record_refresh(
    *,
    connection_id: int,
    kind: str,
    psa_id: int,
    hint: str = "",
    client: ConnectWiseClient | None = None,
    assignments: bool | None = None,
) -> str:
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
            mirror_upsert_records(connection=connection, entity=entity, records=[record])
            if kind == "ticket" and _needs_assignments(stored, record, assignments):
                ticket_assignments_refresh(connection=connection, ticket_psa_id=psa_id, client=client)
        mirror_changed_on_commit(connection_id=connection_id)
        return "updated"
    record_forget(connection=connection, kind=kind, psa_id=psa_id)
    return "deleted"


def records_refresh(
    *, connection_id: int, items: list[list], started_at: float, client: ConnectWiseClient | None = None
) -> dict[str, int]:
    """Refresh [kind, id, hint, ...] items in batches: one `id in (...)` listing per kind; records
    the listing does not return go through `record_refresh` (other ticket path, or a 404)."""
    counts = {"updated": 0, "deleted": 0}
    if not items:
        return counts
    connection = Connection.objects.get(pk=connection_id)
    client = client or realtime_client(connection)
    by_kind: dict[str, dict[int, str]] = {}
    for kind, psa_id, hint, *_ in items:
        by_kind.setdefault(kind, {})[int(psa_id)] = hint
    for kind, hints in by_kind.items():
        found = _batch_fetch(connection=connection, kind=kind, hints=hints, client=client)
        counts["updated"] += len(found)
        for psa_id in sorted(set(hints) - found):
            outcome = record_refresh(
                connection_id=connection_id,
                kind=kind,
                psa_id=psa_id,
                hint=hints[psa_id],
                client=client,
                assignments=True if hints[psa_id] == SCHEDULE_HINT else None,
            )
            counts[outcome] += 1
            if outcome == "updated":
                found.add(psa_id)
        took_ms = (time.time() - started_at) * 1000
        for psa_id in hints:
            logger.info(
                "refreshed connection=%s kind=%s id=%s outcome=%s started_at=%.3f took_ms=%.0f",
                connection_id,
                kind,
                psa_id,
                "updated" if psa_id in found else "deleted",
                started_at,
                took_ms,
            )
    return counts


def _batch_fetch(
    *, connection: Connection, kind: str, hints: dict[int, str], client: ConnectWiseClient
) -> set[int]:
    """Upsert what one listing per path returns for these ids (each id on the path it most
    likely lives on); returns the ids found."""
    spec = KINDS[kind]
    stored = {}
    if kind == "ticket":
        stored = {
            row[0]: row[1:]
            for row in apps.get_model("boards", "Ticket")
            .objects.filter(connection=connection, psa_id__in=list(hints))
            .values_list("psa_id", "kind", "resources")
        }
    found: set[int] = set()
    for template, entity in spec.paths:
        wanted = [
            i for i in hints if _ordered_paths(spec, stored=stored.get(i), hint=hints[i])[0][1] == entity
        ]
        records = []
        for conditions in split_in("id", wanted):
            # Reference: endpoints.tsv GET /service/tickets, /project/tickets, /sales/opportunities,
            # /project/projects, /company/companies (conditions id in (...))
            records += client.list_all(
                template.removesuffix("/{id}"), conditions=conditions, fields=mapping_get(entity).api_fields
            )
        records = [r for r in records if isinstance(r, dict) and r.get("id") in hints]
        if not records:
            continue
        with transaction.atomic():
            mirror_upsert_records(connection=connection, entity=entity, records=records)
            if kind == "ticket":
                needy = [
                    r["id"]
                    for r in records
                    if _needs_assignments(
                        stored.get(r["id"]), r, True if hints[r["id"]] == SCHEDULE_HINT else None
                    )
                ]
                if needy:
                    ticket_assignments_refresh(connection=connection, ticket_psa_ids=needy, client=client)
        found |= {r["id"] for r in records}
    if found:
        mirror_changed_on_commit(connection_id=connection.pk)
    return found


def ticket_assignments_refresh(
    *,
    connection: Connection,
    client: ConnectWiseClient,
    ticket_psa_ids: list[int] | None = None,
    ticket_psa_id: int | None = None,
) -> int:
    """Re-read the tickets' open type-S schedule entries; drop mirrored ones the PSA no longer has."""
    entity = "ticket_assignments"
    wanted: list[int | None] = [*ticket_psa_ids] if ticket_psa_ids else [ticket_psa_id]
    ticket_ids = [int(i) for i in wanted if i is not None]
    # Same scope as the core tier (open entries only), narrowed to these tickets.
    scope = all_of(cond("type/identifier", "=", "S"), cond("doneFlag", "=", False))
    records = []
    for conditions in split_in("objectId", ticket_ids, extra=scope):
        # Reference: endpoints.tsv GET /schedule/entries (ScheduleEntry)
        records += client.list_all(
            "schedule/entries", conditions=conditions, fields=mapping_get(entity).api_fields
        )
    if records:
        mirror_upsert_records(connection=connection, entity=entity, records=records)
    seen = {int(r["id"]) for r in records if isinstance(r, dict) and str(r.get("id", "")).isdigit()}
    # One DELETE for all of them (the entity has no scope filter, so this is mirror_delete_record's rows).
    apps.get_model("boards", "TicketAssignment").objects.filter(
        connection=connection, ticket_psa_id__in=ticket_ids, psa_id__gt=0
    ).exclude(psa_id__in=seen).delete()
    return len(records)


def record_forget(*, connection: Connection, kind: str, psa_id: int) -> None:
    """The PSA confirmed the delete (404): remove the row, its rank and (tickets) its assignments."""
    spec = KINDS[kind]
    with transaction.atomic():
        for entity in dict.fromkeys(entity for _, entity in spec.paths):  # both ticket kinds
            mirror_delete_record(connection=connection, entity=entity, psa_id=psa_id)
        if kind == "ticket":
            apps.get_model("boards", "TicketAssignment").objects.filter(
                connection=connection, ticket_psa_id=psa_id
            ).delete()
        if spec.rank_family:
            apps.get_model("boards", "CardRank").objects.filter(
                connection=connection, family=spec.rank_family, psa_id=psa_id
            ).delete()
    logger.info(
        "connection %s: %s %s deleted in the PSA (404), removed from the mirror", connection.pk, kind, psa_id
    )
    mirror_changed_on_commit(connection_id=connection.pk)
