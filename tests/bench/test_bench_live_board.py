"""Live board: how long a change made in the PSA takes to show on an open board.

The path measured end to end: the sandbox edits a ticket → signed callback → receiver → coalesced
realtime refresh on a real Celery worker → mirror → the board's ETag poll redraws the card in
headless Chromium. Printed, never asserted (the normal suite only checks that it arrives)."""

from __future__ import annotations

import statistics
import time

import pytest

from boards.models import Board
from boards.services.demo import DEMO_BOARD, demo_setup
from psa.sandbox.connectwise.server import SandboxServer
from sync.models import Connection
from tests.boards.browser_support import browser_servers, card, open_board, signed_in_page
from tests.support.waiting import wait_until

TICKETS = "service/tickets"
NOTES = "service/tickets/{parentId}/notes"
CHANGES = 10


def _shows(page, psa_id: int, summary: str):
    return lambda: summary in (page.text_content(card(psa_id)) or "")


def _card_ids(page) -> list[int]:
    """The PSA ids of the cards the open board shows."""
    return [
        int(i) for i in page.eval_on_selector_all(".card[data-psa-id]", "cs => cs.map(c => c.dataset.psaId)")
    ]


@pytest.mark.browser
def test_bench_a_psa_change_reaching_an_open_board(transactional_db):
    from psa.providers import provider_for

    with browser_servers(worker=True) as servers, SandboxServer(scale="small", seed=1) as sandbox:
        demo = demo_setup(sandbox_url=sandbox.url)
        connection = Connection.objects.get(pk=demo.connection_id)
        provider_for(connection).callbacks.ensure(connection=connection, public_url=servers["url"])
        board = Board.objects.get(name=DEMO_BOARD)
        with signed_in_page(servers, demo.username, demo.password) as page:
            open_board(page, servers["url"], board)
            ids = _card_ids(page)
            seconds = []
            for n, psa_id in enumerate(ids[:CHANGES]):
                summary = f"Changed in the PSA, take {n}"
                started = time.perf_counter()
                sandbox.store.update(TICKETS, psa_id, {"summary": summary})
                wait_until(_shows(page, psa_id, summary), timeout=60)
                seconds.append(time.perf_counter() - started)
    print(
        f"\nPSA change → open board, {len(seconds)} changes: p50 {statistics.median(seconds):.2f} s, "
        f"max {max(seconds):.2f} s (poll every second; callback, worker refresh and redraw included)"
    )


@pytest.mark.browser
def test_bench_notes_fetched_when_a_card_opens(transactional_db):
    """A ticket whose notes were never mirrored: the dialog opens at once, asks for a single-record
    refresh on the realtime queue, and polls until the worker has brought the notes in."""
    from boards.models import ServiceNote, Ticket
    from boards.views.cards import THREAD_POLL_MS

    with browser_servers(worker=True) as servers, SandboxServer(scale="small", seed=1) as sandbox:
        demo = demo_setup(sandbox_url=sandbox.url)
        board = Board.objects.get(name=DEMO_BOARD)
        with signed_in_page(servers, demo.username, demo.password) as page:
            open_board(page, servers["url"], board)
            ids = _card_ids(page)
            with_notes = [i for i in ids if sandbox.store.list(NOTES, parent_id=i)][:CHANGES]
            seconds = []
            for psa_id in with_notes:
                ServiceNote.objects.filter(ticket_psa_id=psa_id).delete()
                Ticket.objects.filter(psa_id=psa_id).update(notes_synced_at=None)
                started = time.perf_counter()
                page.click(f"{card(psa_id)} button[data-action=open]")
                page.wait_for_selector(
                    "#card-dialog[open] #card-thread .description .note-text", timeout=60_000
                )
                seconds.append(time.perf_counter() - started)
                page.keyboard.press("Escape")
    print(
        f"\nnotes not mirrored yet → shown in the opened card, {len(seconds)} tickets: "
        f"p50 {statistics.median(seconds):.2f} s, max {max(seconds):.2f} s (dialog polls every {THREAD_POLL_MS} ms)"
    )
