"""End to end: connection_add, connection test, every tier, sync_status against the Autotask half
of the PSA sandbox (a real HTTP server on loopback)."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from boards.models import BoardStatus, Member, ServiceBoard, ServiceNote, Ticket
from psa.providers import provider_for
from sync.models import Connection, SyncRun

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.redis,
    pytest.mark.usefixtures("fresh_cache"),
]


@pytest.fixture(scope="module")
def sandbox():
    from psa.sandbox.autotask import AutotaskSandbox

    with AutotaskSandbox(scale="small", seed=3) as running:
        yield running


def _add(sandbox, name: str = "at-sandbox", *, test: bool = False, **override: str) -> Connection:
    credentials = {**sandbox.credentials, **override}
    call_command(
        "connection_add",
        "--provider", "autotask",
        "--name", name,
        "--username", credentials["username"],
        "--secret", credentials["secret"],
        "--integration-code", credentials["integration_code"],
        "--zone-url", credentials["zone_url"],
        *(["--test"] if test else []),
        stdout=StringIO(),
    )  # fmt: skip
    return Connection.objects.get(name=name)


def test_connection_add_then_a_full_sync_mirrors_the_sandbox(sandbox):
    connection = _add(sandbox, test=True)
    tested = provider_for(connection).connection_test(connection)
    assert tested["ok"], tested
    for tier in ("reference", "core", "reference", "core", "changes"):
        call_command(
            "sync", "--connection", connection.name, "--tier", tier, stdout=StringIO(), stderr=StringIO()
        )
    runs = SyncRun.objects.filter(connection=connection)
    problems = [
        (r.tier, r.entity, r.status, r.error[:300]) for r in runs if r.status != SyncRun.Status.SUCCEEDED
    ]
    assert problems == []
    assert BoardStatus.objects.filter(connection=connection, board_psa_id__isnull=True).exists()
    assert ServiceBoard.objects.filter(connection=connection).exists()
    assert Member.objects.filter(connection=connection).exists()
    service = Ticket.objects.filter(connection=connection, kind="service")
    assert service.exists() and not service.filter(status_name="").exists()
    assert Ticket.objects.filter(connection=connection, kind="project").exists()
    assert ServiceNote.objects.filter(connection=connection).exists()
    out = StringIO()
    call_command("sync_status", "--connection", connection.name, "--json", stdout=out)
    status = json.loads(out.getvalue())
    assert status["counts"]["service_tickets"] == service.count()
    assert (
        status["counts"]["task_notes"]
        == ServiceNote.objects.filter(connection=connection, ticket_kind="project").count()
    )
    assert {tier: (run or {}).get("status") for tier, run in status["last_runs"].items()} == {
        "changes": "succeeded",
        "core": "succeeded",
        "reference": "succeeded",
        "notes": None,  # Autotask notes ride the changes tier
    }
    text = StringIO()
    call_command("sync_status", "--connection", connection.name, stdout=text)
    assert f"({connection.provider}, {sandbox.credentials['username']} via" in text.getvalue()


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"secret": "wrong"}, "username and secret"),
        ({"username": "nobody@example.com"}, "does not know the API user"),
        ({"integration_code": "WRONGCODE"}, "refused the credentials"),
    ],
)
def test_wrong_credentials_get_a_clear_error(sandbox, override, expected):
    connection = _add(sandbox, name=f"bad-{sorted(override)[0]}", **override)
    tested = provider_for(connection).connection_test(connection)
    assert not tested["ok"] and expected in tested["error"], tested


def test_connection_add_with_test_refuses_wrong_credentials_and_saves_nothing(sandbox):
    with pytest.raises(CommandError, match="nothing saved: .*username and secret"):
        _add(sandbox, name="never-saved", test=True, secret="wrong")
    assert not Connection.objects.filter(name="never-saved").exists()
