"""The column mapper in real Chromium: searchable pickers that offer only the chosen PSA boards'
statuses, columns dragged into order, added and removed, plain-words refusals, and the WIP limit
warning on the board."""

from __future__ import annotations

import pytest

from boards.models import Team
from boards.services.config import board_columns_set, board_create
from tests.boards.browser_support import open_board, signed_in_page, wait_ready
from tests.boards.conftest import seed_acme

pytestmark = [pytest.mark.browser]


@pytest.fixture
def ui(ui_servers, transactional_db):
    connection = seed_acme()
    board = board_create(connection_id=connection.id, name="Service desk", psa_board_ids=[1])
    Team.objects.create(connection=connection, psa_id=1, name="Tier 1", board_psa_id=1)
    Team.objects.create(connection=connection, psa_id=2, name="Tier 2", board_psa_id=2)
    with signed_in_page(ui_servers, "ann", "pw-ann") as page:
        yield {"page": page, "url": ui_servers["url"], "board": board}


def open_mapper(ui) -> None:
    page = ui["page"]
    page.goto(f"{ui['url']}/boards/{ui['board'].id}/edit/")
    page.wait_for_selector("#board-config[data-ready]")


def row(n: int) -> str:
    return f"#column-list .column-row:nth-child({n})"


def offered(page, n: int | str) -> list[str]:
    """The options a picker offers (opening its dropdown): the n-th column's, or `scope`'s."""
    scope = row(n) if isinstance(n, int) else n
    page.click(f"{scope} .ts-control")
    page.wait_for_selector(f"{scope} .ts-dropdown .option")
    options = page.locator(f"{scope} .ts-dropdown .option").all_text_contents()
    page.keyboard.press("Escape")
    return options


def pick(page, scope: str, text: str) -> None:
    page.click(f"{scope} .ts-control")
    page.keyboard.type(text)
    page.click(f"{scope} .ts-dropdown .option:has-text('{text}')")
    page.keyboard.press("Escape")


def drag_row(page, source: str, target: str) -> None:
    handle = page.locator(f"{source} .drag-handle").bounding_box()
    goal = page.locator(f"{target} .drag-handle").bounding_box()
    x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, y + 5, steps=3)
    page.mouse.move(x, goal["y"] + 2, steps=30)
    page.mouse.move(x, goal["y"], steps=3)
    page.mouse.up()


def test_it_maps_columns_with_pickers_drag_add_and_remove(ui):
    page, board = ui["page"], ui["board"]
    open_mapper(ui)
    options = offered(page, 1)
    assert all(o.startswith("Board 1: ") for o in options)  # only the chosen PSA board
    assert "Board 1: Doing in “Doing”" in options  # already another column's: the list says so
    assert offered(page, "label:has-text('Teams')") == ["Board 1: Tier 1"]
    pick(page, "label:has-text('PSA boards')", "Board 2")
    assert "Board 2: New" in offered(page, 1)  # offered as soon as its board is chosen
    assert offered(page, "label:has-text('Teams')") == ["Board 1: Tier 1", "Board 2: Tier 2"]
    drag_row(page, row(4), row(1))  # "Closed" to the front
    assert page.input_value(f"{row(1)} input[name$='-name']") == "Closed"
    page.click("#add-column")
    page.fill(f"{row(5)} input[name$='-name']", "Escalated")
    pick(page, row(5), "Board 2: Waiting")
    page.fill(f"{row(5)} input[name$='-wip_limit']", "2")
    page.click(f"{row(4)} [data-remove]")  # "Waiting"
    page.wait_for_selector(".removed-note:has-text('“Waiting” will be removed when you save.')")
    page.screenshot(path="/tmp/ux-mapper.png", full_page=True)
    page.click(".config-head button:has-text('Save board')")
    page.wait_for_url(f"{ui['url']}/boards/{board.id}/")
    wait_ready(page)
    saved = [(c.name, c.psa_ids, c.wip_limit) for c in board.columns.all()]
    assert saved == [
        ("Closed", [13], None),
        ("New", [10], None),
        ("Doing", [11], None),
        ("Escalated", [22], 2),
    ]


def test_it_flags_and_refuses_statuses_of_a_psa_board_taken_out(ui):
    page, board = ui["page"], ui["board"]
    open_mapper(ui)
    pick(page, "label:has-text('PSA boards')", "Board 2")
    pick(page, row(1), "Board 2: New")
    page.click("label:has-text('PSA boards') .ts-control .item:has-text('Board 2') .remove")
    page.wait_for_selector(f"{row(1)} .ts-control .item.foreign:has-text('Board 2: New')")
    page.click(".config-head button:has-text('Save board')")
    page.wait_for_selector(".problems")
    text = page.text_content(".problems")
    assert "The board was not saved" in text
    assert "Column “New” uses “Board 2: New”, which belong to PSA boards this board does not show." in text
    page.screenshot(path="/tmp/ux-mapper-refused.png", full_page=True)
    assert [c.psa_ids for c in board.columns.all()][0] == [10]


def test_it_warns_in_the_column_header_above_the_wip_limit(ui):
    page, board = ui["page"], ui["board"]
    board_columns_set(board=board, columns=[("New", [10], 3), ("Doing", [11], 3), ("Closed", [13], None)])
    open_board(page, ui["url"], board)
    assert page.text_content(".column:nth-of-type(1) .count").strip() == "5 / 3"
    assert page.is_visible(
        ".column:nth-of-type(1) .wip-warning:has-text('Over the WIP limit: 5 cards, limit 3')"
    )
    assert page.locator(".column:nth-of-type(2) .wip-warning").count() == 0
    page.screenshot(path="/tmp/ux-wip.png")
