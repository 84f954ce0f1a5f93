"""Board pages: columns and cards render in rank order, user filters, live polling with ETags."""

from __future__ import annotations

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext

from boards.live import mirror_changed, mirror_version
from boards.models import Board, Ticket
from boards.ranking import card_rank_place

pytestmark = pytest.mark.django_db


def card_order(html: str) -> list[int]:
    import re

    return [int(x) for x in re.findall(r'data-psa-id="(\d+)"', html)]


def test_it_renders_columns_and_cards_in_rank_order(tenant, client):
    board = tenant["board"]
    assert [c.name for c in board.columns.all()] == ["New", "Doing", "Waiting", "Closed"]
    card_rank_place(connection_id=tenant["connection"].id, kind="ticket", psa_id=104, below_psa_id=100)
    html = client.get(f"/boards/{board.id}/").content.decode()
    assert card_order(html) == [104, 100, 101, 102, 103, 105]
    assert "Ticket 104" in html and "Acme" in html


def test_it_shows_cards_under_the_column_of_their_status(tenant, client):
    Ticket.objects.filter(psa_id=101).update(status_psa_id=11, status_name="Doing")
    columns = client.get(f"/api/boards/{tenant['board'].id}/cards/").json()
    by_name = {c["name"]: [card["psa_id"] for card in c["cards"]] for c in columns}
    assert by_name["Doing"] == [101]
    assert 101 not in by_name["New"]


def test_it_applies_my_temporary_filters_without_changing_the_board(tenant, client):
    board = tenant["board"]
    html = client.get(f"/boards/{board.id}/?member=alice").content.decode()
    assert card_order(html) == [101, 103, 105]  # odd tickets have resource alice
    assert card_order(client.get(f"/boards/{board.id}/?q=104").content.decode()) == [104]
    assert card_order(client.get(f"/boards/{board.id}/?priority=2").content.decode()) == [101, 103, 105]
    board.refresh_from_db()
    assert board.member_identifiers == []


def test_it_ignores_nul_characters_in_my_filters(tenant, client):
    board = tenant["board"]
    response = client.get(f"/boards/{board.id}/?member=ali%00ce&q=%00104")
    assert response.status_code == 200  # PostgreSQL refuses NUL in text: was a 500
    assert card_order(response.content.decode()) == []  # "alice" and "104" would not both match
    assert card_order(client.get(f"/boards/{board.id}/columns/?q=10%004").content.decode()) == [104]


def test_it_applies_persistent_filters_and_show_unassigned(tenant, client):
    board = tenant["board"]
    Board.objects.filter(pk=board.pk).update(show_unassigned=False)
    assert card_order(client.get(f"/boards/{board.id}/columns/").content.decode()) == [101, 103, 105]
    Board.objects.filter(pk=board.pk).update(show_unassigned=True, member_identifiers=["bob"])
    assert card_order(client.get(f"/boards/{board.id}/columns/").content.decode()) == [100, 102, 104]


def test_it_shows_indicators_and_bold_customer_updates(tenant, client):
    Ticket.objects.filter(psa_id=102).update(customer_updated=True, budget_hours=2, actual_hours=3)
    Board.objects.filter(pk=tenant["board"].pk).update(indicators=["age", "hours", "customer_updated"])
    html = client.get(f"/boards/{tenant['board'].id}/columns/").content.decode()
    assert "customer-updated" in html and "3 / 2 h" in html and "Age 2d" in html


def test_it_answers_304_from_the_counter_without_touching_the_mirror(tenant, client):
    url = f"/boards/{tenant['board'].id}/columns/"
    first = client.get(url)
    etag = first["ETag"]
    with CaptureQueriesContext(db) as ctx:
        again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert not [
        q for q in ctx.captured_queries if "boards_ticket" in q["sql"] or "boards_cardrank" in q["sql"]
    ]
    mirror_changed(connection_id=tenant["connection"].id)
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_it_changes_the_etag_when_the_user_filters_change(tenant, client):
    url = f"/boards/{tenant['board'].id}/columns/"
    assert client.get(url)["ETag"] != client.get(url + "?member=alice")["ETag"]


def test_it_counts_changes_per_connection(tenant, other_tenant):
    mine, theirs = tenant["connection"].id, other_tenant["connection"].id
    before_mine, before_theirs = mirror_version(connection_id=mine), mirror_version(connection_id=theirs)
    mirror_changed(connection_id=mine)
    assert mirror_version(connection_id=mine) == before_mine + 1
    assert mirror_version(connection_id=theirs) == before_theirs


def test_it_opens_the_card_dialog(tenant, client):
    html = client.get(f"/boards/{tenant['board'].id}/cards/100/").content.decode()
    assert "#100 Ticket 100" in html and "Add note" in html and "Close ticket…" in html


def test_it_creates_and_configures_a_board_in_the_ui(tenant, client):
    response = client.post(
        "/boards/new/",
        {
            "name": "Mine",
            "connection": tenant["connection"].id,
            "kind": "service",
            "column_source": "status",
        },
    )
    board = Board.objects.get(name="Mine")
    assert response.status_code == 302 and response["Location"] == f"/boards/{board.id}/edit/"
    assert client.get(response["Location"]).status_code == 200
    form = {
        "name": "Mine",
        "show_unassigned": "on",
        "indicators": ["age"],
        "auto_rank": "",
        "col-TOTAL_FORMS": "2",
        "col-INITIAL_FORMS": "0",
        "col-0-name": "Open",
        "col-0-psa_ids": ["10", "11"],
        "col-0-ORDER": "1",
        "col-1-name": "Done",
        "col-1-psa_ids": ["13"],
        "col-1-ORDER": "2",
    }
    assert client.post(f"/boards/{board.id}/edit/", form).status_code == 302
    assert [(c.name, c.psa_ids) for c in board.columns.all()] == [("Open", [10, 11]), ("Done", [13])]


def test_it_shows_the_owner_when_nobody_is_assigned(tenant, client):
    Ticket.objects.filter(psa_id=100).update(owner_identifier="carol")
    cards = client.get(f"/api/boards/{tenant['board'].id}/cards/").json()[0]["cards"]
    people = {c["psa_id"]: c["people"] for c in cards}
    assert people[100] == ["owner carol"] and people[101] == ["alice"] and people[102] == []
