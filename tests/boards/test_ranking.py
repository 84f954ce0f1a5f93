"""Ranking: one order per connection, one row per move, safe under concurrent moves."""

from __future__ import annotations

import random
import threading

import pytest
from django.db import connection as db
from django.db import connections
from django.test.utils import CaptureQueriesContext

from boards import ranking
from boards.models import CardRank
from boards.ranking import RankError, card_rank_place, rank_keys, rank_sort_key
from tests.boards.conftest import make_connection, seed_tickets


def order(connection, psa_ids):
    keys = rank_keys(connection_id=connection.id, kind="ticket", psa_ids=psa_ids)
    return sorted(psa_ids, key=rank_sort_key(keys))


def place(connection, psa_id, above=None, below=None):
    return card_rank_place(
        connection_id=connection.id, kind="ticket", psa_id=psa_id, above_psa_id=above, below_psa_id=below
    )


def writes(ctx):
    return [q["sql"] for q in ctx.captured_queries if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")]


@pytest.fixture
def conn(db):
    connection = make_connection("acme")
    seed_tickets(connection, count=8)  # psa ids 100..107
    return connection


def test_it_orders_unranked_cards_by_psa_id(conn):
    assert order(conn, [103, 101, 102]) == [101, 102, 103]


def test_it_moves_a_card_below_an_unranked_card_keeping_the_others_in_order(conn):
    place(conn, 100, above=103)
    assert order(conn, list(range(100, 108))) == [101, 102, 103, 100, 104, 105, 106, 107]


def test_it_writes_one_row_per_move_once_ranked(conn):
    place(conn, 107, above=106)  # ranks 100..106 once, then 107
    with CaptureQueriesContext(db) as ctx:
        place(conn, 100, above=104)
    assert len(writes(ctx)) == 1
    assert order(conn, list(range(100, 108))) == [101, 102, 103, 104, 100, 105, 106, 107]


def test_it_sends_to_top_before_the_first_card(conn):
    place(conn, 105, below=100)
    assert order(conn, list(range(100, 108)))[0] == 105


def test_it_keeps_one_order_across_boards_with_hidden_cards_between_neighbours(conn):
    everything = list(range(100, 108))
    place(conn, 107, above=106)  # all ranked: 100..107
    # Board A shows only 100, 103, 106; dropping 106 between 100 and 103 on that board.
    place(conn, 106, above=100, below=103)
    board_a = order(conn, [100, 103, 106])
    assert board_a == [100, 106, 103]
    full = order(conn, everything)
    assert full.index(106) == full.index(100) + 1  # right after its upper neighbour everywhere
    keys = list(CardRank.objects.values_list("key", flat=True))
    assert len(keys) == len(set(keys)) == 8


def test_it_refuses_to_place_a_card_next_to_itself(conn):
    with pytest.raises(RankError):
        place(conn, 101, above=101)


def test_it_refuses_an_unknown_neighbour(conn):
    with pytest.raises(RankError):
        place(conn, 101, above=999)


def test_it_rebalances_when_keys_grow_long(conn, monkeypatch):
    monkeypatch.setattr(ranking, "MAX_KEY_LENGTH", 4)
    place(conn, 107, above=106)
    # Repeatedly squeeze a card in directly under 100: keys lengthen until a rebalance.
    for psa_id in (101, 102, 103, 104, 105, 106, 107) * 2:
        place(conn, psa_id, above=100)
    assert max(len(k) for k in CardRank.objects.values_list("key", flat=True)) <= 4
    assert order(conn, list(range(100, 108)))[:2] == [100, 107]
    assert CardRank.objects.count() == 8


def test_it_sorts_keys_by_bytes_in_the_database(conn):
    CardRank.objects.create(connection=conn, kind="ticket", psa_id=1, key="a0")
    CardRank.objects.create(connection=conn, kind="ticket", psa_id=2, key="Zz")
    assert list(CardRank.objects.order_by("key").values_list("key", flat=True)) == ["Zz", "a0"]


def test_it_keeps_families_and_connections_apart(conn):
    other = make_connection("globex")
    seed_tickets(other, count=3)
    place(conn, 102, below=100)
    assert order(other, [100, 101, 102]) == [100, 101, 102]


@pytest.mark.django_db(transaction=True)
def test_it_never_loses_or_duplicates_ranks_under_concurrent_moves():
    conn = make_connection("acme")
    seed_tickets(conn, count=12)
    ids = list(range(100, 112))
    place(conn, 111, above=110)  # rank everything
    errors: list[BaseException] = []

    def mover(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(15):
                card, neighbour = rng.sample(ids, 2)
                if rng.random() < 0.5:
                    place(conn, card, above=neighbour)
                else:
                    place(conn, card, below=neighbour)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=mover, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    rows = list(CardRank.objects.filter(connection=conn).values_list("psa_id", "key"))
    assert sorted(p for p, _ in rows) == ids
    assert len({k for _, k in rows}) == len(ids)
