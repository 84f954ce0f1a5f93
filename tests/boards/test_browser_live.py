"""Live updates that scale, in real Chromium: a change redraws only the changed cards (a JSON
diff against the snapshot the page shows), keeps every other card's element, and leaves the
board exactly as a full reload draws it."""

from __future__ import annotations

import pytest

from boards.live import mirror_changed
from boards.models import Ticket
from boards.ranking import card_rank_place
from boards.services.config import board_create
from tests.boards.browser_support import card, column_ids, signed_in_page, wait_ready
from tests.boards.conftest import seed_tickets
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.redis]


@pytest.fixture
def ui(ui_servers, transactional_db):
    from tests.boards.conftest import make_connection, make_user

    connection = make_connection("acme")
    seed_tickets(connection, count=30)
    make_user("ann", connection)
    board = board_create(connection_id=connection.id, name="Live", psa_board_ids=[1])
    with signed_in_page(ui_servers, "ann", "pw-ann", board=board) as page:
        yield {"page": page, "connection": connection, "board": board}


def _layout(page) -> list[list[int]]:
    return [column_ids(page, i) for i in range(page.locator(".column").count())]


def _updates(page) -> int:
    return int(page.get_attribute("#board", "data-updates") or 0)


def test_it_redraws_only_the_changed_card_and_keeps_the_board_as_a_reload_draws_it(ui):
    page, connection = ui["page"], ui["connection"]
    page.evaluate("() => document.querySelectorAll('.card').forEach((c) => { c.keptElement = true; })")
    bodies: list[tuple[str, int]] = []
    page.on(
        "response",
        lambda r: (
            bodies.append((r.headers.get("content-type", ""), len(r.body())))
            if "/columns/" in r.url and r.status == 200
            else None
        ),
    )
    before = _updates(page)
    Ticket.objects.filter(connection=connection, psa_id=105).update(
        summary="Changed while the board was open"
    )
    mirror_changed(connection_id=connection.pk)
    wait_until(lambda: "Changed while the board was open" in (page.text_content(card(105)) or ""))
    wait_until(lambda: _updates(page) > before)
    kept = page.eval_on_selector_all(".card", "cs => cs.filter((c) => c.keptElement).length")
    assert kept == 29  # every card but the changed one is the same element as before
    content_type, size = bodies[-1]
    assert content_type.startswith("application/json") and size < 2000

    # Moves, a new card, a card that left: the diffs leave what a full reload draws.
    Ticket.objects.filter(connection=connection, psa_id__in=[101, 110]).update(status_psa_id=11)
    Ticket.objects.filter(connection=connection, psa_id=120).delete()
    card_rank_place(connection_id=connection.pk, kind="ticket", psa_id=125, below_psa_id=100)
    Ticket.objects.create(
        connection=connection,
        psa_id=300,
        summary="Brand new",
        board_psa_id=1,
        status_psa_id=10,
        status_name="New",
        company_name="Acme",
        resources="alice",
    )
    before = _updates(page)
    mirror_changed(connection_id=connection.pk)
    wait_until(lambda: _updates(page) > before and page.locator(card(300)).count() == 1)
    live = _layout(page)
    assert page.locator(card(120)).count() == 0
    assert live[0][0] == 125 and live[1] == [101, 110]
    assert bodies[-1][0].startswith("application/json")
    page.reload()
    wait_ready(page)
    assert _layout(page) == live
    counts = page.eval_on_selector_all(".column .count", "cs => cs.map((c) => c.textContent.trim())")
    assert counts[:2] == [str(len(live[0])), "2"]
