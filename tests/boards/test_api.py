"""The API: board CRUD, card actions through the outbox, and the OpenAPI schema and docs."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from boards.models import Board, Member, Membership, ServiceNote, Ticket
from sync.models import OutboxEntry
from tests.boards.conftest import link_member, make_user

pytestmark = pytest.mark.django_db


def card_url(tenant, action):
    return f"/api/boards/{tenant['board'].id}/cards/100/{action}/"


def test_it_creates_a_board_with_columns_from_the_psa_statuses(tenant, client):
    body = {
        "connection": tenant["connection"].id,
        "name": "API board",
        "kind": "service",
        "psa_board_ids": [1],
        "indicators": ["sla"],
    }
    response = client.post("/api/boards/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert [c["name"] for c in response.json()["columns"]] == ["New", "Doing", "Waiting", "Closed"]


def test_it_replaces_columns_on_update(tenant, client):
    url = f"/api/boards/{tenant['board'].id}/"
    response = client.patch(
        url, {"columns": [{"name": "Only", "psa_ids": [10]}]}, content_type="application/json"
    )
    assert response.status_code == 200
    assert [c["name"] for c in client.get(url).json()["columns"]] == ["Only"]


def test_it_lets_only_admins_delete_boards(tenant, client):
    url = f"/api/boards/{tenant['board'].id}/"
    assert client.delete(url).status_code == 403
    Membership.objects.filter(user=tenant["user"]).update(role="admin")
    assert client.delete(url).status_code == 204
    assert not Board.objects.filter(pk=tenant["board"].pk).exists()


def test_it_queues_card_actions_in_the_outbox(tenant, client):
    link_member(tenant)
    Member.objects.create(connection=tenant["connection"], psa_id=5, identifier="bob", first_name="Bob")
    post = lambda action, body: client.post(card_url(tenant, action), body, content_type="application/json")  # noqa: E731
    assert post("notes", {"text": "Called the customer"}).status_code == 202
    assert (
        post(
            "time",
            {
                "member": 5,
                "start": "2026-01-01T10:00:00Z",
                "end": "2026-01-01T10:30:00Z",
                "notes": "fixed",
                "status": 11,
            },
        ).status_code
        == 202
    )
    assert post("resources", {"member": 5, "action": "add"}).status_code == 202
    assert post("priority", {"priority": 2}).status_code == 202
    assert post("close", {}).status_code == 202
    ticket = Ticket.objects.get(connection=tenant["connection"], psa_id=100)
    assert "bob" in ticket.resource_identifiers and ticket.priority_psa_id == 2 and ticket.status_psa_id == 13
    actions = set(OutboxEntry.objects.filter(psa_id=100).values_list("action", flat=True))
    assert actions == {
        "ticket_note_add",
        "time_entry_create",
        "ticket_add_resource",
        "ticket_priority",
        "ticket_status",
    }
    assert ServiceNote.objects.filter(ticket_psa_id=100).exists()  # the note's placeholder row
    assert [n["text"] for n in client.get(card_url(tenant, "notes")).json()] == ["Called the customer"]


def test_it_explains_refused_card_actions(tenant, client):
    link_member(tenant)
    response = client.post(card_url(tenant, "notes"), {"text": "   "}, content_type="application/json")
    assert response.status_code == 400
    response = client.post(
        card_url(tenant, "time"),
        {"member": 999, "start": "2026-01-01T10:00:00Z", "end": "2026-01-01T11:00:00Z"},
        content_type="application/json",
    )
    assert response.status_code == 400 and "Unknown member" in response.json()["detail"]
    response = client.post(card_url(tenant, "close"), {"status": 10}, content_type="application/json")
    assert response.status_code == 400 and not OutboxEntry.objects.exists()


@pytest.mark.parametrize(
    "form, message",
    [
        ({"minutes": "99999999999999999999"}, "at most 24 hours"),
        ({"minutes": "1441"}, "at most 24 hours"),
        ({"minutes": "120", "start": "9999-12-31T23:59:00"}, "out of range"),
    ],
)
def test_it_refuses_time_entries_out_of_range_from_the_dialog(tenant, client, form, message):
    response = client.post(f"/boards/{tenant['board'].id}/cards/100/time/", {"member": "1", **form})
    assert response.status_code == 200 and message in response.content.decode()  # was a 500
    assert not OutboxEntry.objects.exists()


def test_it_drops_nul_characters_from_notes_typed_in_the_dialog(tenant, client):
    link_member(tenant)
    Member.objects.create(connection=tenant["connection"], psa_id=5, identifier="bob", first_name="Bob")
    board = tenant["board"].id
    response = client.post(f"/boards/{board}/cards/100/note/", {"text": "Called\x00 back"})
    assert response.status_code == 200  # PostgreSQL refuses NUL in jsonb: was a 500
    response = client.post(
        f"/boards/{board}/cards/100/time/", {"member": "5", "minutes": "15", "notes": "fix\x00ed"}
    )
    assert response.status_code == 200
    payloads = [e.payload for e in OutboxEntry.objects.order_by("id")]
    assert "\x00" not in repr(payloads)
    assert "Called back" in repr(payloads) and "fixed" in repr(payloads)


def test_it_runs_card_actions_from_the_dialog(tenant, client):
    link_member(tenant)
    response = client.post(f"/boards/{tenant['board'].id}/cards/100/priority/", {"priority": "2"})
    assert response.status_code == 200 and "Priority changed." in response.content.decode()
    response = client.post(
        f"/boards/{tenant['board'].id}/cards/100/time/", {"member": "999", "minutes": "15"}
    )
    assert "Unknown member." in response.content.decode()


def test_it_serves_the_openapi_schema_and_docs(tenant, client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    text = schema.content.decode()
    for path in (
        "/api/boards/{id}/moves/",
        "/api/boards/{id}/ranks/",
        "/api/boards/{board_id}/cards/{psa_id}/time/",
    ):
        assert path in text
    assert client.get("/api/docs/").status_code == 200


@pytest.mark.parametrize("username, password", [("", "pw"), ("zed", ""), ("z e d", "pw"), ("zed/../", "pw")])
def test_it_refuses_empty_or_malformed_credentials_in_user_add(tenant, username, password):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="username"):
        call_command("user_add", "--username", username, "--password", password, "--connection", "acme")
    assert not make_user.__globals__["get_user_model"]().objects.filter(username=username).exists()


def test_it_adds_users_to_connections_from_the_command(tenant):
    call_command(
        "user_add", "--username", "zed", "--password", "s3cret", "--connection", "acme", "--role", "admin"
    )
    call_command("user_add", "--username", "zed", "--password", "n3w", "--connection", "acme")
    user = make_user.__globals__["get_user_model"]().objects.get(username="zed")
    assert user.check_password("n3w")
    assert Membership.objects.get(user=user).role == "member"
