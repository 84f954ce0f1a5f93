"""One-page-ahead fetching: same items, same order, errors where the plain loop raised them."""

from __future__ import annotations

import threading
import time

import pytest

from psa.errors import ServerError
from sync.engine.prefetch import prefetched


def test_it_yields_every_item_in_order():
    assert list(prefetched(iter(range(50)))) == list(range(50))
    assert list(prefetched(iter([]))) == []


def test_it_raises_the_producers_error_after_the_items_before_it():
    def pages():
        yield 1
        yield 2
        raise ServerError("500 from the PSA", status=500)

    seen = []
    with pytest.raises(ServerError, match="500 from the PSA"):
        for page in prefetched(pages()):
            seen.append(page)
    assert seen == [1, 2]


def test_it_fetches_at_most_one_page_ahead_and_stops_when_the_consumer_does():
    fetched = []
    closed = threading.Event()

    def pages():
        try:
            for number in range(100):
                fetched.append(number)
                yield number
        finally:
            closed.set()

    consumer = prefetched(pages())
    assert next(consumer) == 0
    time.sleep(0.3)  # give the helper every chance to run ahead
    assert fetched == [0, 1, 2]  # page 1 waits in the slot, page 2 waits to be handed over
    consumer.close()
    assert closed.wait(2)  # the source generator was closed by its own thread
    assert len(fetched) <= 3


def test_it_overlaps_fetching_with_the_consumers_work():
    def slow_pages():
        for number in range(5):
            time.sleep(0.1)  # fetching
            yield number

    started = time.perf_counter()
    for _ in prefetched(slow_pages()):
        time.sleep(0.1)  # writing
    assert time.perf_counter() - started < 0.9  # 1.0 s one after the other
