"""Login is required everywhere, and another tenant's board, card or column answers 404."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.boards.conftest import logged_in

pytestmark = pytest.mark.django_db


def page_urls(board_id: int, psa_id: int) -> list[str]:
    return [
        f"/boards/{board_id}/",
        f"/boards/{board_id}/edit/",
        f"/boards/{board_id}/columns/",
        f"/boards/{board_id}/cards/{psa_id}/",
    ]


def api_gets(board_id: int, psa_id: int) -> list[str]:
    return [
        f"/api/boards/{board_id}/",
        f"/api/boards/{board_id}/cards/",
        f"/api/boards/{board_id}/ranks/",
        f"/api/boards/{board_id}/cards/{psa_id}/notes/",
    ]


def api_posts(board_id: int, psa_id: int) -> list[tuple[str, dict]]:
    card = f"/api/boards/{board_id}/cards/{psa_id}/"
    return [
        (f"/api/boards/{board_id}/moves/", {"card": psa_id, "above": psa_id + 1}),
        (f"/api/boards/{board_id}/ranks/", {"card": psa_id, "to": "top"}),
        (card + "notes/", {"text": "hello"}),
        (card + "time/", {"member": 1, "start": "2026-01-01T10:00:00Z", "end": "2026-01-01T11:00:00Z"}),
        (card + "resources/", {"member": 1, "action": "add"}),
        (card + "priority/", {"priority": 1}),
        (card + "close/", {}),
    ]


def test_it_sends_anonymous_users_to_the_login_page(tenant):
    client = Client()
    board, psa_id = tenant["board"].id, tenant["tickets"][0].psa_id
    for url in ["/boards/", "/boards/new/", *page_urls(board, psa_id)]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), url
    for url in api_gets(board, psa_id):
        assert client.get(url).status_code == 403, url
    assert client.get("/api/schema/").status_code == 403
    docs = client.get("/api/docs/")
    assert docs.status_code == 302 and docs["Location"].startswith("/accounts/login/")


def test_it_serves_the_login_page(db):
    response = Client().get("/accounts/login/")
    assert response.status_code == 200 and b'name="password"' in response.content


def test_it_answers_404_for_another_tenants_pages(tenant, other_tenant):
    client = logged_in(tenant["user"])
    board, psa_id = other_tenant["board"].id, other_tenant["tickets"][0].psa_id
    for url in page_urls(board, psa_id):
        assert client.get(url).status_code == 404, url
    for action in ("note", "time", "resource", "priority", "close"):
        assert client.post(f"/boards/{board}/cards/{psa_id}/{action}/", {"text": "x"}).status_code == 404


def test_it_answers_404_for_another_tenants_api_objects(tenant, other_tenant):
    client = logged_in(tenant["user"])
    board, psa_id = other_tenant["board"].id, other_tenant["tickets"][0].psa_id
    for url in api_gets(board, psa_id):
        assert client.get(url).status_code == 404, url
    for url, body in api_posts(board, psa_id):
        assert client.post(url, body, content_type="application/json").status_code == 404, url
    assert (
        client.patch(f"/api/boards/{board}/", {"name": "x"}, content_type="application/json").status_code
        == 404
    )
    assert client.delete(f"/api/boards/{board}/").status_code == 404


def test_it_answers_404_for_another_tenants_card_through_my_own_board(tenant, other_tenant):
    client = logged_in(tenant["user"])
    board, foreign_card = tenant["board"].id, other_tenant["tickets"][0].psa_id
    assert client.get(f"/boards/{board}/cards/{foreign_card}/").status_code == 404
    for url, body in api_posts(board, foreign_card):
        assert client.post(url, body, content_type="application/json").status_code in (404, 400), url
    response = client.post(
        f"/api/boards/{board}/moves/", {"card": foreign_card}, content_type="application/json"
    )
    assert response.status_code == 404


def test_it_lists_only_my_tenants_boards(tenant, other_tenant):
    client = logged_in(tenant["user"])
    names = [b["name"] for b in client.get("/api/boards/").json()]
    assert names == ["Service"]
    page = client.get("/boards/").content.decode()
    assert "Service" in page and "Globex" not in page


def test_it_refuses_to_create_a_board_on_another_tenants_connection(tenant, other_tenant):
    client = logged_in(tenant["user"])
    body = {"connection": other_tenant["connection"].id, "name": "sneaky", "kind": "service"}
    response = client.post("/api/boards/", body, content_type="application/json")
    assert response.status_code == 400 and "connection" in response.json()
    form = client.post("/boards/new/", {**body, "column_source": "status"})
    assert form.status_code == 200  # re-rendered with the error, nothing created
    assert not other_tenant["connection"].boards.filter(name="sneaky").exists()
