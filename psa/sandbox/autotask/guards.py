"""What stands before an API call: the three credential headers, the hourly request threshold
and the per-endpoint thread limit.

Reference: api.md §2 — a wrong secret answers 401 with an empty body; an unknown user and a
bad integration code answered 500 `{"errors": [...]}` for one integrator and an empty 401 for
another (unverified: `unknown_user` / `bad_code` choose "500" or "401"). Header names are
case-insensitive. §7 — 10,000 requests per rolling hour per database (refused past it, 429
reported by one client), and 3 concurrent requests per integration code and endpoint, the
excess slowed rather than refused.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from psa.sandbox.faults import SlidingWindowLimit
from psa.sandbox.replies import Reply

THREADS_PER_ENDPOINT = 3
UNKNOWN_USER_MESSAGE = "Unable to authenticate: the user name is not a valid API user."
BAD_CODE_MESSAGE = "IntegrationCode is invalid"


@dataclass(frozen=True)
class Credentials:
    username: str
    secret: str
    integration_code: str
    unknown_user: str = "500"  # how an unknown user is answered: "500" or "401"
    bad_code: str = "500"  # how a wrong integration code is answered: "500" or "401"


def empty_401() -> Reply:
    return Reply(401, raw=b"")


def authenticate(credentials: Credentials, headers: dict[str, str]) -> Reply | None:
    """None when the headers carry the sandbox's credentials, else the service's answer."""
    username = headers.get("username", "")
    if not username or not headers.get("secret") or not headers.get("apiintegrationcode"):
        return empty_401()
    if username.lower() != credentials.username.lower():
        if credentials.unknown_user == "401":
            return empty_401()
        return Reply(500, {"errors": [UNKNOWN_USER_MESSAGE]})
    if headers["secret"] != credentials.secret:
        return empty_401()
    if headers["apiintegrationcode"] != credentials.integration_code:
        if credentials.bad_code == "401":
            return empty_401()
        return Reply(500, {"errors": [BAD_CODE_MESSAGE]})
    return None


class HourlyThreshold(SlidingWindowLimit):
    """The shared sliding window over an hour, plus the count ThresholdInformation reports."""

    def __init__(self, per_hour: int, window_seconds: float = 3600.0, refusal_status: int = 429) -> None:
        super().__init__(per_hour, window_seconds=window_seconds)
        self.refusal_status = refusal_status  # 429 as one client reports; the real code is unverified

    # spend(count): other integrations of the same database share the threshold (api.md §7).

    def busy(self) -> bool:
        """At or past half the threshold, where Autotask starts adding latency (api.md §7)."""
        return self.per_minute > 0 and self.used() * 2 >= self.per_minute

    def refusal(self) -> Reply:
        return Reply(
            self.refusal_status,
            {
                "errors": [
                    f"The request threshold of {self.per_minute} requests per 60 minutes has been exceeded. "
                    "Requests are refused until usage falls below the threshold."
                ]
            },
        )


class ThreadLimit:
    """At most `per_endpoint` requests at once per (integration code, endpoint); the rest wait."""

    def __init__(
        self, stats: Counter, stats_lock: threading.Lock, per_endpoint: int = THREADS_PER_ENDPOINT
    ) -> None:
        self.per_endpoint = per_endpoint
        self._slots: dict[tuple[str, str], threading.BoundedSemaphore] = {}
        self._in_flight: Counter = Counter()
        self._lock = threading.Lock()
        self.stats, self.stats_lock = stats, stats_lock

    @contextmanager
    def slot(self, code: str, endpoint: str) -> Iterator[None]:
        key = (code, endpoint.lower())
        with self._lock:
            semaphore = self._slots.setdefault(key, threading.BoundedSemaphore(self.per_endpoint))
        if not semaphore.acquire(blocking=False):
            with self.stats_lock:
                self.stats["thread_limit_waits"] += 1
            started = time.monotonic()
            semaphore.acquire()
            with self.stats_lock:
                self.stats["thread_limit_wait_ms"] += int((time.monotonic() - started) * 1000)
        with self._lock:
            self._in_flight[key] += 1
            peak = self._in_flight[key]
        with self.stats_lock:
            self.stats["thread_peak"] = max(self.stats["thread_peak"], peak)
        try:
            yield
        finally:
            with self._lock:
                self._in_flight[key] -= 1
            semaphore.release()
