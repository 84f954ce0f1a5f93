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
    (7, ANCHORS[0], "c481ca3bf4b09ab49ddf35a8465eb763665e2412f8ae76a17380571ed9479107"),
    (1, ANCHORS[2], "8842beef265a62a7b88963d14bceb14bb914ba9fb138748294261323a777af3d"),
)


@pytest.mark.parametrize(("seed", "anchor", "expected"), PINNED, ids=lambda value: str(value)[:19])
def test_small_scale_data_keep_their_digest(seed, anchor, expected):
    assert store_digest("small", seed, anchor) == expected
