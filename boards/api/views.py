"""The boards API: boards, their cards, moves, ranks and card actions, scoped to the user's tenants.

Every lookup goes through `boards_for_user`, so another tenant's board, card or column
answers 404 exactly like a missing one.
"""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from boards.api import serializers as s
from boards.models import CardRank
from boards.ranking import RankError
from boards.services.access import boards_for_user, user_is_admin
from boards.services.cards import UserFilters, board_layout
from boards.services.config import ColumnSpec, board_columns_set, board_create
from boards.services.moves import MoveOutcome, card_move, card_send_to
from boards.views.rendering import cycle_collector_paused


def _column_pairs(columns: list[dict]) -> list[ColumnSpec]:
    return [(c["name"], c.get("psa_ids") or [], c.get("wip_limit")) for c in columns]


class BoardViewSet(viewsets.ModelViewSet):
    serializer_class = s.BoardSerializer

    def get_queryset(self):
        return boards_for_user(self.request.user).prefetch_related("columns")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        columns = data.pop("columns", None)
        connection = data.pop("connection")
        serializer.instance = board_create(
            connection_id=connection.id,
            user=self.request.user,
            columns=_column_pairs(columns) if columns is not None else None,
            **data,
        )

    def perform_update(self, serializer):
        columns = serializer.validated_data.pop("columns", None)
        with transaction.atomic():
            board = serializer.save()
            if columns is not None:
                board_columns_set(board=board, columns=_column_pairs(columns))

    def perform_destroy(self, instance):
        if not user_is_admin(user=self.request.user, connection_id=instance.connection_id):
            raise PermissionDenied("Only a connection admin may delete boards.")
        instance.delete()

    @extend_schema(responses=s.LayoutColumnSerializer(many=True))
    @action(detail=True, methods=["get"])
    def cards(self, request, pk=None):
        """The board's columns with their cards in rank order (query: member, company, priority, q)."""
        board = self.get_object()
        with cycle_collector_paused():  # see boards/views/rendering.py
            layout = board_layout(board=board, filters=UserFilters.from_query(request.query_params))
            return Response(s.LayoutColumnSerializer(layout, many=True).data)

    @extend_schema(
        request=s.MoveSerializer, responses={200: s.MoveResultSerializer, 409: s.MoveResultSerializer}
    )
    @action(detail=True, methods=["post"])
    def moves(self, request, pk=None):
        """Drop a card: into a column (changes its PSA status) and/or between two cards (rank)."""
        board = self.get_object()
        data = s.validated(s.MoveSerializer, request)
        try:
            outcome = card_move(
                board=board,
                user=request.user,
                psa_id=data["card"],
                column_id=data.get("column"),
                above_psa_id=data.get("above"),
                below_psa_id=data.get("below"),
                status_psa_id=data.get("status"),
            )
        except RankError as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        return _outcome_response(outcome)

    @extend_schema(methods=["get"], responses=s.RankSerializer(many=True))
    @extend_schema(methods=["post"], request=s.SendToSerializer, responses=s.MoveResultSerializer)
    @action(detail=True, methods=["get", "post"])
    def ranks(self, request, pk=None):
        """GET: rank keys of the board's cards. POST: send a card to the top or bottom of its column."""
        board = self.get_object()
        layout = board_layout(board=board)
        if request.method == "GET":
            ids = [card.psa_id for column in layout for card in column.cards]
            rows = CardRank.objects.filter(
                connection_id=board.connection_id, kind=board.rank_kind, psa_id__in=ids
            )
            return Response(
                [{"card": p, "key": k} for p, k in rows.order_by("key").values_list("psa_id", "key")]
            )
        data = s.validated(s.SendToSerializer, request)
        column = next((c for c in layout if any(card.psa_id == data["card"] for card in c.cards)), None)
        if column is None:
            raise ValidationError({"card": "The card is not on this board."})
        outcome = card_send_to(
            board=board,
            user=request.user,
            psa_id=data["card"],
            where=data["to"],
            column_cards=[card.psa_id for card in column.cards],
        )
        return _outcome_response(outcome)


def _outcome_response(outcome: MoveOutcome) -> Response:
    body = {
        "ok": outcome.ok,
        "message": outcome.message,
        "choices": outcome.choices,
        "status_psa_id": outcome.status_psa_id,
        "rank_key": outcome.rank_key,
    }
    return Response(body, status=status.HTTP_200_OK if outcome.ok else status.HTTP_409_CONFLICT)
