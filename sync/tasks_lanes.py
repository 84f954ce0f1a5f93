"""Fair shares of the worker pools for a thousand tenants: lanes, backoff and the run guard.

- Lanes (changes tier): a connection whose last changes run was slow (it spent more than
  SYNC_CHANGES_LANE_SECONDS) or failing runs on the `slow` queue (served by the bulk pool)
  until a run there is quick and clean again; every other connection on `changes` (its own
  pool). A run on the `changes` lane stops asking the PSA once it has spent
  SYNC_CHANGES_LANE_SECONDS (RunGuard), so a tenant that turns slow costs that lane one slot for
  that long, once; its next runs take the slow lane.
- Backoff (every tier): after n runs in a row in which the PSA failed, the dispatcher skips the
  connection's tier for 2^(n-1) - 1 periods (at most SYNC_BACKOFF_MAX_SECONDS) instead of
  retrying it every period.
- Run guard: a run stops asking the PSA after GUARD_TRIP failed requests in a row (each one
  after its retries), so a PSA that fails everything costs a couple of retry ladders, not one
  per entity of the tier.
- Queued marks: the dispatcher enqueues a connection's tier only when no earlier task of it is
  still waiting, so a backlog never grows past one waiting task per connection and tier.

The state lives in the cache (Redis in production, shared by every worker and beat): losing it
only forgets who was slow or failing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

from psa.errors import AuthError, PSAError, RetryableError
from psa.http import RetryPolicy
from sync.tiers import CHANGES, SLOW, tier_get

logger = logging.getLogger("sync.lanes")

GUARD_TRIP = 2  # failed requests in a row (after their retries) that stop a run
HEALTH_SECONDS = 7 * 24 * 3600  # a connection's health is forgotten after a quiet week

# The changes tier polls every five minutes: a request that keeps failing is asked again by the
# next run, not retried for a minute inside this one (background policy: up to 8 attempts).
CHANGES_POLICY = RetryPolicy(
    "changes", attempts=3, base=1.0, cap=10.0, connect_timeout=5, read_timeout=30, default_retry_after=2.0
)


def run_policy(tier: str) -> RetryPolicy | None:
    """The retry policy of a tier's runs (None: the provider's background policy)."""
    return CHANGES_POLICY if tier == CHANGES else None


# --- health: backoff and lane of a (connection, tier) ------------------------------------------


@dataclass
class Health:
    failures: int = 0  # runs in a row in which the PSA failed
    until: float = 0.0  # epoch seconds: no run dispatched before this (backoff)
    slow: bool = False  # changes tier: the last run was slow or failing → the slow lane


def _health_key(connection_id: int, tier: str) -> str:
    return f"sync:health:{connection_id}:{tier}"


def _queued_key(connection_id: int, tier: str) -> str:
    return f"sync:queued:{connection_id}:{tier}"


def _health_of(value: Any) -> Health:
    return Health(**value) if isinstance(value, dict) else Health()


def health_get(*, connection_id: int, tier: str) -> Health:
    return _health_of(cache.get(_health_key(connection_id, tier)))


def backoff_seconds(*, tier: str, failures: int) -> float:
    """How long the dispatcher leaves a tier alone after `failures` failing runs in a row: no
    period skipped after the first, then 1, 3, 7 ... periods."""
    if failures <= 1:
        return 0.0
    period = tier_get(tier).every_seconds
    return float(min(period * (2 ** (failures - 1) - 1), settings.SYNC_BACKOFF_MAX_SECONDS))


def run_finished(
    *, connection_id: int, tier: str, failed: bool, slow: bool, now: float | None = None
) -> Health:
    """Record how a tier run went: a failing one counts toward the backoff, a clean one resets
    it; on the changes tier a slow or failing run moves the connection to the slow lane and a
    quick clean one brings it back."""
    now = time.time() if now is None else now
    health = health_get(connection_id=connection_id, tier=tier)
    health.failures = health.failures + 1 if failed else 0
    health.until = now + backoff_seconds(tier=tier, failures=health.failures) if failed else 0.0
    health.slow = tier == CHANGES and (slow or failed)
    if health == Health():
        cache.delete(_health_key(connection_id, tier))
    else:
        cache.set(_health_key(connection_id, tier), asdict(health), HEALTH_SECONDS)
        if failed and health.until > now:
            logger.warning(
                "connection %s: %s tier failed %d times in a row; next run in %.0f s",
                connection_id,
                tier,
                health.failures,
                health.until - now,
            )
    return health


def _queue_of(tier: str, health: Health) -> str:
    return SLOW if tier == CHANGES and health.slow else tier_get(tier).queue


def queue_for(*, connection_id: int, tier: str) -> str:
    """The queue of a connection's next run of `tier` (its lane, for the changes tier)."""
    return _queue_of(tier, health_get(connection_id=connection_id, tier=tier))


def dispatch_plan(
    *, tier: str, connection_ids: Iterable[int], now: float | None = None
) -> list[tuple[int, str]]:
    """(connection id, queue) of every connection to enqueue now: not backing off, no earlier
    task of the tier still waiting. Marks them queued (one MGET + one pipelined MSET in all)."""
    now = time.time() if now is None else now
    ids = list(connection_ids)
    tier_def = tier_get(tier)
    found = cache.get_many([_queued_key(cid, tier) for cid in ids] + [_health_key(cid, tier) for cid in ids])
    plan = []
    for cid in ids:
        health = _health_of(found.get(_health_key(cid, tier)))
        if _queued_key(cid, tier) in found or health.until > now:
            continue
        plan.append((cid, _queue_of(tier, health)))
    # A mark whose task was lost (a purged queue) lapses after two periods and a run's length.
    ttl = 2 * tier_def.every_seconds + tier_def.time_limit_seconds
    cache.set_many({_queued_key(cid, tier): 1 for cid, _ in plan}, ttl)
    return plan


def queued_clear(*, connection_id: int, tier: str) -> None:
    """The tier's task has started: the dispatcher may queue the next one."""
    cache.delete(_queued_key(connection_id, tier))


# --- the run guard ------------------------------------------------------------------------------


class RunStopped(RetryableError):
    """The run guard did not send a request: the run is over budget or the PSA keeps failing."""


class RunGuard:
    """Wraps a tier run's PSA client (the engine's PSAClient protocol): every request goes through
    unless the run already saw GUARD_TRIP failed requests in a row, or (`stop_when_slow`) ran for
    longer than `slow_after` seconds.
    Afterwards `failed` and `slow` say how the run went."""

    def __init__(
        self,
        client: Any,
        *,
        slow_after: float | None = None,
        stop_when_slow: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.clock = clock
        self.started = clock()
        self.slow_after = slow_after  # a run longer than this is slow (None: never)
        self.stop_when_slow = stop_when_slow  # and is stopped there (the changes lane's budget)
        self.failures_in_row = 0
        self.failed_requests = 0
        self.answered = 0
        self.stopped_for = ""  # why the guard refused a request ("" if it never did)
        self._lock = threading.Lock()  # the engine fetches the next page in a helper thread

    @property
    def requests_made(self) -> int:
        return self.client.requests_made

    @property
    def elapsed(self) -> float:
        return self.clock() - self.started

    @property
    def tripped(self) -> bool:
        return self.failures_in_row >= GUARD_TRIP

    @property
    def failed(self) -> bool:
        """The PSA failed this run: the guard tripped, or nothing it was asked was answered."""
        return self.tripped or (self.failed_requests > 0 and self.answered == 0)

    @property
    def slow(self) -> bool:
        return self.slow_after is not None and self.elapsed > self.slow_after

    def _check(self) -> None:
        if self.tripped:
            self.stopped_for = "failing"
            raise RunStopped(
                f"not asked: the PSA failed the last {self.failures_in_row} requests of this run "
                "(after their retries); the next run tries again"
            )
        if self.stop_when_slow and self.slow:
            self.stopped_for = "budget"
            raise RunStopped(
                f"not asked: this run spent its {self.slow_after:.0f} s on the changes lane; "
                "the connection's next runs take the slow lane"
            )

    def _outcome(self, error: BaseException | None) -> None:
        with self._lock:
            if error is None:
                self.answered += 1
                self.failures_in_row = 0
            elif isinstance(error, RetryableError | AuthError) and not isinstance(error, RunStopped):
                # the PSA is down, slow or refusing these keys (not: one request of ours is wrong)
                self.failed_requests += 1
                self.failures_in_row += 1

    def iter_pages(self, path: str, **kwargs: Any) -> Iterator[list]:
        self._check()
        pages = self.client.iter_pages(path, **kwargs)
        while True:
            try:
                page = next(pages)
            except StopIteration:
                self._outcome(None)
                return
            except PSAError as err:
                self._outcome(err)
                raise
            self._outcome(None)
            yield page
            self._check()

    def count(self, path: str, **kwargs: Any) -> int:
        self._check()
        try:
            value = self.client.count(path, **kwargs)
        except PSAError as err:
            self._outcome(err)
            raise
        self._outcome(None)
        return value

    def __getattr__(self, name: str) -> Any:  # anything else of the provider's client
        return getattr(self.client, name)
