"""Creating boards and laying out their columns from the PSA's statuses."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from boards.models import Board, BoardColumn, BoardStatus, OpportunityStage, OpportunityStatus, ServiceBoard
from boards.models.board import Indicator, RecordKind

DEFAULT_INDICATORS = [Indicator.AGE, Indicator.TIME_IN_STATUS, Indicator.SLA, Indicator.CUSTOMER_UPDATED]


def opportunity_column_model(column_source: str) -> type[OpportunityStage] | type[OpportunityStatus]:
    """The PSA list an opportunity board's columns are built from: stages or statuses."""
    return OpportunityStage if column_source == Board.ColumnSource.STAGE else OpportunityStatus


def status_columns_for(
    *,
    connection_id: int,
    record_kind: str,
    column_source: str = "status",
    psa_board_ids: list[int] | None = None,
) -> list[tuple[str, list[int]]]:
    """One column per distinct status name (in PSA sort order), mapped to that name's ids.

    Statuses of different service boards share names ("New", "Closed"): grouping by name lets
    one board span several PSA boards.
    """
    if record_kind == RecordKind.OPPORTUNITY:
        if opportunity_column_model(column_source) is OpportunityStage:  # the PSA's own order
            stages = OpportunityStage.objects.filter(connection_id=connection_id, inactive=False)
            return [(s.name, [s.psa_id]) for s in stages.order_by("sort_order", "name")]
        rows = OpportunityStatus.objects.filter(connection_id=connection_id, inactive=False)
        return [(r.name, [r.psa_id]) for r in rows]
    if not psa_board_ids:
        psa_board_ids = list(
            ServiceBoard.objects.filter(
                connection_id=connection_id, inactive=False, project_flag=(record_kind == RecordKind.PROJECT)
            ).values_list("psa_id", flat=True)
        )
    statuses = BoardStatus.objects.filter(
        connection_id=connection_id, board_psa_id__in=psa_board_ids, inactive=False
    ).order_by("sort_order", "name")
    columns: dict[str, list[int]] = {}
    for status in statuses:
        columns.setdefault(status.name, []).append(status.psa_id)
    return list(columns.items())


@transaction.atomic
def board_create(
    *,
    connection_id: int,
    name: str,
    record_kind: str = RecordKind.SERVICE,
    user=None,
    column_source: str = Board.ColumnSource.STATUS,
    psa_board_ids: list[int] | None = None,
    columns: list[tuple[str, list[int]]] | None = None,
    **options,
) -> Board:
    """A board with the given columns, or one column per PSA status when none are given."""
    board = Board.objects.create(
        connection_id=connection_id,
        name=name,
        record_kind=record_kind,
        column_source=column_source,
        psa_board_ids=list(psa_board_ids or []),
        created_by=user if getattr(user, "pk", None) else None,
        indicators=options.pop("indicators", [str(i) for i in DEFAULT_INDICATORS]),
        **options,
    )
    if columns is None:
        columns = status_columns_for(
            connection_id=connection_id,
            record_kind=record_kind,
            column_source=column_source,
            psa_board_ids=psa_board_ids,
        )
    board_columns_set(board=board, columns=columns)
    return board


@transaction.atomic
def board_columns_set(*, board: Board, columns: list[tuple[str, list[int]]]) -> list[BoardColumn]:
    """Replace the board's columns, in order."""
    board.columns.all().delete()
    created = BoardColumn.objects.bulk_create(
        [
            BoardColumn(board=board, name=name, position=i, psa_ids=[int(x) for x in ids])
            for i, (name, ids) in enumerate(columns)
        ]
    )
    # Open boards key their live ETag on updated_at: a new layout must reach them.
    Board.objects.filter(pk=board.pk).update(updated_at=timezone.now())
    return created
