"""Injected faults and the sandbox's own rate limit.

Fault spec (`--faults`): `500=0.1,429=0.05,reset=0.02,timeout=0.01,latency_ms=20` — fractions
of API requests answered 500, 429 (+ Retry-After: 1), connection reset (socket closed without
an answer), timeout (no answer for `timeout_s` seconds, default 60, then the socket closes),
plus added latency on every API request. `lost=0.05`: that share of the writes (POST, PATCH,
PUT, DELETE) the PSA carries out, then closes the connection without an answer (the record was
created or changed, the client never hears: what a create with no idempotency key must survive).
Decisions come from one seeded RNG per server, so a given seed and request sequence always fails
the same requests. Never applied to companyinfo or the callback key URL.

Listing faults (`KIND@COLLECTION=VALUE`, e.g. `truncate@service/tickets=0.6`) change what the
forward-only listing of one collection answers, never its `/count` (the PSA's count stays true,
which is how a client can notice). COLLECTION is the path as requested (`service/boards/3/
statuses`) or its template (`service/boards/{parentId}/statuses`), case-insensitive:
  empty=1         the listing answers [] (no Link header)
  truncate=0.6    only ~60 % of the records are listed (a fixed, id-hashed subset): pages stay
                  full and linked as usual, nothing tells the records are missing
  end_early=0.55  paging stops after the first 55 % of the records (a short last page, no next)
  mangle=ID       record ID is sent as invalid JSON (the rest of the page is fine)
  deep=ID         record ID carries 3,000 nested arrays (what exhausts a recursive parser)
  far_date=ID     record ID has _info.dateEntered 9999-12-31T23:59:59-05:00 (year 10000 in UTC)
  year0=ID        record ID has _info.dateEntered 0001-01-01T00:00:00+05:00 (year 0 in UTC)
  fractional_id=ID  record ID is sent with the id 1.5

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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from psa.sandbox.replies import encode_json

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
    "lost": "lost",
}
WRITES = frozenset({"POST", "PATCH", "PUT", "DELETE"})


# listing fault kind → what its value is: a share of the records, a record id, or a flag
LISTING_SHARES = ("truncate", "end_early")
LISTING_RECORDS = ("mangle", "deep", "far_date", "year0", "fractional_id")
LISTING_KINDS = ("empty", *LISTING_SHARES, *LISTING_RECORDS)
FAR_DATE = "9999-12-31T23:59:59-05:00"
YEAR_ZERO_DATE = "0001-01-01T00:00:00+05:00"
NESTING_DEPTH = 3000


def _listing_item(kind: str, collection: str, value: float) -> tuple[tuple[str, str], float]:
    if kind not in LISTING_KINDS:
        raise ValueError(f"unknown listing fault {kind!r}; use {', '.join(LISTING_KINDS)}")
    if not collection.strip("/"):
        raise ValueError(f"listing fault {kind!r} needs a collection: {kind}@service/tickets=...")
    if kind in LISTING_SHARES and not 0 <= value <= 1:
        raise ValueError(f"listing fault {kind!r} is a share of the records (0..1), not {value}")
    if kind in LISTING_RECORDS and (value < 1 or not value.is_integer()):
        raise ValueError(f"listing fault {kind!r} needs a record id, not {value}")
    return (kind, collection.strip("/").lower()), value


def _hidden_by_truncation(psa_id: int, kept_share: float) -> bool:
    # Knuth's multiplicative hash spreads consecutive ids evenly: a fixed subset, every page.
    return ((psa_id * 2654435761) % 2**32) / 2**32 >= kept_share


@dataclass
class ListingFaults:
    """Per-collection listing faults: (kind, collection) → value. Applied by psa.sandbox.connectwise.api
    to forward-only listings (never to /count)."""

    items: dict[tuple[str, str], float] = field(default_factory=dict)

    def for_collection(self, names: Iterable[str]) -> dict[str, float]:
        wanted = {name.strip("/").lower() for name in names}
        return {kind: value for (kind, collection), value in self.items.items() if collection in wanted}

    def visible(
        self, names: Iterable[str], records: Iterator[dict], everything: Callable[[], Iterable[dict]]
    ) -> Iterator[dict]:
        """The records a faulty listing shows out of `records` (one page's worth, in id order);
        `everything` gives the whole matching listing (to place an early end)."""
        kinds = self.for_collection(names)
        if "empty" in kinds:
            return iter(())
        if "end_early" in kinds:
            ids = [record["id"] for record in everything()]
            kept = int(len(ids) * kinds["end_early"])
            if kept < len(ids):
                end_id = ids[kept]
                records = (record for record in records if record["id"] < end_id)
        if "truncate" in kinds:
            share = kinds["truncate"]
            records = (record for record in records if not _hidden_by_truncation(record["id"], share))
        return records

    def page_bytes(self, names: Iterable[str], records: list[dict]) -> bytes | None:
        """The encoded page when a record fault hits one of `records`, else None."""
        targets = {
            int(value): kind for kind, value in self.for_collection(names).items() if kind in LISTING_RECORDS
        }
        if not any(record.get("id") in targets for record in records):
            return None
        return (
            b"["
            + b",".join(_faulty_record(record, targets.get(int(record.get("id") or 0))) for record in records)
            + b"]"
        )


def _faulty_record(record: dict, kind: str | None) -> bytes:
    psa_id = int(record.get("id") or 0)
    if kind == "mangle":  # balanced brackets, but `tru` is no JSON value
        return b'{"id":%d,"summary":"mangled record","board":{"id":tru}}' % psa_id
    if kind == "deep":
        nested = b"[" * NESTING_DEPTH + b"]" * NESTING_DEPTH
        return encode_json(record)[:-1] + b',"customFields":' + nested + b"}"
    if kind in ("far_date", "year0"):
        date = FAR_DATE if kind == "far_date" else YEAR_ZERO_DATE
        return encode_json({**record, "_info": {**(record.get("_info") or {}), "dateEntered": date}})
    if kind == "fractional_id":
        return encode_json({**record, "id": 1.5})
    return encode_json(record)


@dataclass
class FaultSpec:
    error_500: float = 0.0
    error_429: float = 0.0
    reset: float = 0.0
    timeout: float = 0.0
    latency_ms: float = 0.0
    timeout_s: float = 60.0
    lost: float = 0.0  # share of processed writes whose answer is lost (not part of the sum below)
    listings: ListingFaults = field(default_factory=ListingFaults)

    @classmethod
    def parse(cls, text: str | None) -> FaultSpec:
        """`500=0.1,429=0.05,reset=0.02,timeout=0.01,latency_ms=20[,timeout_s=5]`; ValueError if bad."""
        spec = cls()
        for item in (text or "").split(","):
            if not item.strip():
                continue
            key, sep, raw = item.partition("=")
            key = key.strip().lower()
            kind, at, collection = key.partition("@")
            if not sep or (key not in SPEC_FIELDS and not at):
                raise ValueError(
                    f"unknown fault {item.strip()!r}; use {', '.join(SPEC_FIELDS)} or KIND@COLLECTION"
                )
            try:
                value = float(raw)
            except ValueError:
                raise ValueError(f"fault {key!r} needs a number, not {raw.strip()!r}") from None
            if at:
                listing_key, listing_value = _listing_item(kind, collection, value)
                spec.listings.items[listing_key] = listing_value
                continue
            if value < 0 or ((key in KINDS or key == "lost") and value > 1):
                raise ValueError(f"fault {key!r} is out of range: {value}")
            setattr(spec, SPEC_FIELDS[key], value)
        if spec.error_500 + spec.error_429 + spec.reset + spec.timeout > 1:
            raise ValueError("fault fractions add up to more than 1")
        return spec

    def clear(self) -> None:
        self.error_500 = self.error_429 = self.reset = self.timeout = self.latency_ms = self.lost = 0.0
        self.listings.items.clear()

    def describe(self) -> str:
        listings = "".join(
            f",{kind}@{collection}={value:g}" for (kind, collection), value in self.listings.items.items()
        )
        return (
            f"500={self.error_500},429={self.error_429},reset={self.reset},timeout={self.timeout},"
            f"latency_ms={self.latency_ms},lost={self.lost}{listings}"
        )


class FaultInjector:
    """Draws one decision per API request from a seeded RNG."""

    def __init__(self, spec: FaultSpec, seed: int) -> None:
        self.spec = spec
        self._rng = random.Random(f"{seed}:faults")
        self._lock = threading.Lock()

    def answer_lost(self, method: str) -> bool:
        """Whether the answer to this processed request is to be lost (`lost=` share of writes)."""
        if not self.spec.lost or method.upper() not in WRITES:
            return False
        with self._lock:
            return self._rng.random() < self.spec.lost

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
            self._forget_before(now - self.window_seconds)
            if len(self._hits) >= self.per_minute:
                return max(self._hits[0] + self.window_seconds - now, 0.001)
            self._hits.append(now)
            return None

    def used(self) -> int:
        """Requests counted in the current window."""
        now = self._clock()
        with self._lock:
            self._forget_before(now - self.window_seconds)
            return len(self._hits)

    def spend(self, count: int) -> None:
        """Count `count` requests made now by someone else sharing the limit."""
        now = self._clock()
        with self._lock:
            self._hits.extend([now] * count)

    def _forget_before(self, cutoff: float) -> None:
        while self._hits and self._hits[0] <= cutoff:
            self._hits.popleft()

    @staticmethod
    def retry_after(seconds: float) -> str:
        return str(max(1, math.ceil(seconds)))
