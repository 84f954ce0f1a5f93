"""Card actions in the API: notes, time entries, resources, priority, close, and retry."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from boards.api import serializers as s
from boards.services import actions
from boards.services.access import board_get_for_user
from boards.services.moves import board_card_get
from boards.services.retry import card_write_retry


class CardActionView(APIView):
    """Base: resolves the board (404 for other tenants) and maps action errors to 400."""

    def board(self, board_id: int):
        return board_get_for_user(user=self.request.user, board_id=board_id)

    def handle_exception(self, exc):
        if isinstance(exc, actions.CardActionError):
            exc = ValidationError({"detail": str(exc)})
        return super().handle_exception(exc)


class CardNotesView(CardActionView):
    @extend_schema(responses=s.NoteSerializer(many=True))
    def get(self, request, board_id: int, psa_id: int):
        board = self.board(board_id)
        card = board_card_get(board=board, psa_id=psa_id)
        notes = actions.card_notes(connection_id=board.connection_id, card=card)
        return Response(s.NoteSerializer(notes, many=True).data)

    @extend_schema(request=s.NoteSerializer, responses={202: None})
    def post(self, request, board_id: int, psa_id: int):
        data = s.validated(s.NoteSerializer, request)
        actions.card_note_add(
            board=self.board(board_id),
            psa_id=psa_id,
            text=data["text"],
            internal=data["internal"],
            user=request.user,
        )
        return Response({"queued": True}, status=status.HTTP_202_ACCEPTED)


class CardTimeView(CardActionView):
    @extend_schema(request=s.TimeEntrySerializer, responses={202: None})
    def post(self, request, board_id: int, psa_id: int):
        data = s.validated(s.TimeEntrySerializer, request)
        actions.card_time_add(
            board=self.board(board_id),
            psa_id=psa_id,
            member_psa_id=data.get("member"),
            time_start=data["start"],
            time_end=data["end"],
            notes=data["notes"],
            status_psa_id=data.get("status"),
            user=request.user,
        )
        return Response({"queued": True}, status=status.HTTP_202_ACCEPTED)


class CardResourcesView(CardActionView):
    @extend_schema(request=s.ResourceSerializer, responses={202: None})
    def post(self, request, board_id: int, psa_id: int):
        data = s.validated(s.ResourceSerializer, request)
        actions.card_resource_change(
            board=self.board(board_id),
            psa_id=psa_id,
            member_psa_id=data["member"],
            add=data["action"] == "add",
            user=request.user,
        )
        return Response({"queued": True}, status=status.HTTP_202_ACCEPTED)


class CardPriorityView(CardActionView):
    @extend_schema(request=s.PrioritySerializer, responses={202: None})
    def post(self, request, board_id: int, psa_id: int):
        data = s.validated(s.PrioritySerializer, request)
        actions.card_priority_change(
            board=self.board(board_id), psa_id=psa_id, priority_psa_id=data["priority"], user=request.user
        )
        return Response({"queued": True}, status=status.HTTP_202_ACCEPTED)


class CardCloseView(CardActionView):
    @extend_schema(request=s.CloseSerializer, responses={202: None})
    def post(self, request, board_id: int, psa_id: int):
        data = s.validated(s.CloseSerializer, request)
        actions.card_close(
            board=self.board(board_id), psa_id=psa_id, status_psa_id=data.get("status"), user=request.user
        )
        return Response({"queued": True}, status=status.HTTP_202_ACCEPTED)


class CardRetryView(CardActionView):
    @extend_schema(request=None, responses={202: None})
    def post(self, request, board_id: int, psa_id: int):
        """Send the change the PSA refused (the card's `writeback_error`) again, unchanged."""
        card_write_retry(board=self.board(board_id), psa_id=psa_id, user=request.user)
        return Response({"queued": True}, status=status.HTTP_202_ACCEPTED)
