"""demo_setup against the PSA sandbox: connection, synced mirror, two boards, a user; idempotent."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from boards.models import Board, Member, Membership, Ticket
from sync.models import Connection

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox():
    from psa.sandbox.connectwise.server import SandboxServer

    server = SandboxServer(scale="small", seed=1).start()
    yield server
    server.stop()


def test_it_sets_up_the_demo_idempotently(sandbox, capsys):
    call_command("demo_setup", "--sandbox-url", sandbox.url)
    call_command("demo_setup", "--sandbox-url", sandbox.url)
    out = capsys.readouterr().out
    assert "username: demo" in out and "password: topleft-demo" in out
    connection = Connection.objects.get()
    assert connection.credentials["site_url"] == sandbox.url.rstrip("/")
    assert Board.objects.filter(connection=connection).count() == 2
    membership = Membership.objects.get(connection=connection)
    assert membership.role == "admin"
    owners = Ticket.objects.filter(connection=connection).values("owner_psa_id")
    first_member = (
        Member.objects.filter(connection=connection, inactive=False, psa_id__in=owners)
        .order_by("psa_id")
        .first()
    )
    assert (membership.member_psa_id, membership.member_identifier) == (
        first_member.psa_id,
        first_member.identifier,
    )  # the demo user's notes and time have an author
    assert Ticket.objects.filter(connection=connection).exists()
    client = Client()
    logged_in = client.post("/accounts/login/", {"username": "demo", "password": "topleft-demo"})
    assert logged_in.status_code == 302  # the real log-in form (throttled by django-axes)
    board = Board.objects.get(name="Demo service board")
    columns = client.get(f"/api/boards/{board.id}/cards/").json()
    assert sum(len(c["cards"]) for c in columns) > 10


def test_it_refuses_a_sandbox_url_that_is_neither_https_nor_loopback():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="https is required"):
        call_command("demo_setup", "--sandbox-url", "http://sandbox.example.com:8765", "--no-sync")
    assert not Connection.objects.exists()
