"""Accessibility in real Chromium: axe-core (npm) finds no WCAG 2.1 A/AA violation on the board,
the card dialog, the board configuration and the sync status pages; the board works from the
keyboard (one tab stop per card, arrows between cards and columns, a key moving the card to the
next or previous column through the move service, `?` for the shortcuts); a card's accessible
name says its company, priority and SLA state."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from boards.models import Board, Membership, Ticket
from boards.services.config import board_create
from tests.boards.browser_support import assert_accessible, card, column_of, signed_in_page
from tests.boards.conftest import seed_acme
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.browser]
SHOTS = "/work/main/var/shots"


@pytest.fixture
def ui(ui_servers, transactional_db):
    connection = seed_acme(second_board=False)
    Ticket.objects.filter(psa_id=104).update(status_psa_id=11, status_name="Doing")
    Ticket.objects.filter(psa_id=100).update(respond_by=timezone.now() - timedelta(hours=3))
    Membership.objects.filter(user__username="ann").update(role=Membership.Role.ADMIN)
    board = board_create(connection_id=connection.id, name="Service desk", psa_board_ids=[1])
    Board.objects.filter(pk=board.pk).update(indicators=["age", "sla"])
    with signed_in_page(ui_servers, "ann", "pw-ann", board=board) as page:
        yield {"page": page, "url": ui_servers["url"], "board": board, "connection": connection}


def test_it_has_no_wcag_violations_on_the_board_and_the_card_dialog(ui):
    page = ui["page"]
    assert_accessible(page)
    page.click(f"{card(100)} button[data-action=open]")
    page.wait_for_selector("#card-dialog[open] #card-thread")
    assert_accessible(page)


def test_it_has_no_wcag_violations_on_the_config_and_sync_pages(ui):
    page, url = ui["page"], ui["url"]
    page.goto(f"{url}/boards/{ui['board'].id}/edit/")
    page.wait_for_selector(".ts-wrapper")  # the pickers are up
    assert_accessible(page)
    page.goto(f"{url}/sync/")
    assert_accessible(page)
    page.goto(f"{url}/sync/connections/{ui['connection'].id}/")
    assert_accessible(page)


def focused(page) -> str | None:
    return page.evaluate("() => document.activeElement.closest('.card')?.dataset.psaId ?? null")


def test_it_names_each_card_by_its_company_priority_and_sla(ui):
    name = ui["page"].get_attribute(card(100), "aria-label")
    assert name.startswith("#100 Ticket 100. Acme. priority P1. SLA Respond overdue")


def test_it_gives_the_cards_one_tab_stop_and_arrow_keys_between_cards_and_columns(ui):
    page = ui["page"]
    assert page.eval_on_selector_all(".card[tabindex='0']", "cs => cs.map(c => c.dataset.psaId)") == ["100"]
    assert page.eval_on_selector_all(".card button:not([tabindex='-1'])", "bs => bs.length") == 0
    page.focus(".column:nth-of-type(1) .collapse-toggle")
    page.keyboard.press("Tab")
    assert focused(page) == "100"
    page.keyboard.press("ArrowDown")
    assert focused(page) == "101"
    page.keyboard.press("ArrowRight")  # the nearest card of the next column with cards
    assert focused(page) == "104"
    page.keyboard.press("ArrowLeft")
    assert focused(page) == "100"  # "Doing" held one card: back to the first row of "New"
    page.keyboard.press("End")
    assert focused(page) == "103"
    assert page.eval_on_selector_all(".card[tabindex='0']", "cs => cs.map(c => c.dataset.psaId)") == ["103"]
    page.keyboard.press("Tab")  # one press leaves the cards, for the next column's header
    assert focused(page) is None
    assert page.evaluate("() => document.activeElement.closest('.column').ariaLabel") == "Doing"


def test_it_moves_the_focused_card_between_columns_from_the_keyboard(ui):
    page = ui["page"]
    page.focus(card(100))
    with page.expect_response(lambda r: "/moves/" in r.url):
        page.keyboard.press("Shift+ArrowRight")
    wait_until(lambda: column_of(page, 100) == "Doing")
    assert Ticket.objects.get(psa_id=100).status_psa_id == 11  # the move service wrote the status
    wait_until(lambda: focused(page) == "100")  # the card keeps the focus in its new column
    wait_until(lambda: "moved to Doing" in page.text_content("#announcer"))
    with page.expect_response(lambda r: "/moves/" in r.url):
        page.keyboard.press("]")
    wait_until(lambda: column_of(page, 100) == "Waiting")
    with page.expect_response(lambda r: "/moves/" in r.url):
        page.keyboard.press("[")
    wait_until(lambda: column_of(page, 100) == "Doing")
    assert Ticket.objects.get(psa_id=100).status_psa_id == 11


def test_it_lists_the_shortcuts_on_question_mark(ui):
    page = ui["page"]
    page.focus(card(101))
    page.keyboard.press("?")
    page.wait_for_selector("#shortcuts[open]")
    assert "Move the card to the next column" in page.inner_text("#shortcuts")
    assert_accessible(page)
    page.screenshot(path=f"{SHOTS}/shortcuts.png")
    page.keyboard.press("Escape")
    page.wait_for_selector("#shortcuts:not([open])", state="attached")
    page.fill("#filters input[name=q]", "?")  # typing a question mark is not a shortcut
    assert page.evaluate("() => document.getElementById('shortcuts').open") is False
