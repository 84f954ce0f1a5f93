"""demo_setup --provider autotask against the Autotask sandbox, and what a board on an Autotask
connection offers: queues as PSA boards, the one global status list (a column may hold several
of its statuses), the Complete status closing a card, priorities coloured by their order, and
the demo user seeing both demo connections."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from boards.models import Board, BoardStatus, Membership, Priority, ServiceBoard, Ticket
from boards.services.actions import closing_statuses
from boards.services.config import board_statuses_offered
from boards.services.demo import (
    AUTOTASK_DISPATCH_LAYOUT,
    AUTOTASK_SANDBOX_CREDENTIALS,
    DEMO_AUTOTASK_ALL_BOARD,
    DEMO_AUTOTASK_BOARD,
    DEMO_AUTOTASK_CONNECTION,
    DEMO_AUTOTASK_PROJECT_BOARD,
    demo_setup,
)
from boards.services.priority_colors import NAMED, priority_colours
from boards.services.status_rules import ticket_statuses
from sync.models import Connection

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def sandbox():
    from psa.sandbox.autotask import AutotaskSandbox

    with AutotaskSandbox(scale="tiny", seed=3) as running:
        yield running


@pytest.fixture
def demo(sandbox):
    return demo_setup(sandbox_url=sandbox.url, provider="autotask")


def test_it_sets_up_the_autotask_demo_idempotently(sandbox, capsys):
    call_command("demo_setup", "--sandbox-url", sandbox.url, "--provider", "autotask")
    call_command("demo_setup", "--sandbox-url", sandbox.url, "--provider", "autotask")
    assert "Demo ready (autotask)." in capsys.readouterr().out
    connection = Connection.objects.get()
    assert (connection.name, connection.provider) == (DEMO_AUTOTASK_CONNECTION, "autotask")
    assert connection.credentials == sandbox.credentials  # zone discovery at the sandbox itself
    boards = {b.name: b for b in Board.objects.filter(connection=connection)}
    assert set(boards) == {DEMO_AUTOTASK_BOARD, DEMO_AUTOTASK_ALL_BOARD, DEMO_AUTOTASK_PROJECT_BOARD}
    membership = Membership.objects.get(connection=connection, user__username="demo")
    assert membership.role == "admin" and membership.member_psa_id is not None
    client = Client()
    assert (
        client.post("/accounts/login/", {"username": "demo", "password": "topleft-demo"}).status_code == 302
    )
    for board in boards.values():
        columns = client.get(f"/api/boards/{board.id}/cards/").json()
        assert sum(len(c["cards"]) for c in columns) > 0, board.name


def test_the_demo_credentials_are_the_sandbox_defaults(sandbox):
    assert {k: v for k, v in sandbox.credentials.items() if k != "zone_url"} == AUTOTASK_SANDBOX_CREDENTIALS


def test_the_busiest_queue_board_maps_several_global_statuses_to_one_column(demo):
    board = Board.objects.get(name=DEMO_AUTOTASK_BOARD)
    [queue] = board.psa_board_ids
    assert ServiceBoard.objects.filter(connection_id=demo.connection_id, psa_id=queue).exists()
    names = dict(BoardStatus.objects.filter(connection_id=demo.connection_id).values_list("psa_id", "name"))
    columns = {c.name: sorted(names[i] for i in c.psa_ids) for c in board.columns.all()}
    assert columns == {name: sorted(statuses) for name, statuses in AUTOTASK_DISPATCH_LAYOUT}
    assert Ticket.objects.filter(connection_id=demo.connection_id, board_psa_id=queue).exists()


def test_a_board_on_autotask_offers_the_global_status_list_whatever_the_queues(demo):
    statuses = BoardStatus.objects.filter(connection_id=demo.connection_id)
    assert statuses.exists() and not statuses.exclude(board_psa_id=None).exists()  # one global list
    queues = list(
        ServiceBoard.objects.filter(connection_id=demo.connection_id).values_list("psa_id", flat=True)
    )
    for chosen in ([queues[0]], queues[1:3], []):
        offered = board_statuses_offered(
            connection_id=demo.connection_id,
            kind="service",
            column_source="status",
            psa_board_ids=chosen,
        )
        assert set(offered) == set(statuses.values_list("psa_id", flat=True))
        assert all(board is None and ":" not in label for label, board in offered.values())  # bare names
    ticket = Ticket.objects.filter(connection_id=demo.connection_id, kind="service", closed=False).first()
    allowed = set(
        ticket_statuses(connection_id=demo.connection_id, ticket=ticket).values_list("psa_id", flat=True)
    )
    assert allowed == set(statuses.filter(inactive=False).values_list("psa_id", flat=True))


def test_complete_closes_tickets_and_tasks(demo):
    complete = BoardStatus.objects.get(connection_id=demo.connection_id, name="Complete")
    assert complete.closed_status
    for name, kind in ((DEMO_AUTOTASK_ALL_BOARD, "service"), (DEMO_AUTOTASK_PROJECT_BOARD, "project")):
        board = Board.objects.get(name=name)
        card = Ticket.objects.filter(connection_id=demo.connection_id, kind=kind, closed=False).first()
        assert closing_statuses(board=board, card=card) == [{"id": complete.psa_id, "name": "Complete"}]


def test_autotask_priorities_are_coloured_by_their_order(demo):
    order = list(
        Priority.objects.filter(connection_id=demo.connection_id, inactive=False)
        .order_by("sort_order", "psa_id")
        .values_list("name", "psa_id")
    )
    assert not Priority.objects.filter(connection_id=demo.connection_id).exclude(color="").exists()
    colours = priority_colours(connection_id=demo.connection_id)
    assert [colours[psa_id] for _name, psa_id in order[:2]] == [NAMED["red"], NAMED["orange"]]
    assert order[0][0] == "Critical"


def test_the_demo_user_sees_the_connectwise_and_the_autotask_demo(sandbox):
    from psa.sandbox.connectwise.server import SandboxServer

    connectwise = SandboxServer(scale="tiny", seed=3).start()
    try:
        demo_setup(sandbox_url=connectwise.url)
        demo_setup(sandbox_url=sandbox.url, provider="autotask")
    finally:
        connectwise.stop()
    providers = set(
        Membership.objects.filter(user__username="demo").values_list("connection__provider", flat=True)
    )
    assert providers == {"connectwise", "autotask"}
    client = Client()
    client.post("/accounts/login/", {"username": "demo", "password": "topleft-demo"})
    page = client.get("/boards/").content.decode()
    assert DEMO_AUTOTASK_BOARD in page and "Demo service board" in page


def test_the_demo_user_works_as_a_technician_not_the_api_user(demo):
    from psa.sandbox.autotask.data import API_USER_ID

    membership = Membership.objects.get(connection_id=demo.connection_id, user__username="demo")
    assert membership.member_psa_id != API_USER_ID
    assert Ticket.objects.filter(
        connection_id=demo.connection_id, owner_psa_id=membership.member_psa_id
    ).exists()


def test_an_all_queues_board_lays_out_every_active_status_with_complete_last(demo):
    board = Board.objects.get(name=DEMO_AUTOTASK_ALL_BOARD)
    names = [c.name for c in board.columns.all()]
    active = BoardStatus.objects.filter(connection_id=demo.connection_id, inactive=False)
    assert sorted(names) == sorted(active.values_list("name", flat=True))
    assert names[-1] == "Complete" and names[0] == "New"


def test_the_card_dialog_shows_the_autotask_description_and_notes_without_fetching(demo, sandbox):
    from boards.services.card_detail import card_thread

    ticket = next(
        t
        for t in Ticket.objects.filter(connection_id=demo.connection_id, kind="service").order_by("psa_id")
        if (sandbox.store.get("Tickets", t.psa_id) or {}).get("description")
    )
    thread = card_thread(connection_id=demo.connection_id, card=ticket)
    assert not thread.fetching  # Autotask's notes ride the tiers and webhooks with the ticket
    assert thread.description.text == sandbox.store.get("Tickets", ticket.psa_id)["description"].strip()
    with_notes = next(
        t
        for t in Ticket.objects.filter(connection_id=demo.connection_id, kind="service").order_by("psa_id")
        if card_thread(connection_id=demo.connection_id, card=t).notes
    )
    notes = card_thread(connection_id=demo.connection_id, card=with_notes).notes
    assert all(n.author for n in notes)  # each note names its resource


def test_an_autotask_board_speaks_of_resources_and_queues(demo):
    board = Board.objects.get(name=DEMO_AUTOTASK_BOARD)
    ticket = Ticket.objects.filter(
        connection_id=demo.connection_id, board_psa_id=board.psa_board_ids[0]
    ).first()
    client = Client()
    client.post("/accounts/login/", {"username": "demo", "password": "topleft-demo"})
    dialog = client.get(f"/boards/{board.id}/cards/{ticket.psa_id}/").content.decode()
    assert '<label>Resource <select name="member">' in dialog and 'aria-label="Resource"' in dialog
    assert ">Member<" not in dialog and 'aria-label="Member"' not in dialog
    page = client.get(f"/boards/{board.id}/").content.decode()
    assert "<label>Resource <select" in page and "<label>Member" not in page
    settings = client.get(f"/boards/{board.id}/edit/").content.decode()
    assert "<label>Queues " in settings and "<label>Resources " in settings and "PSA boards" not in settings
    assert "<label>Teams " not in settings  # Autotask has no teams: nothing to pick, no picker
    tasks = Board.objects.get(name=DEMO_AUTOTASK_PROJECT_BOARD)
    settings = client.get(f"/boards/{tasks.id}/edit/").content.decode()
    assert "<label>Queues " not in settings and "<label>Projects " in settings  # tasks sit in projects


def test_a_project_task_card_names_its_project(demo):
    from boards.services.cards import board_layout

    board = Board.objects.get(name=DEMO_AUTOTASK_PROJECT_BOARD)
    assert [c.name for c in board.columns.all()] == ["New", "In progress", "Waiting", "Complete"]
    cards = [card for column in board_layout(board=board) for card in column.cards]
    assert cards and all(card.psa_board_name for card in cards)  # no queue: the project instead
    projects = set(
        Ticket.objects.filter(connection_id=demo.connection_id, kind="project").values_list(
            "project_name", flat=True
        )
    )
    assert {card.psa_board_name for card in cards} <= projects


def test_it_refuses_a_zone_url_that_is_neither_https_nor_loopback():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="https is required"):
        call_command(
            "demo_setup",
            "--sandbox-url",
            "http://sandbox.example.com:8765",
            "--provider",
            "autotask",
            "--no-sync",
        )
    assert not Connection.objects.exists()


def test_a_drop_on_a_column_of_several_statuses_asks_which_then_queues_it(demo):
    from django.contrib.auth import get_user_model

    from boards.services.moves import card_move
    from sync.models import OutboxEntry

    board = Board.objects.get(name=DEMO_AUTOTASK_BOARD)
    user = get_user_model().objects.get(username="demo")
    waiting = board.columns.get(name="Waiting")
    ticket = Ticket.objects.filter(
        connection_id=demo.connection_id, board_psa_id=board.psa_board_ids[0], status_name="New"
    ).first()
    asked = card_move(board=board, user=user, psa_id=ticket.psa_id, column_id=waiting.id)
    assert not asked.ok and {c["id"] for c in asked.choices} == set(waiting.psa_ids)  # any: one global list
    vendor = next(c["id"] for c in asked.choices if c["name"] == "Waiting Vendor")
    moved = card_move(
        board=board, user=user, psa_id=ticket.psa_id, column_id=waiting.id, status_psa_id=vendor
    )
    assert moved.ok and moved.status_psa_id == vendor
    entry = OutboxEntry.objects.get(psa_id=ticket.psa_id)
    assert (entry.action, entry.payload["status_id"]) == (OutboxEntry.Action.TICKET_STATUS, vendor)


def test_a_manual_rank_on_one_autotask_board_holds_on_another(demo):
    from django.contrib.auth import get_user_model

    from boards.services.cards import board_layout
    from boards.services.moves import card_move

    queue_board = Board.objects.get(name=DEMO_AUTOTASK_BOARD)
    all_board = Board.objects.get(name=DEMO_AUTOTASK_ALL_BOARD)

    def by_status(board) -> dict[str, list[int]]:
        shown: dict[str, list[int]] = {}
        for column in board_layout(board=board):
            for card in column.cards:
                shown.setdefault(card.status_name, []).append(card.psa_id)
        return shown

    status, before = next((s, ids) for s, ids in by_status(queue_board).items() if len(ids) >= 2)
    user = get_user_model().objects.get(username="demo")
    card_move(board=queue_board, user=user, psa_id=before[-1], below_psa_id=before[0])  # on top of it
    assert by_status(queue_board)[status][0] == before[-1]
    order = by_status(all_board)[status]  # the all-queues board: one column per status
    assert order.index(before[-1]) < order.index(before[0])  # one order per connection


def test_a_ticket_waiting_on_the_customer_shows_its_sla_paused(demo, sandbox):
    from boards.services.cards import board_layout

    waiting = Ticket.objects.filter(
        connection_id=demo.connection_id,
        kind="service",
        sla_psa_id__isnull=False,
        status_name="Waiting Customer",
    ).first()
    running = Ticket.objects.filter(
        connection_id=demo.connection_id, kind="service", sla_psa_id__isnull=False, status_name="In Progress"
    ).first()
    assert (
        sandbox.store.get("Tickets", waiting.psa_id).get("serviceLevelAgreementPausedNextEventHours")
        is not None
    )
    assert (waiting.sla_status, running.sla_status) == ("Waiting", "")
    board = Board.objects.get(name=DEMO_AUTOTASK_ALL_BOARD)
    cards = {card.psa_id: card for column in board_layout(board=board) for card in column.cards}
    assert cards[waiting.psa_id].sla == "SLA paused: waiting"  # once, not "SLA SLA paused"
    assert "paused" not in cards[running.psa_id].sla
