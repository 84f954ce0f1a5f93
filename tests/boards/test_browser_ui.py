"""Browser checks of the board UI that need no PSA: drag ranking, keyboard ranking, the status
choice dialog, and a refused move snapping back with its message."""

from __future__ import annotations

import pytest

from boards.services.config import board_columns_set
from tests.boards.browser_support import (
    browser_page,
    chromium_browser,
    column_ids,
    column_of,
    drag,
    live_server,
    log_in,
    wait_ready,
)
from tests.boards.conftest import make_connection, make_user, seed_tickets
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.browser]


@pytest.fixture(scope="module")
def ui_servers(django_db_setup, django_db_blocker):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # see tests/boards/test_browser.py
        with live_server() as url, chromium_browser() as browser:
            yield {"url": url, "browser": browser}


@pytest.fixture
def ui(ui_servers, transactional_db):
    from boards.services.config import board_create

    connection = make_connection("acme")
    seed_tickets(connection, count=5)
    seed_tickets(connection, count=1, board_psa_id=2, first_id=200)
    board = board_create(connection_id=connection.id, name="UI", psa_board_ids=[1, 2])
    make_user("ann", connection)
    url = ui_servers["url"]
    with browser_page(ui_servers["browser"]) as page:
        log_in(page, url, "ann", "pw-ann")
        page.goto(f"{url}/boards/{board.id}/")
        wait_ready(page)
        yield {"page": page, "url": url, "board": board}


def test_it_ranks_by_drag_and_by_keyboard(ui):
    page = ui["page"]
    assert column_ids(page, 0) == [100, 101, 102, 103, 104, 200]
    with page.expect_response(lambda r: "/moves/" in r.url):
        drag(page, '.card[data-psa-id="103"]', '.card[data-psa-id="100"]')
    wait_until(lambda: column_ids(page, 0)[0] == 103)
    page.focus('.card[data-psa-id="101"]')
    with page.expect_response(lambda r: "/moves/" in r.url):
        page.keyboard.press("Alt+ArrowUp")
    wait_until(lambda: column_ids(page, 0)[:3] == [103, 101, 100])
    with page.expect_response(lambda r: "/ranks/" in r.url):
        page.click('.card[data-psa-id="104"] button[data-action="top"]')
    wait_until(lambda: column_ids(page, 0)[0] == 104)
    page.reload()
    wait_ready(page)
    assert column_ids(page, 0) == [104, 103, 101, 100, 102, 200]


def test_it_asks_for_the_status_when_a_column_has_several(ui):
    page, board = ui["page"], ui["board"]
    board_columns_set(board=board, columns=[("New", [10, 20]), ("Active", [11, 12, 21, 22])])
    page.reload()
    wait_ready(page)
    drag(page, '.card[data-psa-id="100"]', ".column:nth-of-type(2) .cards")
    page.wait_for_selector("#card-dialog[open] .choices button")
    assert page.locator("#card-dialog .choices button").all_text_contents()[:2] == ["Doing", "Waiting"]
    with page.expect_response(lambda r: "/moves/" in r.url):
        page.click("#card-dialog .choices button:has-text('Waiting')")
    wait_until(lambda: column_of(page, 100) == "Active")


def test_it_snaps_back_with_a_message_when_no_status_fits(ui):
    page, board = ui["page"], ui["board"]
    board_columns_set(board=board, columns=[("New", [10, 20]), ("Doing on board 1", [11])])
    page.reload()
    wait_ready(page)
    drag(page, '.card[data-psa-id="200"]', ".column:nth-of-type(2) .cards")
    page.wait_for_selector("#toast:not([hidden])")
    assert "No status of column" in page.text_content("#toast")
    wait_until(lambda: column_of(page, 200) == "New")
