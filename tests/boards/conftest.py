"""Fixtures for board tests: two tenants with a little mirror data each; for the browser tests,
the servers a module shares and the PSA sandbox stack."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from boards.models import Board, BoardStatus, Member, Membership, Priority, ServiceBoard, Ticket
from boards.services.config import board_create
from sync.models import Connection
from tests.boards.browser_support import browser_servers, signed_in_page
from tests.support import connections


def make_connection(name: str) -> Connection:
    """A ConnectWise connection whose company id is its name (each tenant of the board tests)."""
    return connections.make_connection(name, site_url="https://cw.example", company_id=name)


def make_user(username: str, connection: Connection | None = None, role: str = "member"):
    user = get_user_model().objects.create_user(username=username, password="pw-" + username)
    if connection is not None:
        Membership.objects.create(user=user, connection=connection, role=role)
    return user


def seed_tickets(
    connection: Connection, count: int = 6, *, board_psa_id: int = 1, first_id: int = 100
) -> list[Ticket]:
    """Service board `board_psa_id` with statuses New (10), Doing (11), Waiting (12), Closed (13)."""
    ServiceBoard.objects.get_or_create(
        connection=connection, psa_id=board_psa_id, defaults={"name": f"Board {board_psa_id}"}
    )
    base = board_psa_id * 10
    for offset, (name, closed) in enumerate(
        [("New", False), ("Doing", False), ("Waiting", False), ("Closed", True)]
    ):
        BoardStatus.objects.get_or_create(
            connection=connection,
            psa_id=base + offset,
            defaults={
                "name": name,
                "board_psa_id": board_psa_id,
                "sort_order": offset,
                "closed_status": closed,
            },
        )
    Priority.objects.get_or_create(connection=connection, psa_id=1, defaults={"name": "P1", "sort_order": 1})
    Priority.objects.get_or_create(connection=connection, psa_id=2, defaults={"name": "P2", "sort_order": 2})
    now = timezone.now()
    return [
        Ticket.objects.create(
            connection=connection,
            psa_id=first_id + i,
            summary=f"Ticket {first_id + i}",
            board_psa_id=board_psa_id,
            board_name=f"Board {board_psa_id}",
            status_psa_id=base,
            status_name="New",
            company_name="Acme",
            company_psa_id=7,
            priority_psa_id=1 + i % 2,
            priority_name=f"P{1 + i % 2}",
            resources="alice" if i % 2 else "",
            date_entered=now - timedelta(days=i),
        )
        for i in range(count)
    ]


def seed_acme(*, second_board: bool = True) -> Connection:
    """The browser tests' tenant: connection "acme", tickets 100-104 on PSA board 1 (and with
    `second_board`, ticket 200 on PSA board 2), and its member "ann" (password "pw-ann")."""
    connection = make_connection("acme")
    seed_tickets(connection, count=5)
    if second_board:
        seed_tickets(connection, count=1, board_psa_id=2, first_id=200)
    make_user("ann", connection)
    return connection


def make_tenant(name: str, *, board_name: str, username: str, first_id: int = 100) -> dict:
    """A connection with tickets, a board over them, and a member user."""
    connection = make_connection(name)
    tickets = seed_tickets(connection, first_id=first_id)
    board = board_create(connection_id=connection.id, name=board_name, psa_board_ids=[1])
    user = make_user(username, connection)
    return {"connection": connection, "tickets": tickets, "board": board, "user": user}


def link_member(tenant: dict, *, psa_id: int = 4, identifier: str = "ann") -> Member:
    """A PSA member on the tenant's connection that the tenant's user works as."""
    member = Member.objects.create(
        connection=tenant["connection"], psa_id=psa_id, identifier=identifier, first_name=identifier.title()
    )
    Membership.objects.filter(user=tenant["user"], connection=tenant["connection"]).update(
        member_psa_id=psa_id, member_identifier=identifier
    )
    return member


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def tenant(db):
    return make_tenant("acme", board_name="Service", username="ann")


@pytest.fixture
def other_tenant(db):
    return make_tenant("globex", board_name="Globex service", username="gus", first_id=900)


@pytest.fixture
def client(tenant):
    """pytest-django's `client`, logged in as the tenant's member (what board tests act as)."""
    return logged_in(tenant["user"])


@pytest.fixture(scope="module")
def ui_servers(django_db_setup, django_db_blocker):
    """Live server + Chromium, shared by a browser test module's tests."""
    with browser_servers() as servers:
        yield servers


@pytest.fixture(scope="module")
def worker_servers(django_db_setup, django_db_blocker):
    """Live server, Celery worker and Chromium, shared by a browser test module's tests."""
    with browser_servers(worker=True) as servers:
        yield servers


@pytest.fixture
def stack(worker_servers, transactional_db):
    """Each test's own PSA sandbox, demo data over it, and a page logged in as the demo user."""
    from boards.services.demo import DEMO_ALL_BOARD, DEMO_BOARD, demo_setup
    from psa.sandbox.connectwise.server import SandboxServer

    sandbox = SandboxServer(scale="small", seed=1).start()
    try:
        demo = demo_setup(sandbox_url=sandbox.url)
        with signed_in_page(worker_servers, demo.username, demo.password) as page:
            yield {
                "sandbox": sandbox,
                "url": worker_servers["url"],
                "page": page,
                "demo": demo,
                "board": Board.objects.get(name=DEMO_BOARD),
                "all": Board.objects.get(name=DEMO_ALL_BOARD),
            }
    finally:
        sandbox.stop()
