"""Fixtures for board tests: two tenants with a little mirror data each."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from boards.models import BoardStatus, Membership, Priority, ServiceBoard, Ticket
from boards.services.config import board_create
from sync.models import Connection
from tests.support.connections import cw_credentials


def make_connection(name: str) -> Connection:
    return Connection.objects.create(
        name=name,
        provider="connectwise",
        credentials=cw_credentials(site_url="https://cw.example", company_id=name),
    )


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


def make_tenant(name: str, *, board_name: str, username: str, first_id: int = 100) -> dict:
    """A connection with tickets, a board over them, and a member user."""
    connection = make_connection(name)
    tickets = seed_tickets(connection, first_id=first_id)
    board = board_create(connection_id=connection.id, name=board_name, psa_board_ids=[1])
    user = make_user(username, connection)
    return {"connection": connection, "tickets": tickets, "board": board, "user": user}


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
