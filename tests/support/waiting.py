"""Polling for something another thread or process makes true."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(predicate: Callable[[], T], timeout: float = 30.0, interval: float = 0.02) -> T:
    """The first truthy value of `predicate()`, asked every `interval` seconds; AssertionError
    once `timeout` seconds have passed without one. The deadline only bounds a failing test, so
    it is generous: a loaded machine must not turn a slow pass into a failure."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")
