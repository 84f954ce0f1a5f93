"""Creating boards and laying out their columns from the PSA's statuses."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from boards.models import Board, BoardColumn, BoardStatus, OpportunityStage, OpportunityStatus, ServiceBoard
from boards.models.board import STAGE_ONLY_ON_OPPORTUNITIES, Indicator, RecordKind
from boards.services.status_rules import board_statuses

# A column as configured: name, PSA status (or stage) ids, and optionally its WIP limit.
ColumnSpec = tuple[str, list[int]] | tuple[str, list[int], int | None]

DEFAULT_INDICATORS = [Indicator.AGE, Indicator.TIME_IN_STATUS, Indicator.SLA, Indicator.CUSTOMER_UPDATED]


def opportunity_column_model(column_source: str) -> type[OpportunityStage] | type[OpportunityStatus]:
    """The PSA list an opportunity board's columns are built from: stages or statuses."""
    return OpportunityStage if column_source == Board.ColumnSource.STAGE else OpportunityStatus


def board_statuses_offered(
    *, connection_id: int, kind: str, column_source: str, psa_board_ids: list[int]
) -> dict[int, tuple[str, int | None]]:
    """The statuses (or stages) a board's columns may use: {psa id: (label, PSA board id)}.

    Ticket boards: the statuses of the chosen PSA boards, or of every PSA board of the board's
    kind (service or project) when none is chosen. Opportunity boards: the connection's
    opportunity statuses, or its stages for a stage-laid board."""
    if kind == RecordKind.OPPORTUNITY:
        model = opportunity_column_model(column_source)
        rows = model.objects.filter(connection_id=connection_id).values_list("psa_id", "name")
        return {psa_id: (name, None) for psa_id, name in rows}
    boards = ServiceBoard.objects.filter(connection_id=connection_id)
    if psa_board_ids:
        boards = boards.filter(psa_id__in=psa_board_ids)
    else:
        boards = boards.filter(project_flag=kind == RecordKind.PROJECT)
    names = dict(boards.values_list("psa_id", "name"))
    statuses = board_statuses(connection_id=connection_id, psa_board_ids=list(names)).order_by(
        "board_psa_id", "sort_order", "name"
    )
    return {
        s.psa_id: (status_label(s.name, names.get(s.board_psa_id)), s.board_psa_id)
        for s in statuses.only("psa_id", "name", "board_psa_id")
    }


def status_label(name: str, board_name: str | None) -> str:
    """“Board: status” where a status belongs to one PSA board (ConnectWise); the bare name where
    the PSA's statuses are one global list (Autotask) or the board is not mirrored."""
    return f"{board_name}: {name}" if board_name else name


def board_column_problems(
    *,
    connection_id: int,
    kind: str,
    column_source: str,
    psa_board_ids: list[int],
    columns: Sequence[ColumnSpec],
) -> list[str]:
    """What is wrong with a column layout, in words a dispatcher understands (empty: fine)."""
    if column_source == Board.ColumnSource.STAGE and kind != RecordKind.OPPORTUNITY:
        return [STAGE_ONLY_ON_OPPORTUNITIES]
    if not columns:
        return ["Add at least one column: a board without columns shows no cards."]
    offered = board_statuses_offered(
        connection_id=connection_id,
        kind=kind,
        column_source=column_source,
        psa_board_ids=psa_board_ids,
    )
    what = "stage" if column_source == Board.ColumnSource.STAGE else "status"
    problems: list[str] = []
    seen_names: set[str] = set()
    first_column_of: dict[int, str] = {}
    for spec in columns:
        name, ids = spec[0], [int(i) for i in spec[1]]
        if name.casefold() in seen_names:
            problems.append(f"Two columns are called “{name}”; give each column its own name.")
        seen_names.add(name.casefold())
        if not ids:
            problems.append(f"Column “{name}” has no {what}: pick at least one, or remove the column.")
        foreign = [i for i in ids if i not in offered]
        if foreign:
            problems.append(
                _foreign_statuses_problem(connection_id, name, foreign, what, bool(psa_board_ids))
            )
        for psa_id in ids:
            if psa_id in first_column_of and first_column_of[psa_id] != name:
                label = offered.get(psa_id, (str(psa_id), None))[0]
                problems.append(
                    f"“{label}” is in both “{first_column_of[psa_id]}” and “{name}”; "
                    f"a {what} can be in one column only."
                )
            first_column_of.setdefault(psa_id, name)
    return problems


def _foreign_statuses_problem(
    connection_id: int, column: str, ids: list[int], what: str, boards_chosen: bool
) -> str:
    statuses = BoardStatus.objects.filter(connection_id=connection_id, psa_id__in=ids)
    boards = dict(ServiceBoard.objects.filter(connection_id=connection_id).values_list("psa_id", "name"))
    labels = {s.psa_id: status_label(s.name, boards.get(s.board_psa_id)) for s in statuses}
    shown = ", ".join(f"“{labels.get(i, i)}”" for i in ids)
    if boards_chosen and what == "status":
        return (
            f"Column “{column}” uses {shown}, which belong to PSA boards this board does not show. "
            "Add those PSA boards above, or take the statuses out of the column."
        )
    return f"Column “{column}” uses {shown}, which this board cannot show; take it out of the column."


def status_columns_for(
    *,
    connection_id: int,
    kind: str,
    column_source: str = "status",
    psa_board_ids: list[int] | None = None,
) -> list[tuple[str, list[int]]]:
    """One column per distinct status name (in PSA sort order, closing ones last), mapped to that
    name's ids.

    Statuses of different service boards share names ("New", "Closed"): grouping by name lets
    one board span several PSA boards.
    """
    if kind == RecordKind.OPPORTUNITY:
        if opportunity_column_model(column_source) is OpportunityStage:  # the PSA's own order
            stages = OpportunityStage.objects.filter(connection_id=connection_id, inactive=False)
            return [(s.name, [s.psa_id]) for s in stages.order_by("sort_order", "name")]
        rows = OpportunityStatus.objects.filter(connection_id=connection_id, inactive=False)
        return [(r.name, [r.psa_id]) for r in rows]
    if not psa_board_ids:
        psa_board_ids = list(
            ServiceBoard.objects.filter(
                connection_id=connection_id, inactive=False, project_flag=(kind == RecordKind.PROJECT)
            ).values_list("psa_id", flat=True)
        )
    statuses = board_statuses(connection_id=connection_id, psa_board_ids=psa_board_ids).filter(inactive=False)
    # Closing statuses last, whatever the PSA's sort order (Autotask's Complete is value 5).
    statuses = statuses.order_by("closed_status", "sort_order", "name")
    columns: dict[str, list[int]] = {}
    for status in statuses:
        columns.setdefault(status.name, []).append(status.psa_id)
    return list(columns.items())


@transaction.atomic
def board_create(
    *,
    connection_id: int,
    name: str,
    kind: str = RecordKind.SERVICE,
    user=None,
    column_source: str = Board.ColumnSource.STATUS,
    psa_board_ids: list[int] | None = None,
    columns: Sequence[ColumnSpec] | None = None,
    **options,
) -> Board:
    """A board with the given columns, or one column per PSA status when none are given."""
    if column_source == Board.ColumnSource.STAGE and kind != RecordKind.OPPORTUNITY:
        raise ValidationError(STAGE_ONLY_ON_OPPORTUNITIES)
    board = Board.objects.create(
        connection_id=connection_id,
        name=name,
        kind=kind,
        column_source=column_source,
        psa_board_ids=list(psa_board_ids or []),
        created_by=user if getattr(user, "pk", None) else None,
        indicators=options.pop("indicators", [str(i) for i in DEFAULT_INDICATORS]),
        **options,
    )
    if columns is None:
        columns = status_columns_for(
            connection_id=connection_id,
            kind=kind,
            column_source=column_source,
            psa_board_ids=psa_board_ids,
        )
    board_columns_set(board=board, columns=columns)
    return board


@transaction.atomic
def board_columns_set(*, board: Board, columns: Sequence[ColumnSpec]) -> list[BoardColumn]:
    """Replace the board's columns, in order."""
    board.columns.all().delete()
    created = BoardColumn.objects.bulk_create(
        [
            BoardColumn(
                board=board,
                name=spec[0],
                position=i,
                psa_ids=[int(x) for x in spec[1]],
                wip_limit=spec[2] if len(spec) > 2 else None,
            )
            for i, spec in enumerate(columns)
        ]
    )
    # Open boards key their live ETag on updated_at: a new layout must reach them.
    Board.objects.filter(pk=board.pk).update(updated_at=timezone.now())
    return created
