"""API shapes for boards, cards, moves and ranks."""

from __future__ import annotations

from rest_framework import serializers

from boards.models import Board, BoardColumn, Indicator, RecordKind
from boards.models.board import STAGE_ONLY_ON_OPPORTUNITIES
from boards.services.access import user_connection_ids
from boards.services.config import board_column_problems


def validated(serializer_class, request) -> dict:
    """The request body checked by `serializer_class` (a 400 with the field errors otherwise)."""
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ColumnSerializer(serializers.ModelSerializer):
    psa_ids = serializers.ListField(child=serializers.IntegerField(), allow_empty=True)
    wip_limit = serializers.IntegerField(min_value=1, required=False, allow_null=True)

    class Meta:
        model = BoardColumn
        fields = ["id", "name", "position", "psa_ids", "wip_limit"]
        read_only_fields = ["id", "position"]


def _int_list():
    return serializers.ListField(child=serializers.IntegerField(), required=False)


class BoardSerializer(serializers.ModelSerializer):
    columns = ColumnSerializer(many=True, required=False)
    psa_board_ids = _int_list()
    company_ids = _int_list()
    priority_ids = _int_list()
    team_ids = _int_list()
    project_ids = _int_list()
    member_identifiers = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    indicators = serializers.ListField(child=serializers.ChoiceField(Indicator.choices), required=False)

    class Meta:
        model = Board
        fields = [
            "id",
            "connection",
            "name",
            "kind",
            "column_source",
            *Board.SETTINGS_FIELDS,
            "columns",
            "updated_at",
        ]
        read_only_fields = ["id", "updated_at"]

    def validate_connection(self, connection):
        # Another tenant's connection is indistinguishable from a missing one.
        if connection.id not in user_connection_ids(self.context["request"].user):
            raise serializers.ValidationError("Unknown connection.")
        return connection

    def validate(self, attrs):
        if (
            self.instance is not None
            and "connection" in attrs
            and attrs["connection"] != self.instance.connection
        ):
            raise serializers.ValidationError({"connection": "A board cannot move to another connection."})
        return _checked_layout(self.instance, attrs)


def _checked_layout(instance: Board | None, attrs: dict) -> dict:
    """Refuse what the column mapper refuses: stage columns on ticket boards, statuses of PSA boards
    the board does not show, a status in two columns, unnamed or empty columns."""

    def current(name: str, default):
        return attrs.get(name, getattr(instance, name, default) if instance is not None else default)

    kind, column_source = current("kind", "service"), current("column_source", "status")
    if column_source == Board.ColumnSource.STAGE and kind != RecordKind.OPPORTUNITY:
        raise serializers.ValidationError({"column_source": STAGE_ONLY_ON_OPPORTUNITIES})
    if attrs.get("columns") is None:
        return attrs  # the columns are not changing (or are generated from the PSA on create)
    connection = current("connection", None)
    problems = board_column_problems(
        connection_id=connection.id,
        kind=kind,
        column_source=column_source,
        psa_board_ids=current("psa_board_ids", []),
        columns=[(c["name"], c.get("psa_ids") or [], c.get("wip_limit")) for c in attrs["columns"]],
    )
    if problems:
        raise serializers.ValidationError({"columns": problems})
    return attrs


class CardSerializer(serializers.Serializer):
    psa_id = serializers.IntegerField()
    summary = serializers.CharField()
    company = serializers.CharField()
    priority = serializers.CharField()
    people = serializers.ListField(child=serializers.CharField())
    status_name = serializers.CharField()
    psa_board_name = serializers.CharField()
    customer_updated = serializers.BooleanField()
    writeback_error = serializers.CharField()
    write_kind = serializers.CharField(help_text="pending | delayed | saved, or empty")
    indicators = serializers.SerializerMethodField()

    def get_indicators(self, card) -> list[dict]:
        return [{"kind": kind, "text": text, "level": level} for kind, text, level in card.indicators]


class LayoutColumnSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    psa_ids = serializers.ListField(child=serializers.IntegerField())
    wip_limit = serializers.IntegerField(allow_null=True)
    over_limit = serializers.BooleanField()
    cards = CardSerializer(many=True)


class MoveSerializer(serializers.Serializer):
    card = serializers.IntegerField(help_text="PSA id of the moved card")
    column = serializers.IntegerField(required=False, allow_null=True, help_text="Target column id")
    above = serializers.IntegerField(required=False, allow_null=True, help_text="Card now directly above")
    below = serializers.IntegerField(required=False, allow_null=True, help_text="Card now directly below")
    status = serializers.IntegerField(
        required=False, allow_null=True, help_text="Chosen PSA status/stage when the column has several"
    )


class MoveResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    message = serializers.CharField(allow_blank=True)
    choices = serializers.ListField(child=serializers.DictField())
    status_psa_id = serializers.IntegerField(allow_null=True)
    rank_key = serializers.CharField(allow_null=True)


class RankSerializer(serializers.Serializer):
    card = serializers.IntegerField()
    key = serializers.CharField()


class SendToSerializer(serializers.Serializer):
    card = serializers.IntegerField()
    to = serializers.ChoiceField(choices=["top", "bottom"])


class NoteSerializer(serializers.Serializer):
    psa_id = serializers.IntegerField(read_only=True)
    text = serializers.CharField(max_length=10000)
    internal = serializers.BooleanField(default=False)
    created_by = serializers.CharField(read_only=True)
    date_created = serializers.DateTimeField(read_only=True)


class TimeEntrySerializer(serializers.Serializer):
    member = serializers.IntegerField(
        required=False, allow_null=True, help_text="PSA member id; omitted: the caller's own PSA member"
    )
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    status = serializers.IntegerField(required=False, allow_null=True, help_text="Also change the status")


class ResourceSerializer(serializers.Serializer):
    member = serializers.IntegerField(help_text="PSA member id")
    action = serializers.ChoiceField(choices=["add", "remove"])


class PrioritySerializer(serializers.Serializer):
    priority = serializers.IntegerField(help_text="PSA priority id")


class CloseSerializer(serializers.Serializer):
    status = serializers.IntegerField(required=False, allow_null=True)
