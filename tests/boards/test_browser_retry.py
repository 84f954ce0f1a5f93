"""End to end against the PSA sandbox with a real worker: an edit the PSA refuses shows the PSA's
message with Retry on the card; Retry sends the same change again and the card says it was saved."""

from __future__ import annotations

import pytest

from sync.models import OutboxEntry
from tests.boards.browser_support import column_ids, column_of, drag, open_board, snap
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.redis]


def test_it_retries_a_refused_move_and_shows_it_saved(stack):
    page, sandbox, board = stack["page"], stack["sandbox"], stack["board"]
    open_board(page, stack["url"], board)
    home, target = list(board.columns.all()[:2])
    psa_id = column_ids(page, 0)[0]
    card = f'.card[data-psa-id="{psa_id}"]'
    sandbox.force_error("PATCH", rf"service/tickets/{psa_id}$", 400, "Blocked by a workflow rule", times=1)
    drag(page, card, ".column:nth-of-type(2) .cards")
    page.wait_for_selector(
        f"{card} .card-error:has-text('Blocked by a workflow rule') button:has-text('Retry')"
    )
    assert column_of(page, psa_id) == home.name
    snap(page, card, "/tmp/ux-card-refused.png")
    # "Saved" shows only briefly: record every badge the board draws rather than hoping to look in time.
    page.evaluate(
        """() => { window.seenWrites = [];
        new MutationObserver(() => document.querySelectorAll('.card-write').forEach((b) =>
          window.seenWrites.push(b.closest('.card').dataset.psaId + ':' + b.textContent)))
          .observe(document.getElementById('board'), { childList: true, subtree: true }); }"""
    )
    with page.expect_response(lambda r: r.url.endswith(f"/cards/{psa_id}/retry/")) as retried:
        page.click(f"{card} button:has-text('Retry')")
    assert retried.value.status == 202
    wait_until(lambda: f"{psa_id}:Saved to the PSA" in page.evaluate("window.seenWrites"), timeout=30)
    wait_until(lambda: column_of(page, psa_id) == target.name)
    assert page.locator(f"{card} .card-error").count() == 0
    if page.locator(f"{card} .card-write.saved").count():
        snap(page, card, "/tmp/ux-card-saved.png")
    ticket = sandbox.store.get("service/tickets", psa_id)
    assert (ticket["status"] or {}).get("id") == target.psa_ids[0]
    states = list(OutboxEntry.objects.filter(psa_id=psa_id).order_by("id").values_list("state", flat=True))
    assert states == [OutboxEntry.State.FAILED, OutboxEntry.State.DONE]
    wait_until(lambda: page.locator(f"{card} .card-write").count() == 0, timeout=15)  # "saved" is brief
