"""What the shared HTTP front (host.py) asks of each PSA's half of the sandbox.

One port can serve several PSAs (ConnectWise under its codebase paths, Autotask under
`/atservicesrest/`) and several tenants of one PSA: the host asks each site in turn whether it
claims a request, and the first that does answers it.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, Self

from psa.sandbox.faults import FaultInjector, FaultSpec, ForcedErrors
from psa.sandbox.replies import Reply

if TYPE_CHECKING:
    from psa.sandbox.activity import RandomEdits
    from psa.sandbox.host import SandboxHost


def start_of_today() -> datetime:
    """A site's default anchor: its data is generated around midnight UTC of today."""
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class SandboxRequest:
    method: str  # upper-case
    path: str  # URL-decoded path as sent, e.g. "/v2025_1/apis/3.0/service/tickets"
    query: dict[str, str] = field(default_factory=dict)  # names lower-cased (the last value wins)
    pairs: list[tuple[str, str]] = field(default_factory=list)  # (name, value) as sent, in order
    headers: dict[str, str] = field(default_factory=dict)  # names lower-cased
    body: bytes = b""


class Site(Protocol):
    name: str  # the provider's name, e.g. "connectwise"

    def claims(self, request: SandboxRequest) -> bool: ...

    # The answer; None when the path turns out to be no route of this site (a plain 404).
    def serve(self, request: SandboxRequest) -> Reply | None: ...

    def start(self) -> object: ...  # background threads (activity, callback delivery)

    def stop(self) -> None: ...


class SiteKnobs:
    """What every PSA half offers tests and the command: start/stop (and a context manager over
    them), faults changed at runtime, forced errors, and thread-safe stats. The site sets
    `injector`, `forced`, `stats` and `_stats_lock` in its constructor (see `knobs_init`), and
    `host`, `owns_host`, `activity`; `stop_delivery` stops its callback/webhook sender."""

    injector: FaultInjector
    forced: ForcedErrors
    lost_answers: ForcedErrors
    stats: Counter
    _stats_lock: threading.Lock
    host: SandboxHost
    owns_host: bool  # alone it owns its host; on a shared host the host's owner starts and stops it
    activity: RandomEdits

    def knobs_init(self, faults: FaultSpec | str | None, seed: int) -> None:
        self.stats = Counter()
        self._stats_lock = threading.Lock()
        spec = faults if isinstance(faults, FaultSpec) else FaultSpec.parse(faults)
        self.injector = FaultInjector(spec, seed)
        self.forced = ForcedErrors()
        self.lost_answers = ForcedErrors()

    def start(self) -> Self:
        if self.owns_host:
            self.host.start()
        self.activity.start()
        return self

    def stop(self) -> None:
        self.activity.stop()
        self.stop_delivery()
        if self.owns_host:
            self.host.stop()

    def stop_delivery(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def faults(self) -> FaultSpec:
        return self.injector.spec

    @faults.setter
    def faults(self, value: FaultSpec | str | None) -> None:
        self.injector.spec = value if isinstance(value, FaultSpec) else FaultSpec.parse(value)

    def force_error(
        self, method: str, path_regex: str, status: int, message: str, times: int | None = None
    ) -> None:
        """Answer matching API calls (the path after the API base) with `status` and the PSA's
        own error body for `message`."""
        self.forced.add(method, path_regex, status, message, times)

    def lose_answer(self, method: str, path_regex: str, times: int | None = 1) -> None:
        """Carry out matching API calls (the path after the API base), then close the connection
        without answering: the PSA did the work and the client never hears of it."""
        self.lost_answers.add(method, path_regex, 0, "", times)

    def clear_forced_errors(self) -> None:
        self.forced.clear()
        self.lost_answers.clear()

    def answer_or_lose(self, method: str, api_path: str, reply: Reply) -> Reply:
        """`reply` to a processed API call, or a reset in its place when its answer is to be lost
        (`lose_answer`, or the `lost=` fault on writes)."""
        if reply.fault is not None:
            return reply
        if self.lost_answers.take(method, api_path) is None and not self.injector.answer_lost(method):
            return reply
        self._count("answers_lost")
        return Reply(0, fault="reset")

    def _count(self, key: Any) -> None:
        with self._stats_lock:
            self.stats[key] += 1
