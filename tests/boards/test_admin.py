"""The mirror admin filters by connection, status and board (issue: Django admin for every model)."""

from __future__ import annotations

from boards.models import Ticket
from tests.boards.conftest import make_connection, seed_tickets


def test_it_filters_tickets_by_board_in_the_admin(db, admin_client):
    connection = make_connection("acme")
    seed_tickets(connection, count=2, board_psa_id=1, first_id=100)
    seed_tickets(connection, count=2, board_psa_id=2, first_id=200)
    response = admin_client.get("/admin/boards/ticket/", {"board_name": "Board 2"})
    assert response.status_code == 200
    shown = {ticket.psa_id for ticket in response.context["cl"].result_list}
    assert shown == set(Ticket.objects.filter(board_psa_id=2).values_list("psa_id", flat=True))
    assert "By board name" in response.content.decode()


def test_it_filters_board_statuses_by_board_in_the_admin(db, admin_client):
    connection = make_connection("acme")
    seed_tickets(connection, count=1, board_psa_id=1, first_id=100)
    seed_tickets(connection, count=1, board_psa_id=2, first_id=200)
    response = admin_client.get("/admin/boards/boardstatus/", {"board_psa_id": "2"})
    assert response.status_code == 200
    assert {status.board_psa_id for status in response.context["cl"].result_list} == {2}
    assert "By board psa id" in response.content.decode()
