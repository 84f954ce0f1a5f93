"""The live diff's placements: applied the way board.js applies them (each listed card after its
neighbour above, in board order; every other card left where it is), they turn any board into any
other, and a single move lists a single card."""

from __future__ import annotations

import random

from boards.views.live_diff import _placements


def snapshot_cards(columns: dict[int, list[int]]) -> dict:
    cards = {}
    for column, ids in columns.items():
        above = None
        for psa_id in ids:
            cards[str(psa_id)] = [column, above, "digest"]
            above = psa_id
    return cards


def apply_like_the_browser(shown: dict[int, list[int]], before: dict, after: dict) -> dict[int, list[int]]:
    lists = {column: [i for i in ids if str(i) in after] for column, ids in shown.items()}
    for psa_id, column, above in _placements(before, after):
        for ids in lists.values():
            if psa_id in ids:
                ids.remove(psa_id)
        target = lists.setdefault(column, [])
        target.insert(0 if above is None else target.index(above) + 1, psa_id)
    return {column: ids for column, ids in lists.items() if ids}


def test_it_turns_any_board_into_any_other():
    rng = random.Random(11)
    for _ in range(3000):
        old = {c: [] for c in range(3)}
        for psa_id in range(rng.randint(0, 12)):
            old[rng.randrange(3)].append(psa_id)
        new = {c: list(ids) for c, ids in old.items()}
        for _ in range(rng.randint(0, 4)):
            present = [i for ids in new.values() for i in ids]
            what = rng.random()
            if present and what < 0.75:
                psa_id = rng.choice(present)
                for ids in new.values():
                    if psa_id in ids:
                        ids.remove(psa_id)
                if what > 0.5:
                    continue  # it left the board
            else:
                psa_id = 100 + rng.randrange(1000)
                if psa_id in present:
                    continue
            column = rng.randrange(3)
            new[column].insert(rng.randint(0, len(new[column])), psa_id)
        result = apply_like_the_browser(old, snapshot_cards(old), snapshot_cards(new))
        assert result == {c: ids for c, ids in new.items() if ids}


def test_it_lists_only_the_moved_card_for_one_move():
    old = {1: list(range(500)), 2: list(range(500, 1000))}
    new = {1: [i for i in old[1] if i != 250], 2: [250, *old[2]]}
    assert _placements(snapshot_cards(old), snapshot_cards(new)) == [[250, 2, None]]
    within = {1: [3, *[i for i in old[1] if i != 3]], 2: old[2]}
    assert _placements(snapshot_cards(old), snapshot_cards(within)) == [[3, 1, None]]
