"""The mass-delete guard holds for every scope: a full run deletes only after listings the PSA's
own counts confirm, an empty answer needs a confirming read, and a real mass delete needs an
operator's one-shot approval (admin action or `manage.py sync --allow-mass-delete`)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.urls import reverse

from boards.models import BoardStatus, Priority, ServiceBoard, Team, Ticket, TicketType
from sync.engine.approvals import mass_delete_approval_pending, mass_delete_approve
from sync.engine.run import sync_entity
from sync.engine.services import sync_tier
from sync.engine.watermarks import watermark_get
from sync.models import MassDeleteApproval, SyncRun
from tests.sync.conftest import FakePSA, sandbox_connection, ticket

TICKETS = "service/tickets"
PRIORITIES = "service/priorities"


def _core_tickets(connection) -> SyncRun:
    [run] = sync_tier(connection_id=connection.pk, tier="core", entity="service_tickets")
    return run


def _reference(connection, entity: str) -> SyncRun:
    [run] = sync_tier(connection_id=connection.pk, tier="reference", entity=entity)
    return run


@pytest.fixture
def mirrored(db, sandbox, fast_client):
    """A sandbox connection with its tickets mirrored by one full run."""
    connection = sandbox_connection(sandbox)
    assert _core_tickets(connection).status == "succeeded"
    return connection


@pytest.mark.parametrize("fault", ["truncate@service/tickets=0.6", "end_early@service/tickets=0.55"])
def test_it_deletes_nothing_after_a_tickets_listing_the_count_contradicts(sandbox, mirrored, fault):
    tickets = Ticket.objects.filter(connection=mirrored)
    before = tickets.count()
    watermark = watermark_get(connection_id=mirrored.pk, entity="service_tickets")
    sandbox.faults = fault

    run = _core_tickets(mirrored)

    assert (run.status, run.deleted) == ("refused", 0)
    assert "incomplete listing, nothing deleted" in run.error
    assert "records the PSA counts" in run.error and run.fetched < before * 0.7
    assert tickets.count() == before
    assert watermark_get(connection_id=mirrored.pk, entity="service_tickets") == watermark


def test_it_keeps_every_board_and_its_children_when_the_boards_listing_comes_back_empty(
    db, sandbox, fast_client
):
    connection = sandbox_connection(sandbox)
    sync_tier(connection_id=connection.pk, tier="reference")
    models = (ServiceBoard, BoardStatus, Team, TicketType)
    before = {model: model.objects.filter(connection=connection).count() for model in models}
    assert all(before.values())
    sandbox.faults = "empty@service/boards=1"

    runs = {run.entity: run for run in sync_tier(connection_id=connection.pk, tier="reference")}

    for entity in ("boards", "board_statuses", "board_teams", "ticket_types", "ticket_subtypes"):
        assert (runs[entity].status, runs[entity].deleted) == ("refused", 0), entity
        assert "service/boards: the listing returned 0 of the" in runs[entity].error
    assert {model: model.objects.filter(connection=connection).count() for model in models} == before
    assert runs["priorities"].status == "succeeded"  # other scopes carry on


def test_it_keeps_a_boards_statuses_when_their_own_listing_comes_back_empty(db, sandbox, fast_client):
    connection = sandbox_connection(sandbox)
    sync_tier(connection_id=connection.pk, tier="reference", entity="board_statuses")
    statuses = BoardStatus.objects.filter(connection=connection)
    before = statuses.count()
    board_id = statuses.first().board_psa_id
    sandbox.faults = f"empty@service/boards/{board_id}/statuses=1"

    run = _reference(connection, "board_statuses")

    assert (run.status, run.deleted) == ("refused", 0)
    assert f"service/boards/{board_id}/statuses: the listing returned 0 of the" in run.error
    assert statuses.count() == before


def test_it_keeps_the_children_of_a_parent_record_without_a_usable_id(db, sandbox, fast_client):
    connection = sandbox_connection(sandbox)
    sync_tier(connection_id=connection.pk, tier="reference", entity="board_statuses")
    statuses = BoardStatus.objects.filter(connection=connection)
    before = statuses.count()
    sandbox.faults = f"fractional_id@service/boards={statuses.first().board_psa_id}"

    run = _reference(connection, "board_statuses")

    assert (run.status, run.deleted) == ("refused", 0)
    assert "1 parent record(s) without a usable id" in run.error
    assert statuses.count() == before


def test_it_deletes_a_scope_the_psa_really_emptied_only_once_an_operator_approves(db, sandbox, fast_client):
    connection = sandbox_connection(sandbox)
    _reference(connection, "priorities")
    priorities = Priority.objects.filter(connection=connection)
    count = priorities.count()
    assert count >= 2
    sandbox.empty_lists_for(f"^{PRIORITIES}$")  # listing AND count say: nothing left

    refused = _reference(connection, "priorities")
    assert (refused.status, refused.deleted, priorities.count()) == ("refused", 0, count)
    assert f"{PRIORITIES}: empty, confirmed by a second read" in refused.error
    assert f"refused to delete {count} of {count} priorities rows" in refused.error

    approval = mass_delete_approve(connection_id=connection.pk, entity="priorities", approved_by="ops")
    approved = _reference(connection, "priorities")
    assert (approved.status, approved.deleted, priorities.count()) == ("succeeded", count, 0)
    assert "mass delete approved by ops" in approved.error
    approval.refresh_from_db()
    assert approval.used_by_run_id == approved.pk and approval.used_at is not None
    assert mass_delete_approval_pending(connection_id=connection.pk, entity="priorities") is None


def test_it_lets_the_sync_command_approve_a_mass_delete_for_its_own_run(db, sandbox, fast_client):
    connection = sandbox_connection(sandbox)
    _reference(connection, "priorities")
    sandbox.empty_lists_for(f"^{PRIORITIES}$")
    args = ["sync", "--connection", connection.name, "--tier", "reference", "--entity", "priorities"]
    with pytest.raises(CommandError):
        call_command(*args, stdout=open("/dev/null", "w"), stderr=open("/dev/null", "w"))
    assert Priority.objects.filter(connection=connection).exists()

    call_command(*args, "--allow-mass-delete", stdout=open("/dev/null", "w"), stderr=open("/dev/null", "w"))

    assert not Priority.objects.filter(connection=connection).exists()
    assert not MassDeleteApproval.objects.filter(used_at__isnull=True).exists()


class EmptyOnceFakePSA(FakePSA):
    """Answers the first listing and the first count empty, then the truth."""

    def __init__(self, data):
        super().__init__(data)
        self.listings = self.counts = 0

    def iter_pages(self, path, **kw):
        self.listings += 1
        if self.listings == 1:
            return iter(())
        return super().iter_pages(path, **kw)

    def count(self, path, *, conditions=None):
        self.counts += 1
        return 0 if self.counts == 1 else super().count(path, conditions=conditions)


def test_it_deletes_nothing_when_a_second_read_contradicts_an_empty_answer(connection, caplog):
    fake = FakePSA({TICKETS: [ticket(i) for i in range(1, 4)]})
    sync_entity(connection=connection, entity="service_tickets", tier="core", client=fake)

    run = sync_entity(
        connection=connection, entity="service_tickets", tier="core", client=EmptyOnceFakePSA(fake.data)
    )

    assert (run.status, run.deleted) == ("refused", 0)
    assert "answered empty, but a second read found 3 records" in run.error
    assert "acme/core/service_tickets deleted nothing" in caplog.text  # the worker log says it too
    assert Ticket.objects.filter(connection=connection).count() == 3


# --- operators: admin actions and the status page ------------------------------------------


@pytest.fixture
def refused_run(connection) -> SyncRun:
    fake = FakePSA({TICKETS: [ticket(i) for i in range(1, 6)]})
    sync_entity(connection=connection, entity="service_tickets", tier="core", client=fake)
    fake.data[TICKETS] = []
    run = sync_entity(connection=connection, entity="service_tickets", tier="core", client=fake)
    assert run.status == "refused"
    return run


@pytest.fixture
def staff_client(db, client):
    user = get_user_model().objects.create_superuser("ops", password="pw")
    client.force_login(user)
    return client


def test_it_approves_the_refused_mass_deletes_of_a_connection_from_the_admin(staff_client, refused_run):
    staff_client.post(
        reverse("admin:sync_connection_changelist"),
        {"action": "approve_refused_mass_deletes", "_selected_action": [refused_run.connection_id]},
    )
    approval = mass_delete_approval_pending(connection_id=refused_run.connection_id, entity="service_tickets")
    assert approval is not None and approval.approved_by == "ops (admin)"


def test_it_approves_a_refused_run_from_the_sync_run_admin(staff_client, refused_run):
    staff_client.post(
        reverse("admin:sync_syncrun_changelist"),
        {"action": "approve_mass_delete", "_selected_action": [refused_run.pk]},
    )
    assert mass_delete_approval_pending(connection_id=refused_run.connection_id, entity="service_tickets")


def test_it_shows_a_refused_delete_as_a_failure_with_its_reason(staff_client, refused_run):
    url = reverse("sync:connection-status", args=[refused_run.connection_id])
    page = staff_client.get(url).content.decode()
    assert "failed: deletes refused" in page and "refused to delete 5 of 5 service_tickets rows" in page
    assert 'id="mass-deletes"' in page and "service_tickets" in page
    mass_delete_approve(connection_id=refused_run.connection_id, entity="service_tickets", approved_by="ops")
    assert "Approved, waiting for the next full run" in staff_client.get(url).content.decode()


def test_it_keeps_a_tickets_notes_when_their_listing_comes_back_empty(sandbox, mirrored):
    from boards.models import ServiceNote

    notes_path = "service/tickets/{parentId}/notes"
    parent = Ticket.objects.filter(connection=mirrored, kind="service").order_by("psa_id").first().psa_id
    for extra in sandbox.store.list(notes_path, parent_id=parent)[1:]:  # one note: no mass delete
        sandbox.store.delete(notes_path, extra["id"])
    sync_tier(connection_id=mirrored.pk, tier="notes", entity="service_notes", changed_only=False)
    notes = ServiceNote.objects.filter(connection=mirrored)
    before, kept = notes.count(), notes.filter(ticket_psa_id=parent).count()
    assert kept == 1
    sandbox.faults = f"empty@{notes_path}=1"

    [run] = sync_tier(connection_id=mirrored.pk, tier="notes", entity="service_notes", changed_only=False)

    assert (run.status, run.deleted) == ("refused", 0)
    assert f"parent {parent}: incomplete listing, nothing deleted" in run.error
    assert notes.count() == before


class OvercountingFakePSA(FakePSA):
    """A PSA whose count says there is more than its listing returned."""

    def count(self, path, *, conditions=None):
        return super().count(path, conditions=conditions) + 5


def test_it_offers_no_approval_for_a_run_refused_over_an_incomplete_listing(staff_client, connection):
    fake = FakePSA({TICKETS: [ticket(i) for i in range(1, 6)]})
    sync_entity(connection=connection, entity="service_tickets", tier="core", client=fake)
    fake.data[TICKETS] = [ticket(1)]
    run = sync_entity(
        connection=connection, entity="service_tickets", tier="core", client=OvercountingFakePSA(fake.data)
    )
    assert run.status == "refused" and "returned 1 of the 6 records" in run.error
    for changelist, action, selected in (
        ("admin:sync_connection_changelist", "approve_refused_mass_deletes", connection.pk),
        ("admin:sync_syncrun_changelist", "approve_mass_delete", run.pk),
    ):
        staff_client.post(reverse(changelist), {"action": action, "_selected_action": [selected]})
    assert not MassDeleteApproval.objects.exists()
    page = staff_client.get(reverse("sync:connection-status", args=[connection.pk])).content.decode()
    assert "failed: deletes refused" in page and 'id="mass-deletes"' not in page


def test_it_keeps_an_approval_that_a_refused_run_could_not_use(connection):
    fake = FakePSA({TICKETS: [ticket(i) for i in range(1, 6)]})
    sync_entity(connection=connection, entity="service_tickets", tier="core", client=fake)
    mass_delete_approve(connection_id=connection.pk, entity="service_tickets", approved_by="ops")
    fake.data[TICKETS] = [{**ticket(1), "id": 1.5}]  # a record without a usable id: no deletes

    run = sync_entity(connection=connection, entity="service_tickets", tier="core", client=fake)

    assert (run.status, run.deleted) == ("refused", 0)
    assert mass_delete_approval_pending(connection_id=connection.pk, entity="service_tickets") is not None
