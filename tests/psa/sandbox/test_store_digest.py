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
    (7, ANCHORS[0], "f7e3848971cb3698e8f61fd3c3b555dc66a263219a8fd55f2c58a553fccce7e1"),
    (1, ANCHORS[2], "5cd2230770875999cf7beb4984d959e80cceaa87399ce78b1fbf15566ee11ecb"),
)


@pytest.mark.parametrize(("seed", "anchor", "expected"), PINNED, ids=lambda value: str(value)[:19])
def test_small_scale_data_keep_their_digest(seed, anchor, expected):
    assert store_digest("small", seed, anchor) == expected
