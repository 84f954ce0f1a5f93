"""The coalescing refresh queue of each connection (in the Django cache: Redis in production).

- a callback appends a RefreshItem to the connection's queue (an incr'ed sequence of slots) and
  enqueues a drain only if it wins `cache.add(pending)`: one drain in flight per connection;
- the drain takes everything queued, merges it per record and hands the records to the
  provider's record fetch (e.g. psa/connectwise/refresh.py) in one batch;
- it then releases `pending` and enqueues one trailing drain if more arrived meanwhile;
- a record fetched less than REALTIME_COALESCE_SECONDS ago, or whose callbacks are still arriving
  (a burst), is held back and fetched once it has been quiet for QUIET_SECONDS.
A burst for one record therefore costs one fetch plus one trailing fetch, and a busy PSA costs a
few requests per drain instead of one or two per callback.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from django.conf import settings
from django.core.cache import cache

from psa.errors import PermanentError, RetryableError

logger = logging.getLogger("sync.refresh")

PENDING_SECONDS = 120  # a crashed worker's pending flag frees itself (acks_late redelivers anyway)
ITEM_SECONDS = 3600
MAX_BACKLOG = 20_000
HOLE_SECONDS = 5.0
QUIET_SECONDS = 0.3
MAX_DEFER_SECONDS = 10.0


# A hint any caller may add: the record's notes are wanted too (a board opened a card whose notes
# are not mirrored yet); providers that keep notes re-read them along with the record.
NOTES_HINT = "notes"


def coalesce_seconds() -> float:
    return float(getattr(settings, "REALTIME_COALESCE_SECONDS", 0.3))


@dataclass(frozen=True)
class RefreshItem:
    """One record waiting in the queue: what to re-read, and how its callbacks arrived."""

    kind: str  # one of the provider's refresh kinds (ticket, opportunity, ...)
    psa_id: int
    hints: tuple[str, ...] = ()  # what the callbacks knew (the provider reads them), in arrival order
    arrived: float = 0.0  # when the last callback for it arrived
    count: int = 1  # how many callbacks were merged into it

    @property
    def key(self) -> tuple[str, int]:
        return (self.kind, self.psa_id)

    def merged_with(self, other: RefreshItem) -> RefreshItem:
        return replace(
            self,
            hints=tuple(dict.fromkeys(self.hints + other.hints)),
            arrived=max(self.arrived, other.arrived),
            count=self.count + other.count,
        )


def refreshed_log(
    *, connection_id: int, kind: str, psa_ids: list[int], found: set[int], started_at: float
) -> None:
    """One line per refreshed record (the providers' records_refresh), with when its drain
    started and how long it took: what the realtime benchmarks and operators read."""
    took_ms = (time.time() - started_at) * 1000
    for psa_id in psa_ids:
        logger.info(
            "refreshed connection=%s kind=%s id=%s outcome=%s started_at=%.3f took_ms=%.0f",
            connection_id,
            kind,
            psa_id,
            "updated" if psa_id in found else "deleted",
            started_at,
            took_ms,
        )


def refresh_in_batches(
    *,
    connection_id: int,
    items: list[RefreshItem],
    started_at: float,
    preferred_hint: str,
    batch: Callable[[str, dict[int, str]], set[int]],
    single: Callable[[str, int, str], str],
    after_kind: Callable[[str, set[int]], None] | None = None,
) -> dict[str, int]:
    """The providers' records_refresh: per kind, `batch(kind, {psa_id: hint})` upserts what one
    listing returns (the ids found); each id it did not return goes through `single(kind, psa_id,
    hint)` (updated | deleted: another path, or gone); then `after_kind(kind, found)`. An item's
    hint is `preferred_hint` when it carries it (it asks for more), else its first."""
    counts = {"updated": 0, "deleted": 0}
    by_kind: dict[str, dict[int, str]] = {}
    for item in items:
        hint = preferred_hint if preferred_hint in item.hints else next(iter(item.hints), "")
        by_kind.setdefault(item.kind, {})[int(item.psa_id)] = hint
    for kind, hints in by_kind.items():
        found = batch(kind, hints)
        counts["updated"] += len(found)
        for psa_id in sorted(set(hints) - found):
            outcome = single(kind, psa_id, hints[psa_id])
            counts[outcome] += 1
            if outcome == "updated":
                found.add(psa_id)
        if after_kind is not None:
            after_kind(kind, found)
        refreshed_log(
            connection_id=connection_id, kind=kind, psa_ids=list(hints), found=found, started_at=started_at
        )
    return counts


def _qkey(connection_id: int, name: str) -> str:
    return f"sync:refresh:{connection_id}:{name}"


def _record_key(connection_id: int, kind: str, psa_id: int) -> str:
    return _qkey(connection_id, f"fetched:{kind}:{psa_id}")


def _push_items(connection_id: int, items: list[RefreshItem]) -> None:
    """Append items to the connection's queue."""
    seq = _qkey(connection_id, "seq")
    if cache.add(seq, 0, None):  # a new (or lost and restarted) sequence: nothing of it is drained
        cache.set(_qkey(connection_id, "drained"), 0, None)
    for item in items:
        cache.set(_qkey(connection_id, f"item:{cache.incr(seq)}"), item, ITEM_SECONDS)


def refresh_request(
    *, connection_id: int, kind: str, psa_id: int, enqueue: Callable[..., None], hint: str = ""
) -> bool:
    """Queue the record for a refresh; enqueue a drain unless one is pending. True if enqueued."""
    _push_items(connection_id, [RefreshItem(kind, int(psa_id), (hint,) if hint else (), time.time(), 1)])
    if not cache.add(_qkey(connection_id, "pending"), 1, PENDING_SECONDS):
        return False
    enqueue(connection_id=connection_id, countdown=0)
    return True


def take_items(connection_id: int) -> dict[tuple[str, int], RefreshItem]:
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
    merged: dict[tuple[str, int], RefreshItem] = {}
    for item in found.values():
        merged[item.key] = merged[item.key].merged_with(item) if item.key in merged else item
    return merged


def _split_due(
    connection_id: int, merged: dict[tuple[str, int], RefreshItem], now: float
) -> tuple[list[RefreshItem], list[RefreshItem]]:
    """Records to fetch now, and records held back because they were fetched a moment ago and
    callbacks for them are still arriving (a burst: fetched again once it is quiet)."""
    keys = {key: _record_key(connection_id, *key) for key in merged}
    fetched = cache.get_many(list(keys.values()))
    due: list[RefreshItem] = []
    later: list[RefreshItem] = []
    for key, item in merged.items():
        last_fetch = fetched.get(keys[key])
        since_fetch = None if last_fetch is None else now - last_fetch
        recent = since_fetch is not None and since_fetch < MAX_DEFER_SECONDS
        bursting = item.count > 1 and now - item.arrived < QUIET_SECONDS
        if recent and since_fetch is not None and (since_fetch < coalesce_seconds() or bursting):
            later.append(item)
        else:
            due.append(item)
    cache.set_many({keys[i.key]: now for i in due}, MAX_DEFER_SECONDS * 2)
    return due, later


def refresh_drain(*, connection_id: int, enqueue: Callable[..., None]) -> dict[str, int]:
    """The task body: refresh everything queued for the connection in batches, then release the
    pending flag and enqueue the next drain if more arrived (or some records were held back)."""
    from psa.providers import provider_get  # the record fetch needs the PSA client stack
    from sync.models import Connection

    provider = Connection.objects.filter(pk=connection_id).values_list("provider", flat=True).first()
    if provider is None:  # the connection was deleted: nothing to refresh, nothing to keep
        take_items(connection_id)
        cache.delete(_qkey(connection_id, "pending"))
        return {}
    records_refresh = provider_get(provider).refresh.records
    due: list[RefreshItem] = []
    later: list[RefreshItem] = []
    counts: dict[str, int] = {}
    wait = 0.0
    try:
        merged = take_items(connection_id)
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
        cache.delete_many([_record_key(connection_id, *i.key) for i in due])
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
