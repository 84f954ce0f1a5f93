"""Browser checks of the board UI that need no PSA: drag ranking, keyboard ranking, the status
choice dialog, and a refused move snapping back with its message."""

from __future__ import annotations

import pytest

from boards.services.config import board_columns_set, board_create
from tests.boards.browser_support import column_ids, column_of, drag, signed_in_page, wait_ready
from tests.boards.conftest import seed_acme
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.browser]


@pytest.fixture
def ui(ui_servers, transactional_db):
    connection = seed_acme()
    board = board_create(connection_id=connection.id, name="UI", psa_board_ids=[1, 2])
    with signed_in_page(ui_servers, "ann", "pw-ann", board=board) as page:
        yield {"page": page, "url": ui_servers["url"], "board": board}


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
