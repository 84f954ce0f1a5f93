"""One-page-ahead fetching: same items, same order, errors where the plain loop raised them."""

from __future__ import annotations

import threading

import pytest

from psa.errors import ServerError
from sync.engine import prefetch
from sync.engine.prefetch import prefetched
from tests.support.waiting import wait_until


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


def test_it_fetches_at_most_one_page_ahead_and_stops_when_the_consumer_does(monkeypatch):
    fetched = []
    closed = threading.Event()
    blocked_handing_over = []  # pages the helper holds while the slot is still full

    def pages():
        try:
            for number in range(100):
                fetched.append(number)
                yield number
        finally:
            closed.set()

    def watching_put(slots, entry, stop):
        if slots.full():
            blocked_handing_over.append(entry[1])
        return real_put(slots, entry, stop)

    real_put = prefetch._put
    monkeypatch.setattr(prefetch, "_put", watching_put)
    consumer = prefetched(pages())
    assert next(consumer) == 0
    # Page 1 waits in the slot; the helper fetched page 2 and now waits to hand it over. Until the
    # consumer takes page 1 it cannot leave that wait, so it cannot fetch page 3: no sleep needed.
    wait_until(lambda: 2 in blocked_handing_over)
    assert fetched == [0, 1, 2]
    consumer.close()
    assert closed.wait(10)  # the source generator was closed by its own thread
    assert fetched == [0, 1, 2]


def test_it_fetches_the_next_page_while_the_consumer_works_on_this_one():
    fetching = [threading.Event() for _ in range(5)]

    def pages():
        for number in range(5):
            fetching[number].set()
            yield number

    # The plain loop would fetch page n + 1 only once the consumer asks for it, after its work on
    # page n: waiting for it here would time out.
    for page in prefetched(pages()):
        if page + 1 < len(fetching):
            assert fetching[page + 1].wait(10), f"page {page + 1} not fetched while page {page} was written"
