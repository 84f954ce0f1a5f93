"""Live updates that send only what changed: a JSON diff of the board against what the browser
shows, instead of every card again.

Each render (the page, a full columns fragment, a diff) leaves a snapshot of what the browser now
shows in the cache: per card its column, the card above it and a digest of its markup, plus the
columns' counts. The snapshot is named by its own digest, which the browser sends back on its
next poll (X-Board-Since), so two renders under the same ETag can never be confused. A poll whose
snapshot is known gets the cards whose markup changed, the ids that left, and a placement for
each card whose column or neighbour above changed; anything else (the columns themselves, the
"no matches" note, a snapshot the cache lost) gets the full fragment as before.

A one-card change on a 1,000-card board is a few hundred bytes instead of ~1 MB of markup.
"""

from __future__ import annotations

import hashlib
import json
import logging

from django.core.cache import cache

from boards.services.cards import Column

logger = logging.getLogger(__name__)

SNAPSHOT_SECONDS = 15 * 60  # a browser away longer than this gets the full fragment once
SINCE_HEADER = "X-Board-Since"
SNAPSHOT_HEADER = "X-Board-Snapshot"


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def board_snapshot(layout: list[Column], *, no_matches: bool) -> dict:
    """What a browser shows after this render (the columns need `card_markup`)."""
    cards: dict[str, list] = {}
    for column in layout:
        above = None
        for card, markup in zip(column.cards, column.card_markup, strict=True):
            cards[str(card.psa_id)] = [column.id, above, _digest(markup)]
            above = card.psa_id
    return {
        "columns": [[c.id, c.name, c.wip_limit, c.closes] for c in layout],
        "counts": {str(c.id): len(c.cards) for c in layout},
        "no_matches": no_matches,
        "cards": cards,
    }


def _key(board_id: int, user_id: int, name: str) -> str:
    return f"topleft:board-snapshot:{board_id}:{user_id}:{name}"


def snapshot_save(*, board_id: int, user_id: int, snapshot: dict) -> str:
    """Keep the snapshot for the browser's next poll; returns its name (the browser sends it back)."""
    name = _digest(json.dumps(snapshot, sort_keys=True, separators=(",", ":")))
    try:
        cache.set(_key(board_id, user_id, name), snapshot, SNAPSHOT_SECONDS)
    except Exception:  # without the cache the browser just gets full fragments
        logger.warning("board snapshot not kept: the cache is unreachable")
    return name


def snapshot_load(*, board_id: int, user_id: int, name: str) -> dict | None:
    if not name or len(name) > 32:
        return None
    try:
        return cache.get(_key(board_id, user_id, name))
    except Exception:
        return None


def board_diff(old: dict, new: dict, layout: list[Column]) -> dict | None:
    """The changes from `old` to `new` for the browser, or None when only a full redraw will do."""
    if old["columns"] != new["columns"] or old["no_matches"] != new["no_matches"]:
        return None
    markup = {
        str(card.psa_id): html for c in layout for card, html in zip(c.cards, c.card_markup, strict=True)
    }
    before, after = old["cards"], new["cards"]
    changed = {
        psa_id: markup[psa_id]
        for psa_id, now in after.items()
        if (was := before.get(psa_id)) is None or was[2] != now[2]
    }
    return {
        "cards": changed,
        "removed": [int(psa_id) for psa_id in before if psa_id not in after],
        "place": _placements(before, after),
        "counts": {
            column: count for column, count in new["counts"].items() if old["counts"].get(column) != count
        },
    }


def _column_orders(cards: dict) -> dict[int, list[str]]:
    """Each column's card ids top to bottom, from the snapshot's card-above links."""
    below: dict[tuple[int, str | None], str] = {
        (column, None if above is None else str(above)): psa_id
        for psa_id, (column, above, _) in cards.items()
    }
    orders: dict[int, list[str]] = {}
    for column in {entry[0] for entry in cards.values()}:
        order, above = [], None
        while (psa_id := below.get((column, above))) is not None:
            order.append(psa_id)
            above = psa_id
        orders[column] = order
    return orders


def _placements(before: dict, after: dict) -> list[list]:
    """[card, column, card above or None] for the fewest cards that must move, in board order.

    Per column, the cards that stay put are a longest run of cards already there in the same
    relative order; every other card is placed after its new neighbour above, top to bottom, so
    the neighbour is always in place first."""
    old_index = {
        psa_id: (column, i)
        for column, order in _column_orders(before).items()
        for i, psa_id in enumerate(order)
    }
    place: list[list] = []
    for column, order in _column_orders(after).items():
        positions = [old_index[p][1] if old_index.get(p, (None,))[0] == column else None for p in order]
        stay = _longest_increasing(positions)
        for i, psa_id in enumerate(order):
            if i not in stay:
                place.append([int(psa_id), column, int(order[i - 1]) if i else None])
    return place


def _longest_increasing(values: list[int | None]) -> set[int]:
    """Indexes of a longest strictly increasing run of the non-None values (patience sorting)."""
    tails: list[int] = []  # index into values of the smallest tail of each run length
    parent: dict[int, int | None] = {}
    for i, value in enumerate(values):
        if value is None:
            continue
        lo, hi = 0, len(tails)
        while lo < hi:
            mid = (lo + hi) // 2
            if values[tails[mid]] < value:  # type: ignore[operator]
                lo = mid + 1
            else:
                hi = mid
        parent[i] = tails[lo - 1] if lo else None
        if lo == len(tails):
            tails.append(i)
        else:
            tails[lo] = i
    keep: set[int] = set()
    at = tails[-1] if tails else None
    while at is not None:
        keep.add(at)
        at = parent[at]
    return keep
