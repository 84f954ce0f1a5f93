"""A user's own board filters: "#id" search, remembered per user and board, the pickers' server
search (scoped to the board's tenant), and the board that says when nothing matches."""

from __future__ import annotations

import pytest

from boards.models import Company, Member, SavedFilters, Ticket
from boards.services.config import board_create
from boards.services.filters import PICK_LIMIT
from tests.boards.conftest import logged_in, make_user
from tests.boards.test_board_views import card_order

pytestmark = pytest.mark.django_db


def test_it_finds_exactly_the_ticket_of_a_hash_id(tenant, client):
    board = tenant["board"]
    Ticket.objects.filter(psa_id=105).update(summary="Follow-up of #104")
    assert card_order(client.get(f"/boards/{board.id}/?q=%23104").content.decode()) == [104]
    assert card_order(client.get(f"/boards/{board.id}/columns/?q=%23+104").content.decode()) == [104]
    # A plain number still matches the id or the text, as before.
    assert card_order(client.get(f"/boards/{board.id}/?q=104").content.decode()) == [104, 105]
    assert card_order(client.get(f"/boards/{board.id}/?q=%23999").content.decode()) == []


def test_it_remembers_my_filters_per_board_and_restores_them(tenant, client):
    board = tenant["board"]
    assert client.get(f"/boards/{board.id}/?priority=2&q=Ticket").status_code == 200
    response = client.get(f"/boards/{board.id}/")
    assert response.status_code == 302
    assert response["Location"] == f"/boards/{board.id}/?priority=2&q=Ticket"
    # Chosen on the page (the columns fragment) counts too; "?q=" forgets them.
    client.get(f"/boards/{board.id}/columns/?member=alice")
    assert client.get(f"/boards/{board.id}/")["Location"] == f"/boards/{board.id}/?member=alice"
    client.get(f"/boards/{board.id}/?q=")
    assert client.get(f"/boards/{board.id}/").status_code == 200
    assert not SavedFilters.objects.exists()


def test_it_keeps_my_filters_to_me_and_to_that_board(tenant):
    board = tenant["board"]
    other_board = board_create(connection_id=tenant["connection"].id, name="Other", psa_board_ids=[1])
    logged_in(tenant["user"]).get(f"/boards/{board.id}/?priority=1")
    assert logged_in(tenant["user"]).get(f"/boards/{other_board.id}/").status_code == 200
    colleague = make_user("cid", tenant["connection"])
    assert logged_in(colleague).get(f"/boards/{board.id}/").status_code == 200
    assert SavedFilters.objects.get().query == "priority=1"


def test_it_polls_without_writing_the_saved_filters_again(tenant, client):
    board = tenant["board"]
    client.get(f"/boards/{board.id}/?priority=1")
    saved_at = SavedFilters.objects.get().updated_at
    client.get(f"/boards/{board.id}/columns/?priority=1")
    assert SavedFilters.objects.get().updated_at == saved_at


def test_it_searches_companies_of_the_board_tenant_only(tenant, other_tenant, client):
    board = tenant["board"]
    Company.objects.bulk_create(
        [
            Company(connection=tenant["connection"], psa_id=i, name=f"Northwind {i}", identifier=f"NW{i}")
            for i in range(1, 31)
        ]
        + [Company(connection=tenant["connection"], psa_id=99, name="Contoso", identifier="CONTOSO")]
        + [Company(connection=other_tenant["connection"], psa_id=5, name="Northwind rival", identifier="NWX")]
    )
    results = client.get(f"/boards/{board.id}/pick/companies/?q=northwind").json()["results"]
    assert len(results) == PICK_LIMIT
    assert all(r["text"].startswith("Northwind ") for r in results)
    by_identifier = client.get(f"/boards/{board.id}/pick/companies/?q=contoso").json()["results"]
    assert by_identifier == [{"value": "99", "text": "Contoso", "identifier": "CONTOSO"}]
    assert client.get(f"/boards/{board.id}/pick/companies/?q=rival").json()["results"] == []
    assert client.get(f"/boards/{other_tenant['board'].id}/pick/companies/?q=n").status_code == 404
    assert client.get(f"/boards/{board.id}/pick/projects/?q=n").status_code == 404


def test_it_searches_active_members_by_name_or_identifier(tenant, other_tenant, client):
    board = tenant["board"]
    Member.objects.create(
        connection=tenant["connection"], psa_id=1, identifier="alice", first_name="Alice", last_name="Ames"
    )
    Member.objects.create(
        connection=tenant["connection"], psa_id=2, identifier="alex", first_name="Alex", inactive=True
    )
    Member.objects.create(
        connection=other_tenant["connection"], psa_id=3, identifier="alina", first_name="Alina"
    )
    results = client.get(f"/boards/{board.id}/pick/members/?q=al").json()["results"]
    assert results == [{"value": "alice", "text": "Alice Ames", "identifier": "alice"}]
    assert client.get(f"/boards/{board.id}/pick/members/?q=ames").json()["results"][0]["value"] == "alice"


def test_it_shows_only_the_chosen_company_and_member_in_the_page(tenant, client):
    board = tenant["board"]
    Company.objects.create(connection=tenant["connection"], psa_id=7, name="Acme", identifier="ACME")
    Company.objects.create(connection=tenant["connection"], psa_id=8, name="Beta")
    html = client.get(f"/boards/{board.id}/?company=7").content.decode()
    assert '<option value="7" selected>Acme</option>' in html
    assert "Beta" not in html


def test_it_says_when_no_card_matches_and_offers_to_clear(tenant, client):
    board = tenant["board"]
    html = client.get(f"/boards/{board.id}/?q=nothing-like-this").content.decode()
    assert "No cards match your filters." in html
    assert 'href="?q="' in html
    fragment = client.get(f"/boards/{board.id}/columns/?priority=9").content.decode()
    assert "No cards match your filters." in fragment
    assert "No cards match" not in client.get(f"/boards/{board.id}/?q=Ticket").content.decode()
    Ticket.objects.all().delete()
    assert "No cards match" not in client.get(f"/boards/{board.id}/?q=").content.decode()
