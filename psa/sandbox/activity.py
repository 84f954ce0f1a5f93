"""`--activity N`, the part both PSA halves share: a daemon thread making N weighted random
edits per second. Each half's `Activity` lists its edits in `actions` (weight, method); a
failed edit is counted (stats["activity_errors"]) and never stops the loop.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Sequence
from typing import Protocol


class Records(Protocol):
    def ids(self, entity: str, /) -> Sequence[int]: ...
    def get(self, entity: str, record_id: int, /) -> dict | None: ...


class RandomEdits:
    thread_name = "sandbox-activity"
    logger = logging.getLogger("psa.sandbox.activity")
    actions: list[tuple[float, Callable[[], None]]]
    store: Records

    def __init__(self, *, per_second: float, rng: random.Random, count: Callable[[str], None]) -> None:
        self.per_second, self.rng, self._count = per_second, rng, count
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.per_second <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        interval = 1.0 / self.per_second
        while not self._stop.wait(interval):
            self.step()

    def step(self) -> None:
        """One random edit (also callable directly, e.g. from tests)."""
        weights = [w for w, _ in self.actions]
        action = self.rng.choices([a for _, a in self.actions], weights=weights)[0]
        try:
            action()
            key = "activity_edits"
        except Exception:  # noqa: BLE001 - a failed edit is counted, the loop goes on
            self.logger.exception("sandbox activity %s failed", action.__name__)
            key = "activity_errors"
        self._count(key)

    def _pick(self, entity: str, want: Callable[[dict], bool] = lambda r: True) -> dict | None:
        """A random record of `entity` that `want`s accept (None after 20 misses or none at all)."""
        ids = self.store.ids(entity)
        for _ in range(20 if ids else 0):
            record = self.store.get(entity, self.rng.choice(ids))
            if record is not None and want(record):
                return record
        return None
