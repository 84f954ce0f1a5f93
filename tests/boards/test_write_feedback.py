"""A card shows its own edits on their way to the PSA: pending, delivery delayed, saved, or refused
with the PSA's message and a Retry that re-queues the same change."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from boards.models import Ticket
from boards.services.cards import board_layout
from boards.services.moves import card_move
from boards.views.rendering import card_html
from sync.models import OutboxEntry
from tests.boards.conftest import link_member


def _card(board, psa_id: int):
    return next(
        card for column in board_layout(board=board) for card in column.cards if card.psa_id == psa_id
    )


def _move_to(board, psa_id: int, column_name: str, user) -> OutboxEntry:
    column = board.columns.get(name=column_name)
    assert card_move(board=board, user=user, psa_id=psa_id, column_id=column.id).ok
    return OutboxEntry.objects.filter(psa_id=psa_id).latest("id")


def _refused_by_the_psa(entry: OutboxEntry, *, back_to_status: int, message: str) -> None:
    """What the outbox does on a permanent rejection: the entry fails with the PSA's message, the
    card is re-read (its old status) and shows the error."""
    OutboxEntry.objects.filter(pk=entry.pk).update(
        state=OutboxEntry.State.FAILED, error=message, done_at=timezone.now()
    )
    Ticket.objects.filter(psa_id=entry.psa_id).update(
        status_psa_id=back_to_status,
        status_name="New",
        writeback_error=f"Change ticket status was rejected by the PSA: {message}",
    )


def test_it_marks_a_card_pending_then_delivery_delayed_while_its_edit_waits(tenant, frozen_clock):
    board = tenant["board"]
    _move_to(board, 100, "Doing", tenant["user"])
    card = _card(board, 100)
    assert (card.write_kind, card.write_age) == ("pending", 0)
    assert "Sending to the PSA" in card_html(card)
    frozen_clock.shift(31)
    card = _card(board, 100)
    assert (card.write_kind, card.write_age) == ("delayed", 31)
    assert "Delivery delayed" in card_html(card)
    assert _card(board, 101).write_kind == ""  # other cards are untouched


def test_it_shows_saved_briefly_once_the_psa_took_the_edit(tenant, frozen_clock):
    board = tenant["board"]
    entry = _move_to(board, 100, "Doing", tenant["user"])
    OutboxEntry.objects.filter(pk=entry.pk).update(state=OutboxEntry.State.DONE, done_at=timezone.now())
    assert _card(board, 100).write_kind == "saved"
    assert "Saved to the PSA" in card_html(_card(board, 100))
    frozen_clock.shift(7)
    assert _card(board, 100).write_kind == ""


def test_it_keeps_showing_pending_while_a_later_edit_of_a_saved_card_waits(tenant, frozen_clock):
    board = tenant["board"]
    first = _move_to(board, 100, "Doing", tenant["user"])
    OutboxEntry.objects.filter(pk=first.pk).update(state=OutboxEntry.State.DONE, done_at=timezone.now())
    _move_to(board, 100, "Waiting", tenant["user"])
    assert _card(board, 100).write_kind == "pending"


def test_it_shows_the_psa_message_with_a_retry_button_on_a_refused_card(tenant, frozen_now):
    board = tenant["board"]
    entry = _move_to(board, 100, "Doing", tenant["user"])
    _refused_by_the_psa(entry, back_to_status=10, message="Status change blocked by a workflow rule")
    html = card_html(_card(board, 100))
    assert "blocked by a workflow rule" in html and 'data-action="retry"' in html


def test_it_retries_the_refused_change_with_the_same_payload(tenant, frozen_now, client):
    board = tenant["board"]
    entry = _move_to(board, 100, "Doing", tenant["user"])
    _refused_by_the_psa(entry, back_to_status=10, message="Status change blocked by a workflow rule")
    response = client.post(f"/api/boards/{board.id}/cards/100/retry/")
    assert response.status_code == 202
    again = OutboxEntry.objects.filter(psa_id=100).latest("id")
    assert again.pk != entry.pk and again.state == OutboxEntry.State.PENDING
    assert (again.action, again.payload) == (entry.action, entry.payload)
    ticket = Ticket.objects.get(psa_id=100)
    assert (ticket.status_psa_id, ticket.writeback_error) == (11, "")  # shown as moved again, no error
    assert OutboxEntry.objects.get(pk=entry.pk).state == OutboxEntry.State.FAILED  # kept for the record


def test_it_retries_a_refused_note_from_the_card_dialog(tenant, frozen_now, client):
    link_member(tenant)
    board = tenant["board"]
    client.post(f"/boards/{board.id}/cards/101/note/", {"text": "Called the customer"})
    entry = OutboxEntry.objects.get(psa_id=101)
    OutboxEntry.objects.filter(pk=entry.pk).update(state=OutboxEntry.State.FAILED)
    Ticket.objects.filter(psa_id=101).update(writeback_error="Add a ticket note was rejected by the PSA: no")
    dialog = client.get(f"/boards/{board.id}/cards/101/").content.decode()
    assert "Retry: send “add a ticket note” again" in dialog
    html = client.post(f"/boards/{board.id}/cards/101/retry/").content.decode()
    assert "Sent to the PSA again." in html
    again = OutboxEntry.objects.filter(psa_id=101).latest("id")
    assert again.pk != entry.pk and again.payload["text"] == "Called the customer"
    assert again.payload["member_id"] == entry.payload["member_id"] == 4  # still by its author


def test_it_refuses_a_retry_when_the_last_change_was_not_refused(tenant, client):
    response = client.post(f"/api/boards/{tenant['board'].id}/cards/100/retry/")
    assert response.status_code == 400
    assert "nothing to retry" in response.json()["detail"]
    assert not OutboxEntry.objects.exists()


def test_it_answers_404_for_a_retry_on_another_tenants_card(tenant, other_tenant, client):
    response = client.post(f"/api/boards/{other_tenant['board'].id}/cards/900/retry/")
    assert response.status_code == 404


def test_it_ages_pending_edits_from_the_oldest_unfinished_one(tenant, frozen_clock):
    board = tenant["board"]
    _move_to(board, 100, "Doing", tenant["user"])
    frozen_clock.shift(20)
    _move_to(board, 100, "Waiting", tenant["user"])
    frozen_clock.shift(15)
    card = _card(board, 100)
    assert (card.write_kind, card.write_age) == ("delayed", 35)
    assert timedelta(seconds=card.write_age) > timedelta(seconds=30)
