"""Browser check of "work is recorded as the person who did it": an unlinked user is told before
writing, chooses their PSA member, then sees "My cards" with their initials and logs time as
themselves by default."""

from __future__ import annotations

import pytest

from boards.models import Member
from boards.services.config import board_create
from sync.models import OutboxEntry
from tests.boards.browser_support import card, column_ids, open_board, signed_in_page, wait_ready
from tests.boards.conftest import seed_acme
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.browser]


def test_it_records_my_work_as_my_psa_member_once_i_have_chosen_it(ui_servers, transactional_db):
    connection = seed_acme(second_board=False)  # tickets 101 and 103 are assigned to "alice"
    Member.objects.create(
        connection=connection, psa_id=4, identifier="alice", first_name="Alice", last_name="Liddell"
    )
    board = board_create(connection_id=connection.id, name="Mine", psa_board_ids=[1])
    with signed_in_page(ui_servers, "ann", "pw-ann", board=board) as page:
        page.click(f"{card(101)} button[data-action=open]")
        page.wait_for_selector("#card-dialog[open] .unlinked-member")
        assert page.is_disabled("#card-dialog button:has-text('Add note')")
        page.keyboard.press("Escape")

        page.click("a.my-cards")  # "My cards: choose your PSA member"
        page.select_option("select[aria-label='PSA member of ann on acme']", "4")
        page.click("button:has-text('Save')")
        page.wait_for_selector(".flash:has-text('works as alice')")

        open_board(page, ui_servers["url"], board)
        page.click("a.my-cards:has-text('My cards')")
        wait_ready(page)
        wait_until(lambda: column_ids(page, 0) == [101, 103])
        assert page.locator(f"{card(101)} .my-initials").inner_text() == "AL"

        page.click(f"{card(103)} button[data-action=open]")
        page.click("#card-dialog summary:has-text('Enter time')")
        assert page.eval_on_selector(
            "#card-dialog select[name=member]", "s => s.selectedOptions[0].textContent"
        ) == ("Alice Liddell (me)")
        page.click("#card-dialog button:has-text('Save time entry')")
        page.wait_for_selector("#card-dialog .ok:has-text('Time entry queued')")
    assert [e.payload["member_id"] for e in OutboxEntry.objects.all()] == [4]
