"""The demo: a connection to the PSA sandbox, synced, with boards and a user (idempotent).

One demo per provider; `make run` sets up both (one sandbox serves both PSAs on one port) and
the demo user sees both connections."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Count

from boards.models import Board, Member, Membership, RecordKind, ServiceBoard, Ticket
from boards.services.config import board_columns_set, board_create, status_columns_for
from boards.services.psa_member import membership_member_set
from boards.services.users import user_add

DEMO_CONNECTION = "demo"
DEMO_BOARD = "Demo service board"
DEMO_ALL_BOARD = "Demo: all service tickets"
DEMO_AUTOTASK_CONNECTION = "demo-autotask"
DEMO_AUTOTASK_BOARD = "Autotask demo: busiest queue"
DEMO_AUTOTASK_ALL_BOARD = "Autotask demo: all queues"
DEMO_AUTOTASK_PROJECT_BOARD = "Autotask demo: project tasks"
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "topleft-demo"
# The sandbox's credentials (psa/sandbox; tests/boards/test_demo.py keeps them equal).
SANDBOX_CREDENTIALS = {
    "company_id": "sandbox",
    "public_key": "sandbox-public",
    "private_key": "sandbox-private",
    "client_id": "8a0c6f3e-0000-4000-8000-000000000001",
}
AUTOTASK_SANDBOX_CREDENTIALS = {
    "username": "api-user@sandbox.example",
    "secret": "sandbox-secret",
    "integration_code": "SANDBOX0INTEGRATION0CODE001",
}


# A column laid out by status names: (column name, the PSA statuses it shows).
Layout = tuple[tuple[str, tuple[str, ...]], ...]
# An Autotask dispatcher's view of the one global status list: a column may hold several statuses.
AUTOTASK_DISPATCH_LAYOUT: Layout = (
    ("New", ("New",)),
    ("Dispatched", ("Dispatched",)),
    ("In progress", ("In Progress", "Escalate", "Change Order")),
    ("Customer replied", ("Customer Note Added",)),
    ("Waiting", ("Waiting Customer", "Waiting Materials", "Waiting Vendor", "Waiting Approval", "On Hold")),
    ("Complete", ("Complete",)),
)

# Project tasks move through fewer steps: the same global list, folded into four columns.
AUTOTASK_TASK_LAYOUT: Layout = (
    ("New", ("New",)),
    ("In progress", ("In Progress", "Dispatched", "Escalate", "Change Order")),
    (
        "Waiting",
        (
            "Waiting Customer",
            "Waiting Materials",
            "Waiting Vendor",
            "Waiting Approval",
            "On Hold",
            "Customer Note Added",
        ),
    ),
    ("Complete", ("Complete",)),
)


@dataclass(frozen=True)
class DemoBoard:
    name: str
    kind: str = RecordKind.SERVICE
    busiest_only: bool = False  # over the busiest PSA board (queue) only, else all of them
    layout: Layout = ()  # columns by status names; empty: one column per status


@dataclass(frozen=True)
class DemoSpec:
    """What one provider's demo is: its connection, how its credentials follow from the sandbox's
    URL, the tiers of its first sync, and its boards."""

    connection: str
    credentials: Callable[[str], dict]
    tiers: tuple[str, ...]
    boards: tuple[DemoBoard, ...]


DEMOS = {
    "connectwise": DemoSpec(
        connection=DEMO_CONNECTION,
        credentials=lambda url: {"site_url": url, **SANDBOX_CREDENTIALS},
        # Notes too: the card dialog shows each ticket's description and thread from the start.
        tiers=("reference", "core", "notes"),
        boards=(DemoBoard(DEMO_BOARD, busiest_only=True), DemoBoard(DEMO_ALL_BOARD)),
    ),
    "autotask": DemoSpec(
        connection=DEMO_AUTOTASK_CONNECTION,
        # The sandbox answers zone discovery itself (psa/sandbox/autotask/sandbox.py zone_url).
        credentials=lambda url: {
            **AUTOTASK_SANDBOX_CREDENTIALS,
            "zone_url": f"{url.rstrip('/')}/ATServicesRest/",
        },
        # Autotask's notes and time entries are reference entities whose resources arrive with
        # core: a second reference run names their authors (later runs ride the changes tier).
        tiers=("reference", "core", "reference", "changes"),
        boards=(
            DemoBoard(DEMO_AUTOTASK_BOARD, busiest_only=True, layout=AUTOTASK_DISPATCH_LAYOUT),
            DemoBoard(DEMO_AUTOTASK_ALL_BOARD),
            DemoBoard(DEMO_AUTOTASK_PROJECT_BOARD, kind=RecordKind.PROJECT, layout=AUTOTASK_TASK_LAYOUT),
        ),
    ),
}


@dataclass
class DemoResult:
    connection_id: int
    board_ids: list[int]
    username: str
    password: str


def demo_setup(
    *, sandbox_url: str, sync: bool = True, password: str = DEMO_PASSWORD, provider: str = "connectwise"
) -> DemoResult:
    from sync.engine.services import sync_tier  # the engine pulls in the PSA client stack
    from sync.services.connections import connection_upsert

    try:
        spec = DEMOS[provider]
    except KeyError:
        raise ValueError(f"no demo for provider {provider!r}; choose from {', '.join(DEMOS)}") from None
    connection, _ = connection_upsert(
        name=spec.connection, provider=provider, credentials=spec.credentials(sandbox_url)
    )
    if sync:
        for tier in spec.tiers:
            sync_tier(connection_id=connection.id, tier=tier)
    busiest = _busiest_service_board(connection.id)
    boards = [
        _board_ensure(connection.id, demo, [busiest] if busiest and demo.busiest_only else [])
        for demo in spec.boards
    ]
    user, _ = user_add(
        username=DEMO_USERNAME, password=password, connection_name=spec.connection, role=Membership.Role.ADMIN
    )
    _demo_member_link(user=user, connection_id=connection.id)
    return DemoResult(
        connection_id=connection.id,
        board_ids=[b.id for b in boards],
        username=DEMO_USERNAME,
        password=password,
    )


def _busiest_service_board(connection_id: int) -> int | None:
    """The service board (queue) with the most open tickets makes the liveliest demo."""
    project_boards = ServiceBoard.objects.filter(connection_id=connection_id, project_flag=True).values(
        "psa_id"
    )
    row = (
        Ticket.objects.filter(connection_id=connection_id, kind=Ticket.Kind.SERVICE, closed=False)
        .exclude(board_psa_id__in=project_boards)
        .exclude(board_psa_id=None)
        .values("board_psa_id")
        .annotate(n=Count("id"))
        .order_by("-n", "board_psa_id")
        .first()
    )
    return row["board_psa_id"] if row else None


def _board_ensure(connection_id: int, demo: DemoBoard, psa_board_ids: list[int]) -> Board:
    board = Board.objects.filter(connection_id=connection_id, name=demo.name).first()
    if board is None:
        return board_create(
            connection_id=connection_id,
            name=demo.name,
            kind=demo.kind,
            psa_board_ids=psa_board_ids,
            columns=_columns(connection_id, demo, psa_board_ids),
        )
    if not board.columns.exists():  # created before the first sync brought statuses
        board_columns_set(board=board, columns=_columns(connection_id, demo, psa_board_ids))
    return board


def _columns(connection_id: int, demo: DemoBoard, psa_board_ids: list[int]) -> list[tuple[str, list[int]]]:
    """The demo board's columns: its layout's (each status name the PSA has), or one per status."""
    by_name = status_columns_for(connection_id=connection_id, kind=demo.kind, psa_board_ids=psa_board_ids)
    if not demo.layout:
        return by_name
    ids_of = dict(by_name)
    columns = [(column, [i for name in names for i in ids_of.get(name, [])]) for column, names in demo.layout]
    return [(column, ids) for column, ids in columns if ids]


def _demo_member_link(*, user, connection_id: int) -> None:
    """The demo user works as the PSA's first active member who owns a ticket (a technician, not
    the integration's own API user), so notes and time entries written in the demo have an author
    (a choice made on "My PSA member" is kept)."""
    membership = Membership.objects.get(user=user, connection_id=connection_id)
    members = Member.objects.filter(connection_id=connection_id, inactive=False).order_by("psa_id")
    owners = Ticket.objects.filter(connection_id=connection_id).values("owner_psa_id")
    first = members.filter(psa_id__in=owners).first() or members.first()
    if membership.member_psa_id is None and first is not None:
        membership_member_set(membership=membership, member=first)
