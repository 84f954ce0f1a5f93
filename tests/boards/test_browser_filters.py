"""Browser check of the board's own filters: applied as chosen (no reload), the company picker
searching the server, "#id", the empty board offering to clear, and the choice restored."""

from __future__ import annotations

import pytest

from boards.models import Company
from boards.services.config import board_create
from tests.boards.browser_support import column_ids, open_board, signed_in_page, snap
from tests.boards.conftest import seed_acme
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.browser]


def test_it_filters_as_i_choose_and_remembers_it(ui_servers, transactional_db, tmp_path):
    connection = seed_acme()
    Company.objects.create(connection=connection, psa_id=7, name="Acme", identifier="ACME")
    Company.objects.create(connection=connection, psa_id=8, name="Beta Corp", identifier="BETA")
    board = board_create(connection_id=connection.id, name="Filters", psa_board_ids=[1, 2])
    with signed_in_page(ui_servers, "ann", "pw-ann", board=board) as page:
        assert column_ids(page, 0) == [100, 101, 102, 103, 104, 200]
        page.evaluate("window.sameDocument = true")  # gone if a filter reloads the page

        page.select_option("select[name=priority]", "2")
        wait_until(lambda: column_ids(page, 0) == [101, 103])
        page.fill("input[name=q]", "#103")
        wait_until(lambda: column_ids(page, 0) == [103])
        page.fill("input[name=q]", "")
        wait_until(lambda: column_ids(page, 0) == [101, 103])

        # The company picker asks the server as the user types.
        with page.expect_response(lambda r: "/pick/companies/" in r.url):  # the picker preloads on focus
            page.click(".filters label:has-text('Company') .ts-control")
        with page.expect_response(lambda r: "/pick/companies/" in r.url and "q=bet" in r.url):
            page.keyboard.type("bet")
        page.click(".ts-dropdown .option:has-text('Beta Corp')")
        page.wait_for_selector(".no-matches")
        assert "No cards match your filters." in page.text_content(".no-matches")
        assert page.evaluate("window.sameDocument") is True
        assert "company=8" in page.url and "priority=2" in page.url
        snap(page, "main", str(tmp_path / "no-matches.png"))

        # Back on the board later: the same filters; clearing shows every card again.
        open_board(page, ui_servers["url"], board)
        assert "company=8" in page.url
        page.wait_for_selector(".no-matches")
        page.click(".no-matches a")
        page.wait_for_selector("#board[data-ready]")
        wait_until(lambda: column_ids(page, 0) == [100, 101, 102, 103, 104, 200])
        open_board(page, ui_servers["url"], board)
        assert column_ids(page, 0) == [100, 101, 102, 103, 104, 200]
