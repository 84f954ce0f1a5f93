"""End to end in real headless Chromium against the PSA sandbox, with a real Celery worker.

Log in, open the demo board, drag cards: the sandbox receives the new status; ranks survive a
reload and hold on a second board; a move the sandbox rejects snaps back with its message; a
change made in the sandbox shows on the open board without a reload. (How fast it shows is a
benchmark question, not asserted here: a loaded machine must not fail the suite.)
"""

from __future__ import annotations

import pytest

from boards.models import Membership, Ticket
from sync.models import Connection
from tests.boards.browser_support import card, column_ids, column_of, drag, open_board, wait_ready
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.redis]
TICKETS = "service/tickets"


def movable_card(stack) -> tuple[int, str, str]:
    """A card of the first column, and the name of the second column (one status each)."""
    page = stack["page"]
    board = stack["board"]
    first, second = list(board.columns.all()[:2])
    psa_id = column_ids(page, 0)[0]
    return psa_id, first.name, second.name


def test_it_moves_a_card_to_another_column_and_the_sandbox_shows_the_new_status(stack):
    page, sandbox = stack["page"], stack["sandbox"]
    open_board(page, stack["url"], stack["board"])
    psa_id, _, target_name = movable_card(stack)
    target_status = stack["board"].columns.get(name=target_name).psa_ids[0]
    drag(page, card(psa_id), ".column:nth-of-type(2) .cards")
    wait_until(lambda: column_of(page, psa_id) == target_name)
    wait_until(lambda: (sandbox.store.get(TICKETS, psa_id)["status"] or {}).get("id") == target_status)
    assert Ticket.objects.get(psa_id=psa_id).status_psa_id == target_status


def test_it_keeps_the_rank_after_a_reload_and_on_a_second_board(stack):
    page = stack["page"]
    open_board(page, stack["url"], stack["board"])
    before = column_ids(page, 0)
    assert len(before) >= 3, "the demo board needs a few cards in its first column"
    moved, old_top = before[2], before[0]
    with page.expect_response(lambda r: "/moves/" in r.url):  # the DOM changes before the server answers
        drag(page, card(moved), card(old_top), above_target=True)
    wait_until(lambda: column_ids(page, 0)[0] == moved)
    page.reload()
    wait_ready(page)
    assert column_ids(page, 0)[:1] == [moved]
    open_board(page, stack["url"], stack["all"])
    column = column_of(page, moved)
    index = [c.name for c in stack["all"].columns.all()].index(column)
    order = column_ids(page, index)
    assert order.index(moved) < order.index(old_top)


def test_it_snaps_back_with_the_psa_message_when_the_sandbox_rejects_a_move(stack):
    page, sandbox = stack["page"], stack["sandbox"]
    open_board(page, stack["url"], stack["board"])
    psa_id, home, _ = movable_card(stack)
    sandbox.force_error(
        "PATCH", rf"service/tickets/{psa_id}$", 400, "Status change blocked by a workflow rule"
    )
    drag(page, card(psa_id), ".column:nth-of-type(2) .cards")
    # The write-back records the refusal, then re-reads the ticket from the PSA: for a moment the
    # card may say why while it is still where it was dropped. It ends home, saying why.
    wait_until(
        lambda: (
            "blocked by a workflow rule" in (page.text_content(card(psa_id)) or "")
            and column_of(page, psa_id) == home
        )
    )
    assert (sandbox.store.get(TICKETS, psa_id)["status"] or {}).get("id") == stack["board"].columns.get(
        name=home
    ).psa_ids[0]


def test_it_shows_a_change_made_in_the_sandbox_on_the_open_board(stack):
    from psa.connectwise.callbacks import callback_url, callbacks_ensure
    from sync.engine.clients import client_for

    page, sandbox = stack["page"], stack["sandbox"]
    connection = Connection.objects.get(pk=stack["demo"].connection_id)
    callbacks_ensure(
        client=client_for(connection),
        webhook_token=connection.webhook_token,
        url=callback_url(public_url=stack["url"], webhook_token=connection.webhook_token),
    )
    open_board(page, stack["url"], stack["board"])
    psa_id = column_ids(page, 0)[-1]
    page.eval_on_selector(".column:nth-of-type(1) .cards", "ol => { ol.scrollTop = ol.scrollHeight; }")
    scrolled = page.eval_on_selector(".column:nth-of-type(1) .cards", "ol => ol.scrollTop")
    sandbox.store.update(TICKETS, psa_id, {"summary": "Changed in the PSA sandbox"})
    wait_until(
        lambda: "Changed in the PSA sandbox" in (page.text_content(card(psa_id)) or ""),
        timeout=30,
    )
    assert page.eval_on_selector(".column:nth-of-type(1) .cards", "ol => ol.scrollTop") == scrolled


def test_it_adds_a_note_and_changes_the_priority_from_the_card_dialog(stack):
    page, sandbox = stack["page"], stack["sandbox"]
    open_board(page, stack["url"], stack["board"])
    psa_id = column_ids(page, 0)[0]
    page.focus(card(psa_id))
    page.keyboard.press("Enter")  # keyboard opens the card dialog
    page.wait_for_selector("#card-dialog[open] textarea[name=text]")
    page.fill("#card-dialog textarea[name=text]", "Rebooted the VPN concentrator")
    page.click("#card-dialog button:has-text('Add note')")
    page.wait_for_selector("#card-dialog .ok")
    me = Membership.objects.get(user__username=stack["demo"].username)
    assert page.inner_text("#card-dialog .notes li .muted").startswith(f"{me.member_identifier} · ")
    page.click("#card-dialog summary:has-text('Priority')")
    current = (sandbox.store.get(TICKETS, psa_id)["priority"] or {}).get("id")
    options = page.eval_on_selector_all(
        "#card-dialog select[name=priority] option", "os => os.map(o => +o.value)"
    )
    wanted = next(o for o in options if o != current)
    page.select_option("#card-dialog select[name=priority]", str(wanted))
    page.click("#card-dialog button:has-text('Change priority')")
    page.wait_for_selector("#card-dialog .ok:has-text('Priority changed')")
    wait_until(lambda: (sandbox.store.get(TICKETS, psa_id)["priority"] or {}).get("id") == wanted)
    note = wait_until(
        lambda: next(
            (
                n
                for n in sandbox.store.list("service/tickets/{parentId}/notes", parent_id=psa_id)
                if "VPN concentrator" in (n.get("text") or "")
            ),
            None,
        )
    )
    assert note["member"]["id"] == me.member_psa_id  # written as the demo user's PSA member
