"""The hourly request threshold of an Autotask database, shared by every integration.

Reference: api.md §7 — 10,000 requests per rolling 60 minutes per Autotask database, counted
over every integration; past it calls are refused until the window clears.
`GET ThresholdInformation` answers `{"externalRequestThreshold", "requestThresholdTimeframe",
"currentTimeframeRequestCount"}`: the database's count, ours and everyone else's.

Our own requests are counted in a moving one-hour window in Redis under the database's key
(every connection and worker on that database shares it). Every few minutes one worker asks
ThresholdInformation and records how many requests OTHER integrations made in the window
(their count minus ours); we then hold back so that ours + theirs stays under the threshold.
Background work also leaves a reserve free for interactive work (write-back, refreshes).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import cache

from psa.http import RateBudget

logger = logging.getLogger("psa.autotask")

THRESHOLD_PER_HOUR = 10_000
BACKGROUND_RESERVE_SHARE = 0.10  # of the threshold, left to interactive requests
RECONCILE_EVERY_SECONDS = 300
MAX_WAIT_STEP_SECONDS = 5.0


@dataclass(frozen=True)
class Threshold:
    limit: int
    timeframe_minutes: int
    current: int  # requests of every integration in the current window


def threshold_parse(body: object) -> Threshold:
    if not isinstance(body, dict):
        raise ValueError(f"unexpected ThresholdInformation answer {body!r:.120}")
    return Threshold(
        limit=int(body.get("externalRequestThreshold") or THRESHOLD_PER_HOUR),
        timeframe_minutes=int(body.get("requestThresholdTimeframe") or 60),
        current=int(body.get("currentTimeframeRequestCount") or 0),
    )


class HourlyBudget(RateBudget):
    """`acquire()` before every request (psa.http.RetryingHttp calls it per attempt): the shared
    moving window of psa.http.RateBudget, one hour long, sized by what others use as well."""

    def __init__(
        self,
        database_id: str,
        *,
        interactive: bool = False,
        threshold: int = THRESHOLD_PER_HOUR,
        storage_uri: str | None = None,
        reconcile: Callable[[], Threshold] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(
            f"autotask-db:{database_id}",
            threshold,
            storage_uri=storage_uri,
            window_seconds=3600,
            sleep=sleep,
            max_wait_step=MAX_WAIT_STEP_SECONDS,
        )
        self.interactive = interactive
        self.threshold = threshold
        self.reconcile = reconcile  # set by the client: asks ThresholdInformation

    # --- what others use ---------------------------------------------------------------------

    def others_used(self) -> int:
        return int(cache.get(f"{self.key}:others") or 0)

    def record_threshold(self, info: Threshold) -> int:
        """Store what other integrations used in the window; returns that number."""
        others = max(info.current - self.used(), 0)
        cache.set(f"{self.key}:others", others, info.timeframe_minutes * 60)
        if info.current >= info.limit * 0.5:
            logger.info(
                "Autotask database %s: %d of %d requests used this hour", self.key, info.current, info.limit
            )
        return others

    def _maybe_reconcile(self) -> None:
        if self.reconcile is None or not cache.add(f"{self.key}:reconciled", 1, RECONCILE_EVERY_SECONDS):
            return
        try:
            self.try_acquire()  # the ThresholdInformation request counts too
            self.record_threshold(self.reconcile())
        except Exception as exc:  # best effort: the budget keeps counting our own requests
            logger.warning("Autotask ThresholdInformation unavailable for %s: %s", self.key, exc)

    # --- our own ---------------------------------------------------------------------------

    def used(self) -> int:
        try:
            stats = self.limiter.get_window_stats(self.item, "psa-budget", self.key)
        except Exception:
            return 0
        return self.threshold - stats.remaining

    def allowance(self) -> int:
        """How many more requests we may send now."""
        reserve = 0 if self.interactive else int(self.threshold * BACKGROUND_RESERVE_SHARE)
        return self.threshold - reserve - self.others_used() - self.used()

    min_wait_step = 0.5

    def may_take(self) -> bool:
        """Only within our allowance (what others used and the background reserve left)."""
        return self.allowance() > 0 and self.try_acquire()

    def acquire(self) -> float:
        """Block until the database has room for one more request of ours; the seconds waited."""
        self._maybe_reconcile()
        return super().acquire()

    def reset(self) -> None:
        super().reset()
        cache.delete_many([f"{self.key}:others", f"{self.key}:reconciled"])
