"""Board benchmarks: a board of 1,000 cards renders with p95 ≤ 150 ms server time, and a rank
move takes ≤ 20 ms server time writing exactly one row. Prints the measured figures."""

from __future__ import annotations

import random
import statistics
import time
from datetime import timedelta

import pytest
from django.db import connection as db
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from boards.models import Board, BoardStatus, Membership, ServiceBoard, Ticket
from boards.ranking import card_rank_place
from boards.services.config import board_create
from sync.models import Connection
from tests.support.connections import cw_credentials

CARDS = 1000
STATUSES = ["New", "In progress", "Waiting on customer", "Scheduled", "Resolved"]


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


@pytest.fixture
def big_board(django_user_model):
    conn = Connection.objects.create(
        name="bench", provider="connectwise", credentials=cw_credentials(site_url="https://cw.example")
    )
    ServiceBoard.objects.create(connection=conn, psa_id=1, name="Help desk")
    for i, name in enumerate(STATUSES):
        BoardStatus.objects.create(connection=conn, psa_id=10 + i, board_psa_id=1, name=name, sort_order=i)
    now, rng = timezone.now(), random.Random(5)
    Ticket.objects.bulk_create(
        [
            Ticket(
                connection=conn,
                psa_id=1000 + i,
                summary=f"Printer on floor {i % 9} is jammed again #{i}",
                board_psa_id=1,
                board_name="Help desk",
                status_psa_id=10 + i % len(STATUSES),
                status_name=STATUSES[i % len(STATUSES)],
                priority_name="Priority 3 - Normal",
                company_name=f"Company {i % 40}",
                company_psa_id=i % 40,
                resources="alice,bob" if i % 3 else "",
                budget_hours=4,
                actual_hours=rng.random() * 6,
                customer_updated=i % 7 == 0,
                date_entered=now - timedelta(hours=rng.randint(1, 2000)),
                status_changed_at=now - timedelta(hours=rng.randint(1, 100)),
                resolve_by=now + timedelta(hours=rng.randint(-20, 50)),
            )
            for i in range(CARDS)
        ]
    )
    board = board_create(
        connection_id=conn.id,
        name="Bench",
        psa_board_ids=[1],
        indicators=["age", "time_in_status", "sla", "hours", "customer_updated"],
    )
    user = django_user_model.objects.create_user("bench", password="x")
    Membership.objects.create(user=user, connection=conn)
    # Rank every card once (what the first drags on a board do), so moves measure the steady state.
    card_rank_place(connection_id=conn.id, family="ticket", psa_id=1000, above_psa_id=1000 + CARDS - 1)
    return board, user


def test_it_renders_a_board_of_1000_cards_fast(big_board):
    board, user = big_board
    client = Client()
    client.force_login(user)
    html = client.get(f"/boards/{board.id}/").content.decode()
    assert html.count("data-psa-id=") == CARDS
    page, fragment, api = [], [], []
    for _ in range(30):
        for samples, url in (
            (page, f"/boards/{board.id}/"),
            (fragment, f"/boards/{board.id}/columns/"),
            (api, f"/api/boards/{board.id}/cards/"),
        ):
            started = time.perf_counter()
            assert client.get(url).status_code == 200
            samples.append((time.perf_counter() - started) * 1000)
    etag = client.get(f"/boards/{board.id}/columns/")["ETag"]
    not_modified = []
    for _ in range(100):
        started = time.perf_counter()
        assert client.get(f"/boards/{board.id}/columns/", headers={"If-None-Match": etag}).status_code == 304
        not_modified.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(db) as ctx:
        client.get(f"/boards/{board.id}/columns/", headers={"If-None-Match": etag})
    assert not [
        q for q in ctx.captured_queries if "boards_ticket" in q["sql"] or "boards_cardrank" in q["sql"]
    ]
    print(
        f"\nlive poll answered 304: {len(ctx.captured_queries)} queries (session, user, board; no mirror table), "
        f"~{1000 / statistics.median(not_modified):.0f} polls/s per process core "
        f"(200 open boards polling every second need ~{200 * statistics.median(not_modified) / 10:.0f}% of one core)"
    )
    print(
        f"board of {CARDS} cards, server time ms: page p50 {statistics.median(page):.1f} p95 {p95(page):.1f}; "
        f"columns fragment p95 {p95(fragment):.1f}; API cards p95 {p95(api):.1f}; "
        f"poll 304 p50 {statistics.median(not_modified):.2f} p95 {p95(not_modified):.2f}"
    )
    assert p95(page) <= 150
    assert p95(fragment) <= 150


def test_it_moves_a_rank_in_under_20ms_writing_one_row(big_board):
    board, user = big_board
    client = Client()
    client.force_login(user)
    rng = random.Random(9)
    durations, writes = [], []
    for _ in range(100):
        card, neighbour = rng.sample(range(1000, 1000 + CARDS), 2)
        with CaptureQueriesContext(db) as ctx:
            started = time.perf_counter()
            response = client.post(
                f"/api/boards/{board.id}/moves/",
                {"card": card, "above": neighbour},
                content_type="application/json",
            )
            durations.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
        writes.append(
            sum(
                1
                for q in ctx.captured_queries
                if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE") and "boards_cardrank" in q["sql"]
            )
        )
    service = []
    for _ in range(100):
        card, neighbour = rng.sample(range(1000, 1000 + CARDS), 2)
        started = time.perf_counter()
        card_rank_place(
            connection_id=board.connection_id, family="ticket", psa_id=card, above_psa_id=neighbour
        )
        service.append((time.perf_counter() - started) * 1000)
    print(
        f"\nrank move: API server time p50 {statistics.median(durations):.1f} ms p95 {p95(durations):.1f} ms; "
        f"ranking service p95 {p95(service):.2f} ms; rank rows written per move: {sorted(set(writes))}"
    )
    assert set(writes) == {1}
    assert p95(durations) <= 20
    assert Board.objects.filter(pk=board.pk).exists()
