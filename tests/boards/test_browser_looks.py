"""How the board looks to a dispatcher, in real Chromium: the PSA's priority colour as a stripe
with the priority's name on one line; at 390 px (a phone) no page scrolls sideways and the filters
fold behind a button."""

from __future__ import annotations

import pytest

from boards.models import Priority, Ticket
from boards.services.config import board_create
from boards.services.priority_colors import css_colour
from tests.boards.browser_support import assert_accessible, card, signed_in_page, wait_ready
from tests.boards.conftest import seed_acme
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.browser]
SHOTS = "/work/main/var/shots"


@pytest.fixture
def ui(ui_servers, transactional_db):
    connection = seed_acme(second_board=False)
    long_name = "Priority 1 - Emergency Response, wake the on-call engineer"
    Priority.objects.filter(connection=connection, psa_id=1).update(name=long_name, color="Red")
    Ticket.objects.filter(connection=connection, priority_psa_id=1).update(priority_name=long_name)
    Priority.objects.filter(connection=connection, psa_id=2).update(color="#00875A")
    board = board_create(connection_id=connection.id, name="Service desk", psa_board_ids=[1])
    with signed_in_page(ui_servers, "ann", "pw-ann", board=board) as page:
        yield {"page": page, "url": ui_servers["url"], "board": board, "connection": connection}


STRIPE = "c => getComputedStyle(c, '::before').backgroundColor"


def test_it_shows_the_psa_priority_colour_as_a_stripe_and_its_name_on_one_line(ui):
    page = ui["page"]
    # Tickets 100, 102, 104 have priority 1 ("Red"), 101 and 103 priority 2 (#00875A).
    assert page.eval_on_selector(card(100), STRIPE) == "rgb(201, 55, 44)"
    assert page.eval_on_selector(card(101), STRIPE) == "rgb(0, 135, 90)"
    one_line = page.eval_on_selector(
        f"{card(100)} .prio",
        "p => p.getBoundingClientRect().height <= parseFloat(getComputedStyle(p).lineHeight) * 1.2",
    )
    assert one_line, "the priority's name wraps"
    widths = page.eval_on_selector_all(".column", "cs => cs.map(c => c.getBoundingClientRect().width)")
    assert max(widths) == min(widths), "a long priority name widened its column"
    assert page.get_attribute(f"{card(100)} .prio", "title").startswith("Priority 1 - Emergency Response")
    page.screenshot(path=f"{SHOTS}/board-priority.png")


def test_it_draws_no_stripe_for_a_priority_without_a_colour(ui):
    page = ui["page"]
    Priority.objects.filter(connection=ui["connection"], psa_id=1).update(color="")
    page.reload()
    wait_ready(page)
    assert page.eval_on_selector(card(100), "c => c.classList.contains('has-prio')") is False
    assert page.eval_on_selector(card(101), STRIPE) == "rgb(0, 135, 90)"


def test_it_colours_priorities_by_their_psa_order_when_the_psa_gives_none(ui):
    """Autotask's priorities have no colour: the most urgent (first in the PSA's order) is red."""
    page = ui["page"]
    Priority.objects.filter(connection=ui["connection"]).update(color="")
    page.reload()
    wait_ready(page)
    assert page.eval_on_selector(card(100), STRIPE) == "rgb(201, 55, 44)"  # P1, sort order 1: red
    assert page.eval_on_selector(card(101), STRIPE) == "rgb(229, 105, 16)"  # P2: orange


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Red", "#c9372c"),
        (" light blue ", ""),
        ("#ABC", "#abc"),
        ("00875a", "#00875a"),
        ("red; background: url(x)", ""),
        ("#12345g", ""),
        (None, ""),
    ],
)
def test_it_turns_only_known_names_and_hex_values_into_a_colour(value, expected):
    assert css_colour(value) == expected


WIDE = "() => [document.scrollingElement.scrollWidth, window.innerWidth]"
OVERFLOWING = """() => Array.from(document.querySelectorAll('body *'))
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
    .slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))"""


def assert_no_sideways_scroll(page, name: str) -> None:
    scroll_width, inner_width = page.evaluate(WIDE)
    assert scroll_width <= inner_width, f"{name} scrolls sideways: {page.evaluate(OVERFLOWING)}"
    assert_accessible(page)  # e.g. a table scrolling inside itself stays reachable by keyboard
    page.screenshot(path=f"{SHOTS}/390-{name}.png", full_page=True)


def test_it_fits_every_page_in_390_pixels_and_folds_the_filters(ui):
    from boards.models import Membership

    page, url, board = ui["page"], ui["url"], ui["board"]
    Membership.objects.filter(user__username="ann").update(role=Membership.Role.ADMIN)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    wait_ready(page)
    assert page.is_hidden("#filters")
    toggle = page.locator("button.filters-toggle")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert_no_sideways_scroll(page, "board")
    toggle.click()
    assert page.is_visible("#filters input[name=q]")
    assert toggle.get_attribute("aria-expanded") == "true"
    assert_no_sideways_scroll(page, "board-filters")
    page.click(f"{card(100)} button[data-action=open]")
    page.wait_for_selector("#card-dialog[open] #card-thread")
    assert page.evaluate("() => document.getElementById('card-dialog').scrollWidth <= innerWidth")
    assert_no_sideways_scroll(page, "dialog")
    page.keyboard.press("Escape")
    page.goto(f"{url}/boards/{board.id}/edit/")
    page.wait_for_selector(".ts-wrapper")
    assert_no_sideways_scroll(page, "config")
    page.goto(f"{url}/sync/")
    page.wait_for_selector("text=acme")
    assert_no_sideways_scroll(page, "sync")
    page.goto(f"{url}/sync/connections/{ui['connection'].id}/")
    page.wait_for_selector("h1:has-text('acme')")
    assert_no_sideways_scroll(page, "sync-connection")
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{url}/boards/{board.id}/")
    wait_ready(page)
    assert page.is_visible("#filters input[name=q]") and page.is_hidden("button.filters-toggle")


THREAD_ASKS = (
    "() => performance.getEntriesByType('resource').filter((e) => e.name.includes('/thread/')).length"
)
COLUMN_POLLS = (
    "() => performance.getEntriesByType('resource').filter((e) => e.name.includes('/columns/')).length"
)


def test_it_stops_asking_for_notes_once_the_dialog_is_closed(ui):
    page = ui["page"]
    page.click(f"{card(100)} button[data-action=open]")
    page.wait_for_selector("#card-dialog[open] #card-thread[aria-busy]")  # no worker: still fetching
    wait_until(lambda: page.evaluate(THREAD_ASKS) >= 2)
    page.keyboard.press("Escape")
    wait_until(lambda: page.locator("#card-dialog #card-thread").count() == 0)  # emptied on close
    asked, polls = page.evaluate(THREAD_ASKS), page.evaluate(COLUMN_POLLS)
    wait_until(lambda: page.evaluate(COLUMN_POLLS) >= polls + 2)  # the board polls on, every second
    assert page.evaluate(THREAD_ASKS) == asked
