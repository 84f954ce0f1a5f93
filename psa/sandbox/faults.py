"""Injected faults and the sandbox's own rate limit.

Fault spec (`--faults`): `500=0.1,429=0.05,reset=0.02,timeout=0.01,latency_ms=20` — fractions
of API requests answered 500, 429 (+ Retry-After: 1), connection reset (socket closed without
an answer), timeout (no answer for `timeout_s` seconds, default 60, then the socket closes),
plus added latency on every API request. Decisions come from one seeded RNG per server, so a
given seed and request sequence always fails the same requests. Never applied to companyinfo
or the callback key URL.

Rate limit: ConnectWise throttles around 1000 requests/minute per site (psa-api-facts.md);
a sliding window of the last 60 s, answering 429 with Retry-After in whole seconds.
"""

from __future__ import annotations

import math
import random
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field

KINDS = ("500", "429", "reset", "timeout")
# `--faults` key → FaultSpec attribute
SPEC_FIELDS = {
    "500": "error_500",
    "429": "error_429",
    "reset": "reset",
    "timeout": "timeout",
    "latency_ms": "latency_ms",
    "latency": "latency_ms",
    "timeout_s": "timeout_s",
}


@dataclass
class FaultSpec:
    error_500: float = 0.0
    error_429: float = 0.0
    reset: float = 0.0
    timeout: float = 0.0
    latency_ms: float = 0.0
    timeout_s: float = 60.0

    @classmethod
    def parse(cls, text: str | None) -> FaultSpec:
        """`500=0.1,429=0.05,reset=0.02,timeout=0.01,latency_ms=20[,timeout_s=5]`; ValueError if bad."""
        spec = cls()
        for item in (text or "").split(","):
            if not item.strip():
                continue
            key, sep, raw = item.partition("=")
            key = key.strip().lower()
            if not sep or key not in SPEC_FIELDS:
                raise ValueError(f"unknown fault {item.strip()!r}; use {', '.join(SPEC_FIELDS)}")
            try:
                value = float(raw)
            except ValueError:
                raise ValueError(f"fault {key!r} needs a number, not {raw.strip()!r}") from None
            if value < 0 or (key in KINDS and value > 1):
                raise ValueError(f"fault {key!r} is out of range: {value}")
            setattr(spec, SPEC_FIELDS[key], value)
        if spec.error_500 + spec.error_429 + spec.reset + spec.timeout > 1:
            raise ValueError("fault fractions add up to more than 1")
        return spec

    def clear(self) -> None:
        self.error_500 = self.error_429 = self.reset = self.timeout = self.latency_ms = 0.0

    def describe(self) -> str:
        return (
            f"500={self.error_500},429={self.error_429},reset={self.reset},timeout={self.timeout},"
            f"latency_ms={self.latency_ms}"
        )


class FaultInjector:
    """Draws one decision per API request from a seeded RNG."""

    def __init__(self, spec: FaultSpec, seed: int) -> None:
        self.spec = spec
        self._rng = random.Random(f"{seed}:faults")
        self._lock = threading.Lock()

    def decide(self) -> str | None:
        """ "500", "429", "reset", "timeout" or None (answer normally)."""
        spec = self.spec
        if not (spec.error_500 or spec.error_429 or spec.reset or spec.timeout):
            return None
        with self._lock:
            roll = self._rng.random()
        for kind, share in (
            ("500", spec.error_500),
            ("429", spec.error_429),
            ("reset", spec.reset),
            ("timeout", spec.timeout),
        ):
            if roll < share:
                return kind
            roll -= share
        return None


@dataclass
class ForcedError:
    method: str
    pattern: re.Pattern
    status: int
    message: str
    times: int | None  # None: until cleared


@dataclass
class ForcedErrors:
    """Errors tests ask for: `force_error("PATCH", r"service/tickets/\\d+", 400, "...", times=1)`."""

    items: list[ForcedError] = field(default_factory=list)
    empty_lists: re.Pattern | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, method: str, path_regex: str, status: int, message: str, times: int | None) -> None:
        with self._lock:
            self.items.append(
                ForcedError(method.upper(), re.compile(path_regex), int(status), message, times)
            )

    def clear(self) -> None:
        with self._lock:
            self.items.clear()

    def take(self, method: str, path: str) -> ForcedError | None:
        """The first forced error matching this request (uses up one of its `times`)."""
        with self._lock:
            for item in self.items:
                if item.method in (method, "*") and item.pattern.search(path):
                    if item.times is not None:
                        item.times -= 1
                        if item.times <= 0:
                            self.items.remove(item)
                    return item
        return None


class SlidingWindowLimit:
    """At most `per_minute` requests in any 60 s; 0 or None disables the limit.

    `window_seconds` shortens the window for time-compressed benchmarks (e.g. 100 per 6 s keeps
    ConnectWise's ratio of limit to window); production-like runs keep 60.
    """

    def __init__(self, per_minute: int | None, clock=time.monotonic, *, window_seconds: float = 60.0) -> None:
        self.per_minute = per_minute or 0
        self.window_seconds = float(window_seconds)
        self._hits: deque[float] = deque()
        self._lock = threading.Lock()
        self._clock = clock

    def acquire(self) -> float | None:
        """None when the request may go on, else the seconds until a slot frees up."""
        if self.per_minute <= 0:
            return None
        now = self._clock()
        with self._lock:
            while self._hits and self._hits[0] <= now - self.window_seconds:
                self._hits.popleft()
            if len(self._hits) >= self.per_minute:
                return max(self._hits[0] + self.window_seconds - now, 0.001)
            self._hits.append(now)
            return None

    @staticmethod
    def retry_after(seconds: float) -> str:
        return str(max(1, math.ceil(seconds)))
