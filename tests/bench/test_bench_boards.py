"""Board benchmarks: a board of 1,000 cards renders with p95 ≤ 150 ms server time, the card dialog
answers with p95 ≤ 150 ms, a rank move takes ≤ 20 ms server time writing exactly one row, and a
one-card change reaches an open 1,000-card board as a diff of a few hundred bytes (goal ≤ 5 KB),
applied in Chromium in a few milliseconds. Prints the measured figures."""

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

from boards.live import mirror_changed
from boards.models import Board, BoardStatus, Membership, ServiceBoard, ServiceNote, Ticket, TimeEntry
from boards.ranking import card_rank_place
from boards.services.config import board_create
from sync.models import Connection
from tests.support.connections import cw_credentials
from tests.support.waiting import wait_until

CARDS = 1000
STATUSES = ["New", "In progress", "Waiting on customer", "Scheduled", "Resolved"]


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


@pytest.fixture
def big_board(django_user_model):
    return _big_board(django_user_model)


def _big_board(django_user_model):
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
                notes_synced_at=now,
            )
            for i in range(CARDS)
        ]
    )
    # The first cards have a thread and time entered, as a ticket a dispatcher opens does.
    ServiceNote.objects.bulk_create(
        [
            ServiceNote(
                connection=conn,
                psa_id=100_000 + i * 10 + n,
                ticket_psa_id=1000 + i,
                text=f"Called the user, step {n}. " * 8,
                member_identifier="alice",
                date_created=now - timedelta(hours=n),
                detail_description=n == 0,
                internal=n % 3 == 2,
            )
            for i in range(50)
            for n in range(6)
        ]
    )
    TimeEntry.objects.bulk_create(
        [
            TimeEntry(
                connection=conn,
                psa_id=200_000 + i * 10 + n,
                charge_to_psa_id=1000 + i,
                charge_to_type="ServiceTicket",
                member_identifier="bob",
                time_start=now - timedelta(hours=n + 1),
                time_end=now - timedelta(hours=n),
                actual_hours=1,
                notes="Remote session",
            )
            for i in range(50)
            for n in range(3)
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
    card_rank_place(connection_id=conn.id, kind="ticket", psa_id=1000, above_psa_id=1000 + CARDS - 1)
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
        f"board of {CARDS} cards, server time ms: page p50 {statistics.median(page):.1f} p95 {p95(page):.1f} "
        f"(goal ≤ 150); columns fragment p95 {p95(fragment):.1f} (goal ≤ 150); API cards p95 {p95(api):.1f}; "
        f"poll 304 p50 {statistics.median(not_modified):.2f} p95 {p95(not_modified):.2f}"
    )


def test_it_moves_a_rank_writing_one_row(big_board):
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
        card_rank_place(connection_id=board.connection_id, kind="ticket", psa_id=card, above_psa_id=neighbour)
        service.append((time.perf_counter() - started) * 1000)
    print(
        f"\nrank move: API server time p50 {statistics.median(durations):.1f} ms p95 {p95(durations):.1f} ms "
        "(goal ≤ 20); "
        f"ranking service p95 {p95(service):.2f} ms; rank rows written per move: {sorted(set(writes))}"
    )
    assert set(writes) == {1}
    assert Board.objects.filter(pk=board.pk).exists()


def test_it_opens_the_card_dialog_fast(big_board):
    board, user = big_board
    client = Client()
    client.force_login(user)
    samples = []
    for n in range(60):
        url = f"/boards/{board.id}/cards/{1000 + n % 50}/"
        started = time.perf_counter()
        response = client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    assert b"Time entries" in response.content
    print(
        f"\ncard dialog (6 notes, 3 time entries) on a {CARDS}-card board, server time ms: "
        f"p50 {statistics.median(samples):.1f} p95 {p95(samples):.1f}"
    )


def _snapshot_of(html: str) -> str:
    return html.split('data-snapshot="', 1)[1].split('"', 1)[0]


def test_it_sends_a_one_card_change_to_an_open_board_as_a_small_diff(big_board):
    board, user = big_board
    client = Client()
    client.force_login(user)
    page = client.get(f"/boards/{board.id}/")
    snapshot, etag = _snapshot_of(page.content.decode()), page.context["etag"]
    full = client.get(f"/boards/{board.id}/columns/")
    sizes, samples = [], []
    for n in range(30):
        Ticket.objects.filter(connection_id=board.connection_id, psa_id=1000 + n * 7).update(
            summary=f"Printer on floor 3 is on fire, take {n}"
        )
        mirror_changed(connection_id=board.connection_id)
        started = time.perf_counter()
        response = client.get(
            f"/boards/{board.id}/columns/", headers={"If-None-Match": etag, "X-Board-Since": snapshot}
        )
        samples.append((time.perf_counter() - started) * 1000)
        assert response["Content-Type"].startswith("application/json")
        sizes.append(len(response.content))
        snapshot, etag = response["X-Board-Snapshot"], response["ETag"]
    print(
        f"\none-card change → open {CARDS}-card board: {statistics.median(sizes):.0f} bytes "
        f"(max {max(sizes)}; goal ≤ 5,000; the whole fragment is {len(full.content):,} bytes); "
        f"diff poll server time ms p50 {statistics.median(samples):.1f} p95 {p95(samples):.1f}"
    )


@pytest.mark.browser
def test_it_applies_a_one_card_change_in_the_browser_quickly(transactional_db, django_user_model):
    """An open 1,000-card board in Chromium: bytes received and time to apply each live change."""
    from tests.boards.browser_support import browser_servers, signed_in_page

    board, user = _big_board(django_user_model)
    user.set_password("bench-pw")
    user.save()
    sizes: list[int] = []
    applied, shown = [], []
    with browser_servers() as servers, signed_in_page(servers, "bench", "bench-pw", board=board) as page:
        page.on(
            "response",
            lambda r: sizes.append(len(r.body())) if "/columns/" in r.url and r.status == 200 else None,
        )
        for n in range(10):
            seconds, apply_ms = _one_live_change(page, board, psa_id=1000 + n * 13, take=n)
            shown.append(seconds)
            applied.append(apply_ms)
    print(
        f"\nlive one-card change on an open {CARDS}-card board in Chromium: {statistics.median(sizes):.0f} bytes "
        f"received (max {max(sizes)}), applied in {statistics.median(applied):.1f} ms "
        f"(max {max(applied):.1f}); shown {statistics.median(shown):.2f} s after the change (poll every second)"
    )


def _one_live_change(page, board, *, psa_id: int, take: int) -> tuple[float, float]:
    """Change one card's summary; (seconds until the page shows it, ms the page took to apply it)."""
    from tests.boards.browser_support import card

    updates = int(page.get_attribute("#board", "data-updates") or 0)
    summary = f"Changed while open, take {take}"
    Ticket.objects.filter(connection_id=board.connection_id, psa_id=psa_id).update(summary=summary)
    started = time.perf_counter()
    mirror_changed(connection_id=board.connection_id)
    wait_until(lambda: summary in (page.text_content(card(psa_id)) or ""), timeout=60)
    seconds = time.perf_counter() - started
    wait_until(lambda: int(page.get_attribute("#board", "data-updates") or 0) > updates)
    return seconds, float(page.get_attribute("#board", "data-apply-ms"))
