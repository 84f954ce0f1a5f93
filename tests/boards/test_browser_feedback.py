"""Browser checks of what a dispatcher sees around an edit, with no worker running (edits stay
queued): the card says it is being sent, then that delivery is delayed; closing asks first and
can be undone for 10 seconds with nothing queued; columns collapse and stay collapsed; the header
switches boards; the API docs render with no request leaving the site.

The browser's clock is Playwright's (page.clock): the tests jump it forward instead of waiting.
"""

from __future__ import annotations

import pytest

from boards.models import Ticket
from boards.services.config import board_create
from sync.models import OutboxEntry
from tests.boards.browser_support import card, column_of, drag, signed_in_page, snap, wait_ready
from tests.boards.conftest import seed_acme
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.browser]


@pytest.fixture
def ui(ui_servers, transactional_db):
    connection = seed_acme(second_board=False)
    board = board_create(connection_id=connection.id, name="Service desk", psa_board_ids=[1])
    other = board_create(connection_id=connection.id, name="Escalations", psa_board_ids=[1])
    with signed_in_page(ui_servers, "ann", "pw-ann", board=board, fake_clock=True) as page:
        yield {"page": page, "url": ui_servers["url"], "board": board, "other": other}


def test_it_shows_sending_then_delivery_delayed_on_a_moved_card(ui):
    page = ui["page"]
    with page.expect_response(lambda r: "/moves/" in r.url):
        drag(page, card(100), ".column:nth-of-type(2) .cards")
    wait_until(lambda: "Sending to the PSA" in (page.text_content(card(100)) or ""))
    assert column_of(page, 100) == "Doing"
    snap(page, ".column:nth-of-type(2)", "/tmp/ux-card-sending.png")
    page.clock.fast_forward(31_000)
    wait_until(lambda: "Delivery delayed" in (page.text_content(card(100)) or ""))
    assert page.get_attribute(f"{card(100)} .card-write", "data-write") == "delayed"
    snap(page, ".column:nth-of-type(2)", "/tmp/ux-card-delayed.png")


def _ask_to_close(page, psa_id: int) -> None:
    page.click(f"{card(psa_id)} button[data-action=open]")
    page.wait_for_selector("#card-dialog[open] .close-section")
    page.click("#card-dialog summary:has-text('Close')")
    page.click("#card-dialog button:has-text('Close ticket…')")
    page.wait_for_selector("#card-dialog .confirm-close:not([hidden])")


def _confirm_close(page, undo_item: str = ".undo-item") -> None:
    """Say yes to the close: the undo item shows and nothing is queued while it does."""
    page.click("#card-dialog button:has-text('Yes, close it')")
    page.wait_for_selector(undo_item)
    assert not OutboxEntry.objects.exists()


def _let_the_undo_window_pass(page, path: str):
    """Jump the clock past the 10 s undo window; the request it sends to `path`'s response."""
    with page.expect_response(lambda r: path in r.url) as sent:
        page.clock.fast_forward(10_500)
    return sent.value


def test_it_asks_before_closing_and_undo_sends_nothing(ui):
    page = ui["page"]
    close_requests: list[str] = []
    page.on("request", lambda r: close_requests.append(r.url) if "/close/" in r.url else None)
    _ask_to_close(page, 100)
    assert "Close #100 as “Closed”?" in page.text_content("#card-dialog .confirm-close")
    page.screenshot(path="/tmp/ux-close-confirm.png")
    page.click("#card-dialog button:has-text('Keep it open')")  # changing one's mind costs nothing
    assert page.is_visible("#card-dialog form.close-form")
    page.click("#card-dialog button:has-text('Close ticket…')")
    page.click("#card-dialog button:has-text('Yes, close it')")
    page.wait_for_selector(".undo-item:has-text('Closing #100 as “Closed” in 10 s')")
    assert "closing" in (page.get_attribute(card(100), "class") or "")
    page.screenshot(path="/tmp/ux-close-undo.png")
    assert not OutboxEntry.objects.exists()  # nothing queued during the undo window
    page.click(".undo-item button:has-text('Undo')")
    page.wait_for_selector("#toast:has-text('nothing was sent to the PSA')")
    page.clock.fast_forward(15_000)
    page.evaluate("() => new Promise((done) => setTimeout(done, 0))")  # let due timers run
    assert close_requests == [] and not OutboxEntry.objects.exists()
    assert Ticket.objects.get(psa_id=100).status_psa_id == 10
    assert "closing" not in (page.get_attribute(card(100), "class") or "")


def test_it_sends_the_close_once_the_undo_window_has_passed(ui):
    page = ui["page"]
    _ask_to_close(page, 101)
    _confirm_close(page)
    assert _let_the_undo_window_pass(page, "/close/").status == 202
    entry = OutboxEntry.objects.get(psa_id=101)
    assert (entry.action, entry.payload["status_id"]) == (OutboxEntry.Action.TICKET_STATUS, 13)
    wait_until(lambda: column_of(page, 101) == "Closed")
    assert page.locator(".undo-item").count() == 0


def test_it_asks_before_a_drop_into_the_closed_column_and_waits_for_undo(ui):
    page = ui["page"]
    closed = ".column[data-closes='1'] .cards"
    assert page.get_attribute(".column[data-closes='1']", "aria-label") == "Closed"  # only that one
    drag(page, card(103), closed)
    page.wait_for_selector("#card-dialog[open] h2:has-text('Close #103 as “Closed”?')")
    page.screenshot(path="/tmp/ux-drop-close-confirm.png")
    page.click("#card-dialog button:has-text('Keep it open')")
    wait_until(lambda: column_of(page, 103) == "New")  # back where it was, nothing sent
    assert not OutboxEntry.objects.exists()
    drag(page, card(103), closed)
    _confirm_close(page, ".undo-item:has-text('Closing #103 as “Closed” in 10 s')")
    assert _let_the_undo_window_pass(page, "/moves/").status == 200
    entry = OutboxEntry.objects.get(psa_id=103)
    assert entry.payload["status_id"] == 13
    wait_until(lambda: column_of(page, 103) == "Closed")


def test_it_sends_a_waiting_close_when_the_user_leaves_the_page(ui):
    page, url = ui["page"], ui["url"]
    _ask_to_close(page, 102)
    _confirm_close(page)
    page.goto(f"{url}/boards/")  # leaving ends the undo window: the close goes out, not lost
    entry = wait_until(lambda: OutboxEntry.objects.filter(psa_id=102).first())
    assert entry.payload["status_id"] == 13


def test_it_remembers_collapsed_columns_after_a_reload(ui):
    page = ui["page"]
    page.click(".column:nth-of-type(1) [data-action=collapse]")
    assert "collapsed" in (page.get_attribute(".column:nth-of-type(1)", "class") or "")
    assert not page.is_visible(f"{card(100)}")
    page.reload()
    wait_ready(page)
    assert "collapsed" in (page.get_attribute(".column:nth-of-type(1)", "class") or "")
    assert page.get_attribute(".column:nth-of-type(1) [data-action=collapse]", "aria-expanded") == "false"
    page.screenshot(path="/tmp/ux-collapsed.png")
    page.click(".column:nth-of-type(1) [data-action=collapse]")
    assert page.is_visible(f"{card(100)}")


def test_it_switches_boards_from_the_header_and_has_a_favicon(ui):
    page, url = ui["page"], ui["url"]
    page.click("details.switcher summary")
    page.wait_for_selector(".switcher-menu a:has-text('Escalations')")
    page.fill(".switcher-filter", "escal")
    assert not page.is_visible(".switcher-menu li:has-text('Service desk')")
    page.screenshot(path="/tmp/ux-switcher.png")
    page.click(".switcher-menu a:has-text('Escalations')")
    page.wait_for_url(f"{url}/boards/{ui['other'].id}/")
    assert "Switch board: Escalations" in page.text_content("details.switcher summary")
    icon = page.get_attribute("link[rel=icon]", "href")
    response = page.request.get(url + icon)
    assert response.status == 200 and "svg" in response.headers["content-type"]


def test_it_renders_the_api_docs_with_no_request_leaving_the_site(ui):
    page, url = ui["page"], ui["url"]
    outside: list[str] = []

    def local_only(route):
        if route.request.url.startswith(url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", local_only)
    page.goto(f"{url}/api/docs/")
    page.wait_for_selector(".opblock-summary-path")
    paths = page.locator(".opblock-summary-path").all_text_contents()
    assert any("/api/boards/{id}/moves/" in p for p in paths)
    assert any("/retry/" in p for p in paths)
    page.screenshot(path="/tmp/ux-api-docs.png")
    assert outside == []
