"""The demo: a connection to the PSA sandbox, synced, with boards and a user (idempotent)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count

from boards.models import Board, Member, Membership, RecordKind, ServiceBoard, Ticket
from boards.services.config import board_columns_set, board_create, status_columns_for
from boards.services.psa_member import membership_member_set
from boards.services.users import user_add

DEMO_CONNECTION = "demo"
DEMO_BOARD = "Demo service board"
DEMO_ALL_BOARD = "Demo: all service tickets"
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "topleft-demo"
# The sandbox's credentials (psa/sandbox).
SANDBOX_CREDENTIALS = {
    "company_id": "sandbox",
    "public_key": "sandbox-public",
    "private_key": "sandbox-private",
    "client_id": "8a0c6f3e-0000-4000-8000-000000000001",
}


@dataclass
class DemoResult:
    connection_id: int
    board_ids: list[int]
    username: str
    password: str


def demo_setup(*, sandbox_url: str, sync: bool = True, password: str = DEMO_PASSWORD) -> DemoResult:
    from sync.engine.services import sync_tier  # the engine pulls in the PSA client stack
    from sync.services.connections import connection_upsert

    connection, _ = connection_upsert(
        name=DEMO_CONNECTION,
        provider="connectwise",
        credentials={"site_url": sandbox_url, **SANDBOX_CREDENTIALS},
    )
    if sync:
        # Notes too: the card dialog shows each ticket's description and thread from the start.
        for tier in ("reference", "core", "notes"):
            sync_tier(connection_id=connection.id, tier=tier)
    busiest = _busiest_service_board(connection.id)
    boards = [
        _board_ensure(connection.id, DEMO_BOARD, [busiest] if busiest else []),
        _board_ensure(connection.id, DEMO_ALL_BOARD, []),
    ]
    user, _ = user_add(
        username=DEMO_USERNAME, password=password, connection_name=DEMO_CONNECTION, role=Membership.Role.ADMIN
    )
    _demo_member_link(user=user, connection_id=connection.id)
    return DemoResult(
        connection_id=connection.id,
        board_ids=[b.id for b in boards],
        username=DEMO_USERNAME,
        password=password,
    )


def _busiest_service_board(connection_id: int) -> int | None:
    """The service board with the most open tickets makes the liveliest demo."""
    project_boards = ServiceBoard.objects.filter(connection_id=connection_id, project_flag=True).values(
        "psa_id"
    )
    row = (
        Ticket.objects.filter(connection_id=connection_id, kind=Ticket.Kind.SERVICE, closed=False)
        .exclude(board_psa_id__in=project_boards)
        .values("board_psa_id")
        .annotate(n=Count("id"))
        .order_by("-n", "board_psa_id")
        .first()
    )
    return row["board_psa_id"] if row else None


def _board_ensure(connection_id: int, name: str, psa_board_ids: list[int]) -> Board:
    board = Board.objects.filter(connection_id=connection_id, name=name).first()
    if board is None:
        return board_create(
            connection_id=connection_id,
            name=name,
            record_kind=RecordKind.SERVICE,
            psa_board_ids=psa_board_ids,
        )
    if not board.columns.exists():  # created before the first sync brought statuses
        board_columns_set(
            board=board,
            columns=status_columns_for(
                connection_id=connection_id, record_kind=RecordKind.SERVICE, psa_board_ids=psa_board_ids
            ),
        )
    return board


def _demo_member_link(*, user, connection_id: int) -> None:
    """The demo user works as the PSA's first active member, so notes and time entries written in
    the demo have an author (a choice made on "My PSA member" is kept)."""
    membership = Membership.objects.get(user=user, connection_id=connection_id)
    first = Member.objects.filter(connection_id=connection_id, inactive=False).order_by("psa_id").first()
    if membership.member_psa_id is None and first is not None:
        membership_member_set(membership=membership, member=first)
