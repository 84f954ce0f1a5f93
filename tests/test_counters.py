"""Fleet-wide counters in Redis: labels checked, sums kept, a Redis outage never raises."""

from __future__ import annotations

import pytest

from topleft.counters import CounterFamily, counter_add, counters_add, counters_read

pytestmark = [pytest.mark.redis, pytest.mark.usefixtures("fresh_cache")]

HITS = CounterFamily("topleft_test_hits", "hits, for the tests", ("connection", "kind"))


def test_it_sums_additions_per_label_set():
    counter_add(HITS, {"connection": 1, "kind": "a"})
    counter_add(HITS, {"connection": 1, "kind": "a"}, 2.5)
    counters_add([(HITS, 1, {"connection": 2, "kind": "a"}), (HITS, 0, {"connection": 3, "kind": "a"})])
    assert counters_read([HITS]) == {
        "topleft_test_hits": [
            ({"connection": "1", "kind": "a"}, 3.5),
            ({"connection": "2", "kind": "a"}, 1.0),
        ]
    }


def test_it_refuses_the_wrong_labels_even_when_redis_is_off(settings):
    settings.REDIS_URL = None
    with pytest.raises(ValueError, match="takes labels"):
        counter_add(HITS, {"connection": 1})
    counter_add(HITS, {"connection": 1, "kind": "a"})  # nothing to count into, nothing raised
    assert counters_read([HITS]) == {}


def test_it_pauses_counting_into_an_unreachable_redis_without_raising(settings, caplog):
    good_url = settings.REDIS_URL
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    counter_add(HITS, {"connection": 1, "kind": "lost"})  # fails, pauses this URL only
    counter_add(HITS, {"connection": 1, "kind": "lost"})  # paused: not even tried
    assert [r.getMessage().startswith("metrics counters paused") for r in caplog.records] == [True]
    settings.REDIS_URL = good_url
    counter_add(HITS, {"connection": 1, "kind": "kept"})
    assert counters_read([HITS])["topleft_test_hits"] == [({"connection": "1", "kind": "kept"}, 1.0)]
