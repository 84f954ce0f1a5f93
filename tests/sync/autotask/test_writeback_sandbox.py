"""Autotask write-back end to end: the boards' write-back services on a mirror synced from the
Autotask sandbox, a real Celery worker on Redis (`-Q realtime`) pushing the outbox, and the
sandbox (its own business rules) as the PSA. The user is linked to a technician's resource, so
Autotask records every change as that technician (ImpersonationResourceId).

A create whose answer is lost after it landed is pushed by the test itself, through the product's
own client over HTTP: the sandbox carries the POST out, then closes the connection unanswered
(`lose_answer`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache

from boards.models import BoardStatus, Membership, Priority, ServiceNote, Ticket, TicketAssignment, TimeEntry
from psa.autotask.client import AutotaskClient
from psa.providers import provider_for
from psa.sandbox.autotask.data import API_USER_ID
from psa.sandbox.autotask.picklists import COMPLETE_STATUS
from sync import outbox, writeback
from sync.engine.services import sync_tier
from sync.models import Connection, OutboxEntry
from tests.support.processes import start_worker
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def at_sandbox():
    from psa.sandbox.autotask import AutotaskSandbox

    with AutotaskSandbox(scale="tiny", seed=1) as running:
        yield running


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        cache.clear()  # this Redis db's cache and broker queues left by earlier runs
    proc = start_worker()
    yield proc
    proc.stop()


@pytest.fixture
def connection(at_sandbox):
    connection = Connection.objects.create(
        name="at", provider="autotask", credentials=dict(at_sandbox.credentials)
    )
    for tier in ("reference", "core"):
        sync_tier(connection_id=connection.pk, tier=tier)
    return connection


def _active_resources(sandbox) -> list[int]:
    return [r["id"] for r in sandbox.store.list("Resources") if r["id"] != API_USER_ID and r.get("isActive")]


@pytest.fixture
def technician(at_sandbox) -> int:
    return _active_resources(at_sandbox)[0]


@pytest.fixture
def user(connection, technician, django_user_model):
    user = django_user_model.objects.create_user(username="tech", email="tech@x.example")
    Membership.objects.create(user=user, connection=connection, member_psa_id=technician)
    return user


def _open_ticket(sandbox, connection) -> tuple[dict, Ticket]:
    for record in sandbox.store.list("Tickets"):
        if record.get("status") == COMPLETE_STATUS:
            continue
        card = Ticket.objects.filter(connection=connection, psa_id=record["id"]).first()
        if card is not None:
            return record, card
    raise AssertionError("the sandbox has no such open ticket")


def _other_status(connection, record: dict) -> int:
    """An active status the ticket is not in, other than Complete (mirrored from the picklist)."""
    return (
        BoardStatus.objects.filter(connection=connection, inactive=False)
        .exclude(psa_id__in=[record["status"], COMPLETE_STATUS])
        .values_list("psa_id", flat=True)
        .first()
    )


def _secondaries(connection, ticket_id: int):
    """The mirror's rows of the ticket's secondary resources (not its service calls' resources)."""
    owned = provider_for(connection).catalog.mapping("ticket_assignments").scope_filter
    return TicketAssignment.objects.filter(connection=connection, ticket_psa_id=ticket_id, **owned)


def _ticket(sandbox, psa_id: int) -> dict:
    return sandbox.store.get("Tickets", psa_id)


def _entry_state(entry: OutboxEntry) -> str:
    return OutboxEntry.objects.get(pk=entry.pk).state


def _done(entry: OutboxEntry) -> bool:
    state = _entry_state(entry)
    assert state != "failed", OutboxEntry.objects.get(pk=entry.pk).error
    return state == "done"


def test_status_and_priority_reach_autotask_as_the_linked_technician(
    at_sandbox, connection, user, technician, worker
):
    record, card = _open_ticket(at_sandbox, connection)
    status = _other_status(connection, record)
    priority = (
        Priority.objects.filter(connection=connection, inactive=False)
        .exclude(psa_id=record["priority"])
        .values_list("psa_id", flat=True)
        .first()
    )
    first = writeback.ticket_change_status(ticket=card, status_psa_id=status, user=user)
    second = writeback.ticket_change_priority(ticket=card, priority_psa_id=priority, user=user)
    wait_until(lambda: _done(first) and _done(second), timeout=30)
    stored = _ticket(at_sandbox, record["id"])
    assert (stored["status"], stored["priority"]) == (status, priority)
    assert stored["lastActivityResourceID"] == technician  # Autotask shows who did it
    card.refresh_from_db()
    assert (card.status_psa_id, card.priority_psa_id, card.writeback_error) == (status, priority, "")


def test_a_task_status_reaches_autotask_under_its_project(at_sandbox, connection, user, technician, worker):
    card = Ticket.objects.filter(connection=connection, kind=Ticket.Kind.PROJECT, closed=False).first()
    assert card is not None, "the sandbox has no open task"
    status = _other_status(connection, {"status": card.status_psa_id})
    entry = writeback.ticket_change_status(ticket=card, status_psa_id=status, user=user)
    wait_until(lambda: _done(entry), timeout=30)
    stored = at_sandbox.store.get("Tasks", card.psa_id)
    assert (stored["status"], stored["lastActivityResourceID"]) == (status, technician)


def test_resources_primary_then_secondary_then_the_primary_handed_over(at_sandbox, connection, user, worker):
    record, card = _open_ticket(at_sandbox, connection)
    at_sandbox.store.update(
        "Tickets", record["id"], {"assignedResourceID": None, "assignedResourceRoleID": None}
    )
    for link in at_sandbox.store.list("TicketSecondaryResources"):
        if link["ticketID"] == record["id"]:
            at_sandbox.store.delete("TicketSecondaryResources", link["id"])
    provider_for(connection).refresh.record(connection_id=connection.pk, kind="ticket", psa_id=record["id"])
    card.refresh_from_db()
    first, second = _active_resources(at_sandbox)[1:3]

    entry = writeback.ticket_add_resource(ticket=card, member_psa_id=first, user=user)
    wait_until(lambda: _done(entry), timeout=30)
    stored = _ticket(at_sandbox, record["id"])
    default_role = next(
        r["roleID"]
        for r in at_sandbox.store.list("ResourceServiceDeskRoles")
        if r["resourceID"] == first and r["isDefault"]
    )
    assert (stored["assignedResourceID"], stored["assignedResourceRoleID"]) == (first, default_role)

    entry = writeback.ticket_add_resource(ticket=card, member_psa_id=second, user=user)
    wait_until(lambda: _done(entry), timeout=30)
    [link] = [x for x in at_sandbox.store.list("TicketSecondaryResources") if x["ticketID"] == record["id"]]
    assert link["resourceID"] == second
    assert list(_secondaries(connection, record["id"]).values_list(
        "psa_id", "member_psa_id"
    )) == [(link["id"], second)]  # fmt: skip

    entry = writeback.ticket_remove_resource(ticket=card, member_psa_id=first, user=user)
    wait_until(lambda: _done(entry), timeout=30)
    stored = _ticket(at_sandbox, record["id"])
    assert (stored["assignedResourceID"], stored["assignedResourceRoleID"]) == (second, link["roleID"])
    assert not [x for x in at_sandbox.store.list("TicketSecondaryResources") if x["ticketID"] == record["id"]]
    card.refresh_from_db()
    assert card.owner_psa_id == second
    assert not _secondaries(connection, record["id"]).exists()


def test_a_note_is_written_as_the_linked_technician(at_sandbox, connection, user, technician, worker):
    record, card = _open_ticket(at_sandbox, connection)
    entry = writeback.ticket_note_add(
        ticket=card, text="Replaced the fuser", internal=True, member_psa_id=technician, user=user
    )
    wait_until(lambda: _done(entry), timeout=30)
    result = OutboxEntry.objects.get(pk=entry.pk).result_psa_id
    note = at_sandbox.store.get("TicketNotes", result)
    assert (note["ticketID"], note["description"], note["title"]) == (
        record["id"],
        "Replaced the fuser",
        "Replaced the fuser",
    )
    assert note["creatorResourceID"] == technician  # the PSA shows the real author
    assert note["publish"] != 1  # internal
    mirrored = ServiceNote.objects.get(connection=connection, psa_id=result)
    assert mirrored.internal and mirrored.text == "Replaced the fuser"
    assert not ServiceNote.objects.filter(connection=connection, psa_id__lt=0).exists()


def test_a_time_entry_is_logged_for_the_technician_in_their_role(
    at_sandbox, connection, user, technician, worker
):
    record, card = _open_ticket(at_sandbox, connection)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    entry = writeback.time_entry_create(
        ticket=card, member_psa_id=technician, time_start=start, time_end=start + timedelta(minutes=45),
        notes="Diagnosed the paper jam", user=user,
    )  # fmt: skip
    wait_until(lambda: _done(entry), timeout=30)
    result = OutboxEntry.objects.get(pk=entry.pk).result_psa_id
    stored = at_sandbox.store.get("TimeEntries", result)
    roles = {
        r["roleID"]
        for r in at_sandbox.store.list("ResourceServiceDeskRoles")
        if r["resourceID"] == technician
    }
    assert (stored["ticketID"], stored["resourceID"], stored["hoursWorked"]) == (
        record["id"],
        technician,
        0.75,
    )
    assert stored["roleID"] in roles and stored["summaryNotes"] == "Diagnosed the paper jam"
    assert TimeEntry.objects.get(connection=connection, psa_id=result).charge_to_psa_id == record["id"]


def test_a_refused_write_is_reverted_with_autotasks_message(at_sandbox, connection, user, worker):
    record, card = _open_ticket(at_sandbox, connection)
    message = "The ticket cannot be moved to this status by the workflow (test)."
    at_sandbox.force_error("PATCH", r"^Tickets$", 500, message, times=1)
    status = _other_status(connection, record)
    entry = writeback.ticket_change_status(ticket=card, status_psa_id=status, user=user)
    # The message comes with the failure; the re-read then puts the card back.
    wait_until(lambda: Ticket.objects.get(pk=card.pk).status_psa_id == record["status"], timeout=30)
    assert _entry_state(entry) == "failed"
    card.refresh_from_db()
    assert card.status_psa_id == record["status"] == _ticket(at_sandbox, record["id"])["status"]
    assert card.writeback_error == f"Change ticket status was rejected by the PSA: {message}"


def test_an_inactive_resource_is_refused_by_autotasks_own_rule(at_sandbox, connection, user, worker):
    record, card = _open_ticket(at_sandbox, connection)
    inactive = next(r["id"] for r in at_sandbox.store.list("Resources") if not r.get("isActive"))
    entry = writeback.ticket_add_resource(ticket=card, member_psa_id=inactive, user=user)
    wait_until(lambda: Ticket.objects.get(pk=card.pk).writeback_error, timeout=30)
    wait_until(_worker_idle, timeout=30)  # the re-read after the refusal has run too
    assert _entry_state(entry) == "failed"
    card.refresh_from_db()
    assert card.writeback_error == (
        f"Add a resource to a ticket was rejected by the PSA: The resource {inactive} is inactive and cannot be assigned."
    )
    assert card.owner_psa_id == _ticket(at_sandbox, record["id"])["assignedResourceID"]
    assert not TicketAssignment.objects.filter(connection=connection, psa_id__lt=0).exists()


def _worker_idle() -> bool:
    from topleft.celery import app

    active = app.control.inspect(timeout=1).active()
    return active is not None and not any(active.values())


def _client(sandbox) -> AutotaskClient:
    return AutotaskClient(
        username=sandbox.auth.username,
        secret=sandbox.auth.secret,
        integration_code=sandbox.auth.integration_code,
        zone_url=sandbox.zone_url,
        sleep=lambda s: None,
    )


def _notes_of(sandbox, ticket_id: int, text: str) -> list[dict]:
    return [
        n
        for n in sandbox.store.list("TicketNotes")
        if n["ticketID"] == ticket_id and n["description"] == text
    ]


@pytest.fixture
def pushed_here(monkeypatch):
    """Entries are pushed by the test only (a running worker must not take them)."""
    monkeypatch.setattr("sync.outbox._enqueue_safely", lambda entry_id: None)


@pytest.mark.usefixtures("pushed_here")
def test_a_note_whose_answer_was_lost_is_not_duplicated(at_sandbox, connection, user, technician):
    record, card = _open_ticket(at_sandbox, connection)
    lost = at_sandbox.stats["answers_lost"]
    at_sandbox.lose_answer("POST", r"^Tickets/\d+/Notes$")
    entry = writeback.ticket_note_add(
        ticket=card, text="Lost answer note", member_psa_id=technician, user=user
    )
    assert outbox.outbox_push(entry_id=entry.pk, client=_client(at_sandbox)) == "retry"
    assert at_sandbox.stats["answers_lost"] == lost + 1
    assert len(_notes_of(at_sandbox, record["id"], "Lost answer note")) == 1  # it landed
    assert outbox.outbox_push(entry_id=entry.pk, client=_client(at_sandbox)) == "done"
    [note] = _notes_of(at_sandbox, record["id"], "Lost answer note")
    assert OutboxEntry.objects.get(pk=entry.pk).result_psa_id == note["id"]
    assert ServiceNote.objects.filter(connection=connection, psa_id=note["id"]).exists()


@pytest.mark.usefixtures("pushed_here")
def test_a_time_entry_whose_answer_was_lost_is_not_duplicated(at_sandbox, connection, user, technician):
    record, card = _open_ticket(at_sandbox, connection)
    lost = at_sandbox.stats["answers_lost"]
    at_sandbox.lose_answer("POST", r"^TimeEntries$")
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=5)
    entry = writeback.time_entry_create(
        ticket=card,
        member_psa_id=technician,
        time_start=start,
        time_end=start + timedelta(hours=1),
        user=user,
    )

    def ours() -> list[dict]:
        return [
            t
            for t in at_sandbox.store.list("TimeEntries")
            if t.get("ticketID") == record["id"] and t["resourceID"] == technician
        ]

    before = len(ours())
    assert outbox.outbox_push(entry_id=entry.pk, client=_client(at_sandbox)) == "retry"
    assert at_sandbox.stats["answers_lost"] == lost + 1 and len(ours()) == before + 1  # it landed
    assert outbox.outbox_push(entry_id=entry.pk, client=_client(at_sandbox)) == "done"
    assert len(ours()) == before + 1
    assert TimeEntry.objects.filter(
        connection=connection, psa_id=OutboxEntry.objects.get(pk=entry.pk).result_psa_id
    ).exists()
