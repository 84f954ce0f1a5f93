"""The generated data stay byte for byte what they were: a digest of every collection (and every
lazily made note) at small scale, pinned for two seeds on fixed anchors.

A speed-up or refactoring of the generators must leave these digests alone. A change that alters
the data on purpose updates them (`.venv/bin/python -m tests.psa.sandbox.store_digest --scale
small --seeds 7 1` prints the current ones) and says so in its commit message.
"""

from __future__ import annotations

import pytest

from tests.psa.sandbox.store_digest import ANCHORS, store_digest

PINNED = (
    (7, ANCHORS[0], "bb4920eaeb382d81433da6dafdacba159a1aaa02d84b1fd9f331565f0958d324"),
    (1, ANCHORS[2], "eb34b7c0ac1aa7df61d2456c65f09416056ffd9f155729915af70b4b1d04233f"),
)


@pytest.mark.parametrize(("seed", "anchor", "expected"), PINNED, ids=lambda value: str(value)[:19])
def test_small_scale_data_keep_their_digest(seed, anchor, expected):
    assert store_digest("small", seed, anchor) == expected
