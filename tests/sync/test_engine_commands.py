"""`manage.py sync` and `manage.py sync_status`."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from boards.models import Ticket
from sync.engine import clients
from tests.sync.conftest import FakePSA, ticket


@pytest.fixture
def psa(monkeypatch) -> FakePSA:
    fake = FakePSA({"service/tickets": [ticket(i) for i in range(1, 31)]})
    monkeypatch.setattr(clients, "client_for", lambda connection: fake)
    return fake


def sync_tickets(stdout=None, stderr=None) -> None:
    """`manage.py sync` of acme's core-tier tickets (output kept in the given buffers, or dropped)."""
    call_command(
        "sync",
        "--connection",
        "acme",
        "--tier",
        "core",
        "--entity",
        "service_tickets",
        stdout=StringIO() if stdout is None else stdout,
        stderr=StringIO() if stderr is None else stderr,
    )


def test_it_runs_one_entity_of_a_tier_and_prints_a_summary(connection, psa):
    out, err = StringIO(), StringIO()
    sync_tickets(out, err)
    assert Ticket.objects.count() == 30
    assert "service_tickets" in out.getvalue() and "succeeded" in out.getvalue()
    assert "30" in err.getvalue()  # the progress bar counted the records


def test_it_exits_non_zero_when_an_entity_fails(connection, psa):
    psa.fail_after_pages = 0
    with pytest.raises(CommandError, match="did not succeed"):
        sync_tickets()


def test_it_rejects_unknown_connections_and_entities(connection, psa):
    with pytest.raises(CommandError, match="no connection"):
        call_command("sync", "--connection", "nope", "--tier", "core")
    with pytest.raises(CommandError, match="not in the core tier"):
        call_command("sync", "--connection", "acme", "--tier", "core", "--entity", "boards")


def test_it_reports_counts_and_last_runs(connection, psa):
    sync_tickets()
    out = StringIO()
    call_command("sync_status", "--connection", "acme", "--json", stdout=out)
    status = json.loads(out.getvalue())
    assert status["counts"]["service_tickets"] == 30 and status["counts"]["members"] == 0
    assert status["last_runs"]["core"]["fetched"] == 30 and status["last_runs"]["notes"] is None
    text = StringIO()
    call_command("sync_status", "--connection", "acme", stdout=text)
    assert "service_tickets" in text.getvalue() and "never" in text.getvalue()


def test_it_lists_sync_runs_in_the_admin_with_filters(connection, psa, admin_client):
    sync_tickets()
    response = admin_client.get("/admin/sync/syncrun/", {"tier": "core", "status__exact": "succeeded"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "service_tickets" in page and "By tier" in page.replace("By  tier", "By tier")
    run_id = connection.sync_runs.get().pk
    assert admin_client.get(f"/admin/sync/syncrun/{run_id}/change/").status_code == 200


@pytest.mark.parametrize(
    "flags, changed_only", [([], True), (["--changed-only"], True), (["--full-notes"], False)]
)
def test_it_runs_the_notes_tier_changed_only_unless_asked_for_a_full_sweep(
    connection, monkeypatch, flags, changed_only
):
    from sync.engine import services

    asked = []
    monkeypatch.setattr(services, "sync_tier", lambda **kw: asked.append(kw["changed_only"]) or [])
    with pytest.raises(CommandError, match="already running"):  # the stub ran nothing
        call_command(
            "sync", "--connection", "acme", "--tier", "notes", *flags, stdout=StringIO(), stderr=StringIO()
        )
    assert asked == [changed_only]


def test_it_refuses_changed_only_together_with_full_notes(connection):
    with pytest.raises(CommandError, match="not allowed with"):
        call_command("sync", "--connection", "acme", "--tier", "notes", "--changed-only", "--full-notes")
