"""Tenant scoping: a user sees only the connections they belong to, and 404 for the rest."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from boards.models import Board, Membership


def user_connection_ids(user) -> list[int]:
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_topleft_connection_ids", None)
    if cached is None:
        cached = list(Membership.objects.filter(user=user).values_list("connection_id", flat=True))
        user._topleft_connection_ids = cached  # one query per request
    return cached


def user_is_admin(*, user, connection_id: int) -> bool:
    return Membership.objects.filter(
        user=user, connection_id=connection_id, role=Membership.Role.ADMIN
    ).exists()


def boards_for_user(user) -> QuerySet[Board]:
    return Board.objects.filter(connection_id__in=user_connection_ids(user)).select_related("connection")


def board_get_for_user(*, user, board_id: int) -> Board:
    """The board, or 404 when it does not exist or belongs to another tenant (indistinguishable)."""
    if not getattr(user, "is_authenticated", False):
        raise Http404("No such board")
    # One query (board joined to the user's membership): live polls call this every second.
    board = (
        Board.objects.filter(pk=board_id, connection__memberships__user=user)
        .select_related("connection")
        .first()
    )
    if board is None:
        raise Http404("No such board")
    return board
