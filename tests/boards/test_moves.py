"""Moving cards: status validity rules, the write-back outbox, ranks, send to top/bottom."""

from __future__ import annotations

import pytest

from boards.live import mirror_version
from boards.models import Board, CardRank, Opportunity, OpportunityStage, Ticket
from boards.services.config import board_columns_set, board_create
from sync.models import OutboxEntry
from tests.boards.conftest import seed_tickets

pytestmark = pytest.mark.django_db


def move(client, board, **body):
    return client.post(f"/api/boards/{board.id}/moves/", body, content_type="application/json")


def column(board, name):
    return board.columns.get(name=name)


def test_it_changes_the_status_through_the_outbox_when_one_status_fits(tenant, client):
    board = tenant["board"]
    response = move(client, board, card=100, column=column(board, "Doing").id)
    assert response.status_code == 200 and response.json()["status_psa_id"] == 11
    ticket = Ticket.objects.get(connection=tenant["connection"], psa_id=100)
    assert (ticket.status_psa_id, ticket.status_name) == (11, "Doing")
    entry = OutboxEntry.objects.get(psa_id=100)
    assert entry.payload["status_id"] == 11


def test_it_refuses_a_column_without_a_status_on_the_tickets_board(tenant, client):
    connection = tenant["connection"]
    seed_tickets(connection, count=1, board_psa_id=2, first_id=200)  # statuses 20..23 on PSA board 2
    board = board_create(
        connection_id=connection.id,
        name="Two boards",
        psa_board_ids=[1, 2],
        columns=[("New", [10, 20]), ("Doing (board 1 only)", [11])],
    )
    response = move(client, board, card=200, column=column(board, "Doing (board 1 only)").id)
    assert response.status_code == 409
    assert "No status of column" in response.json()["message"] and "Board 2" in response.json()["message"]
    assert Ticket.objects.get(psa_id=200).status_psa_id == 20
    assert not OutboxEntry.objects.exists()


def test_it_asks_which_status_when_several_fit_then_applies_the_choice(tenant, client):
    board = tenant["board"]
    board_columns_set(board=board, columns=[("New", [10]), ("Active", [11, 12])])
    active = column(board, "Active").id
    response = move(client, board, card=100, column=active)
    assert response.status_code == 409
    assert [c["id"] for c in response.json()["choices"]] == [11, 12]
    assert Ticket.objects.get(psa_id=100).status_psa_id == 10
    assert move(client, board, card=100, column=active, status=13).status_code == 409  # not in the column
    assert move(client, board, card=100, column=active, status=12).status_code == 200
    assert Ticket.objects.get(psa_id=100).status_psa_id == 12


def test_it_ranks_within_a_column_without_touching_the_psa(
    tenant, client, django_capture_on_commit_callbacks
):
    board = tenant["board"]
    before = mirror_version(connection_id=tenant["connection"].id)
    with django_capture_on_commit_callbacks(execute=True):
        response = move(client, board, card=100, column=column(board, "New").id, above=102, below=103)
    assert response.status_code == 200 and response.json()["rank_key"]
    order = [c["psa_id"] for c in client.get(f"/api/boards/{board.id}/cards/").json()[0]["cards"]]
    assert order == [101, 102, 100, 103, 104, 105]
    assert not OutboxEntry.objects.exists()
    assert mirror_version(connection_id=tenant["connection"].id) > before


def test_it_keeps_the_order_on_a_second_board(tenant, client):
    board = tenant["board"]
    second = board_create(
        connection_id=tenant["connection"].id,
        name="Second",
        psa_board_ids=[1],
        columns=[("Everything", [10, 11, 12])],
    )
    Board.objects.filter(pk=second.pk).update(show_unassigned=False)  # shows 101, 103, 105
    move(client, board, card=105, below=100)
    order = [c["psa_id"] for c in client.get(f"/api/boards/{second.id}/cards/").json()[0]["cards"]]
    assert order == [105, 101, 103]


def test_it_sends_cards_to_the_top_and_bottom_of_their_column(tenant, client):
    board = tenant["board"]
    url = f"/api/boards/{board.id}/ranks/"
    assert client.post(url, {"card": 103, "to": "top"}, content_type="application/json").status_code == 200
    assert client.post(url, {"card": 101, "to": "bottom"}, content_type="application/json").status_code == 200
    order = [c["psa_id"] for c in client.get(f"/api/boards/{board.id}/cards/").json()[0]["cards"]]
    assert order == [103, 100, 102, 104, 105, 101]
    ranks = client.get(url).json()
    assert [r["card"] for r in ranks][0] == 103
    assert CardRank.objects.filter(connection=tenant["connection"]).count() == 6


def test_it_ignores_drag_order_on_automatically_ranked_boards(tenant, client):
    board = tenant["board"]
    Board.objects.filter(pk=board.pk).update(auto_rank="priority_age")
    board.refresh_from_db()
    assert move(client, board, card=100, below=105).json()["rank_key"] is None
    order = [c["psa_id"] for c in client.get(f"/api/boards/{board.id}/cards/").json()[0]["cards"]]
    assert order == [104, 102, 100, 105, 103, 101]  # P1 oldest first, then P2 oldest first


def test_it_moves_opportunities_between_stages(tenant, client):
    connection = tenant["connection"]
    for i, name in enumerate(["Lead", "Proposal"]):
        OpportunityStage.objects.create(connection=connection, psa_id=50 + i, name=name, sort_order=i)
    Opportunity.objects.create(
        connection=connection, psa_id=7, name="Big deal", stage_psa_id=50, stage_name="Lead"
    )
    board = board_create(
        connection_id=connection.id, name="Pipeline", kind="opportunity", column_source="stage"
    )
    assert [c.name for c in board.columns.all()] == ["Lead", "Proposal"]
    response = move(client, board, card=7, column=column(board, "Proposal").id)
    assert response.status_code == 200
    assert Opportunity.objects.get(psa_id=7).stage_psa_id == 51


def test_it_rejects_malformed_moves(tenant, client):
    board = tenant["board"]
    assert move(client, board, card="x").status_code == 400
    assert move(client, board, card=100, above=100).status_code == 400
    assert move(client, board, card=100, column=999999).status_code == 404
