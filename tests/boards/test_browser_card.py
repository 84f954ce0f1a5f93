"""The card dialog shows the whole ticket, in real Chromium against the PSA sandbox with a real
worker: the description (its first "Discussion" note), the notes thread (internal or external,
author, time) and the time entries; a ticket whose notes were never mirrored has them fetched
through a single-record refresh on the realtime queue when it is opened."""

from __future__ import annotations

import pytest

from boards.models import ServiceNote, Ticket, TimeEntry
from tests.boards.browser_support import assert_accessible, card, open_board
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.redis]
NOTES = "service/tickets/{parentId}/notes"
SHOTS = "/work/main/var/shots"


def _open(page, psa_id: int) -> None:
    page.click(f"{card(psa_id)} button[data-action=open]")
    page.wait_for_selector("#card-dialog[open] #card-thread")


def _ticket_with_notes_and_time(stack) -> tuple[int, list[dict]]:
    """A ticket of the demo board with at least two notes in the sandbox and time entered on it."""
    board = stack["board"]
    statuses = [int(i) for column in board.columns.all() for i in column.psa_ids]
    timed = set(TimeEntry.objects.values_list("charge_to_psa_id", flat=True))
    for ticket in Ticket.objects.filter(board_psa_id__in=board.psa_board_ids, status_psa_id__in=statuses):
        notes = stack["sandbox"].store.list(NOTES, parent_id=ticket.psa_id)
        if len(notes) >= 2 and ticket.psa_id in timed:
            return ticket.psa_id, notes
    raise AssertionError("the demo board needs a ticket with notes and time entries")


def _description(notes: list[dict]) -> str:
    first = min((n for n in notes if n["detailDescriptionFlag"]), key=lambda n: (n["dateCreated"], n["id"]))
    return first["text"]


def test_it_shows_the_description_notes_and_time_entries_of_a_ticket(stack):
    page = stack["page"]
    open_board(page, stack["url"], stack["board"])
    psa_id, notes = _ticket_with_notes_and_time(stack)
    _open(page, psa_id)
    description = page.inner_text("#card-dialog .description .note-text")
    assert description.split()[:6] == _description(notes).split()[:6]
    thread = page.locator("#card-dialog .notes li")
    assert thread.count() == len(notes) - 1  # the description is not repeated in the thread
    kinds = set(page.locator("#card-dialog .notes .note-kind").all_inner_texts())
    expected = {"Internal" if n["internalFlag"] else "External" for n in notes} - {None}
    assert {k.split(" ·")[0] for k in kinds} <= expected
    authors = {n["member"]["identifier"] for n in notes}
    assert any(a in page.inner_text("#card-dialog .notes") for a in authors)
    entries = TimeEntry.objects.filter(charge_to_psa_id=psa_id)
    rows = page.locator("#card-dialog .time-table tbody tr")
    assert rows.count() == entries.count()
    assert entries.first().member_identifier in page.inner_text("#card-dialog .time-table")
    assert "No notes mirrored yet" not in page.inner_text("#card-dialog")
    assert_accessible(page)  # the demo's own data: SLA colours, long notes, ...
    page.screenshot(path=f"{SHOTS}/card-dialog.png")
    page.keyboard.press("Escape")
    assert_accessible(page)
    page.screenshot(path=f"{SHOTS}/board.png")


def test_it_fetches_the_notes_of_a_ticket_opened_before_they_were_mirrored(stack):
    page = stack["page"]
    open_board(page, stack["url"], stack["board"])
    psa_id, notes = _ticket_with_notes_and_time(stack)
    ServiceNote.objects.filter(ticket_psa_id=psa_id).delete()
    Ticket.objects.filter(psa_id=psa_id).update(notes_synced_at=None)
    _open(page, psa_id)
    # The dialog opens at once and polls; the worker's refresh brings the notes in.
    wait_until(lambda: page.locator("#card-dialog .notes li").count() == len(notes) - 1)
    assert (
        page.inner_text("#card-dialog .description .note-text").split()[:6] == _description(notes).split()[:6]
    )
    assert page.locator("#card-dialog .fetching").count() == 0
    assert page.get_attribute("#card-dialog #card-thread", "aria-busy") is None
    assert ServiceNote.objects.filter(ticket_psa_id=psa_id).count() == len(notes)
    assert Ticket.objects.get(psa_id=psa_id).notes_synced_at is not None
