"""The engine over an Autotask connection, against the `responses` fake in fake_autotask.py."""

from __future__ import annotations

from io import StringIO

import pytest

from boards.models import BoardStatus, Member, ServiceBoard, ServiceNote, Ticket, TicketAssignment, TimeEntry
from sync.engine.services import sync_tier
from sync.models import SyncRun
from tests.sync.autotask.conftest import ticket

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


def _full(connection_id: int) -> list[SyncRun]:
    runs = sync_tier(connection_id=connection_id, tier="reference")
    runs += sync_tier(connection_id=connection_id, tier="core")
    runs += sync_tier(connection_id=connection_id, tier="reference")  # names of the core rows
    runs += sync_tier(connection_id=connection_id, tier="core")
    return runs


def test_a_full_sync_mirrors_autotask_onto_the_neutral_models(fake_autotask, at_connection):
    runs = _full(at_connection.pk)
    assert {r.status for r in runs} == {SyncRun.Status.SUCCEEDED}, [
        (r.entity, r.error) for r in runs if r.error
    ]
    statuses = {s.psa_id: s for s in BoardStatus.objects.filter(connection=at_connection)}
    assert set(statuses) == {1, 5, 8, 9}
    assert statuses[5].closed_status and not statuses[1].closed_status and statuses[1].default_flag
    assert statuses[9].inactive and statuses[1].board_psa_id is None  # one global list
    assert set(ServiceBoard.objects.filter(connection=at_connection).values_list("name", flat=True)) == {
        "Level I Support",
        "Monitoring",
    }
    assert Member.objects.get(connection=at_connection, psa_id=29682903).inactive
    # The API user is nobody to assign or link: pickers (active members only) leave it out.
    assert Member.objects.get(connection=at_connection, psa_id=29682999).inactive
    assert not Member.objects.get(connection=at_connection, psa_id=29682900).inactive
    tickets = {t.psa_id: t for t in Ticket.objects.filter(connection=at_connection)}
    assert set(tickets) == {7001, 7002, 90001}  # 7003 was completed long before the retention
    first = tickets[7001]
    assert (first.kind, first.summary, first.board_name, first.status_name, first.priority_name) == (
        "service",
        "Ticket 7001",
        "Level I Support",
        "New",
        "Medium",
    )
    assert (first.company_name, first.owner_identifier, first.owner_name, first.resources) == (
        "Acme",
        "ada",
        "Ada Lovelace",
        "ada, bob",  # the primary resource, then the secondary one
    )
    assert first.respond_by.isoformat() == "2026-11-01T10:00:00+00:00"
    assert first.resolve_by.isoformat() == "2026-11-02T09:00:00+00:00"  # no offset: UTC
    assert first.is_in_sla is False and not first.closed
    assert first.raw["userDefinedFields"] == [{"name": "Customer Rank", "value": "Gold"}]
    assert tickets[7002].status_psa_id == 99 and tickets[7002].status_name == ""  # unknown value kept
    task = tickets[90001]
    assert (task.kind, task.project_name, task.status_name, task.owner_identifier) == (
        "project",
        "Move",
        "In Progress",
        "bob",
    )
    assert (task.company_psa_id, task.company_name) == (174, "Acme")  # its project's company
    assignment = TicketAssignment.objects.get(connection=at_connection, source="ticket")
    assert (assignment.ticket_psa_id, assignment.member_identifier, assignment.member_name) == (
        7001,
        "bob",
        "Bob Byte",
    )
    notes = {n.psa_id: n for n in ServiceNote.objects.filter(connection=at_connection)}
    assert set(notes) == {500, 600}  # the workflow-rule note is not mirrored
    assert (
        notes[500].ticket_kind,
        notes[500].ticket_psa_id,
        notes[500].member_identifier,
        notes[500].internal,
    ) == ("service", 7001, "ada", False)
    assert (notes[600].ticket_kind, notes[600].ticket_psa_id, notes[600].internal) == ("project", 90001, True)
    charges = dict(TimeEntry.objects.filter(connection=at_connection).values_list("psa_id", "charge_to_type"))
    assert charges == {800: "ServiceTicket", 801: "ProjectTicket"}


def test_queries_ask_only_for_mirrored_fields_and_scope_tickets(fake_autotask, at_connection):
    sync_tier(connection_id=at_connection.pk, tier="core", entity="service_tickets")
    entity, body = next(q for q in fake_autotask.queries if q[0] == "Tickets")
    assert body["MaxRecords"] == 500
    assert (
        body["IncludeFields"][:3] == ["id", "lastActivityDate", "title"]
        and "ticketNumber" in body["IncludeFields"]
    )
    retention_cutoff = "2030-05-08T10:30:00.000Z"  # frozen now - 7 days
    assert body["filter"] == [
        {
            "op": "or",
            "items": [
                {"op": "noteq", "field": "status", "value": 5},
                {"op": "gt", "field": "completedDate", "value": retention_cutoff},
            ],
        }
    ]


def test_the_changes_tier_lists_what_changed_since_each_entitys_stamp(
    fake_autotask, at_connection, frozen_clock
):
    _full(at_connection.pk)
    fake_autotask.queries.clear()
    frozen_clock.shift(600)
    tickets = fake_autotask.records["Tickets"]
    tickets[0] = ticket(7001, title="Renamed", lastActivityDate="2099-01-01T00:00:00Z")
    runs = sync_tier(connection_id=at_connection.pk, tier="changes")
    assert {r.status for r in runs} == {SyncRun.Status.SUCCEEDED}
    asked = {entity: body["filter"] for entity, body in fake_autotask.queries}
    assert set(asked) == {
        "Companies",
        "Projects",
        "Opportunities",
        "Tickets",
        "Tasks",
        "TimeEntries",
        "TicketNotes",
        "TaskNotes",
    }
    stamps = {entity: f[-1]["field"] for entity, f in asked.items()}
    assert stamps["Tickets"] == "lastActivityDate" and stamps["TimeEntries"] == "lastModifiedDateTime"
    assert stamps["Tasks"] == "lastActivityDateTime" and stamps["Opportunities"] == "lastActivity"
    assert all(f[-1]["op"] == "gt" for f in asked.values())
    assert Ticket.objects.get(connection=at_connection, psa_id=7001).summary == "Renamed"
    listed = [r for r in runs if r.entity != "deleted_tickets"]  # the deletion log starts watching
    assert [r.requests for r in listed] == [1] * len(listed)  # idle entities: one request each


def test_a_full_run_deletes_what_autotask_no_longer_returns(fake_autotask, at_connection, frozen_clock):
    _full(at_connection.pk)
    frozen_clock.shift(60)  # rows not seen are those stamped before the run's start
    fake_autotask.records["Tickets"] = [t for t in fake_autotask.records["Tickets"] if t["id"] != 7002]
    fake_autotask.records["TicketNotes"] = []
    runs = {
        r.entity: r for r in sync_tier(connection_id=at_connection.pk, tier="core", entity="service_tickets")
    }
    assert runs["service_tickets"].deleted == 1
    assert not Ticket.objects.filter(connection=at_connection, psa_id=7002).exists()
    [notes_run] = sync_tier(connection_id=at_connection.pk, tier="reference", entity="ticket_notes")
    assert notes_run.deleted == 1
    # task notes share the model but are another entity's scope: untouched
    assert list(ServiceNote.objects.filter(connection=at_connection).values_list("psa_id", flat=True)) == [
        600
    ]


def test_the_deletion_log_removes_deleted_tickets_between_full_runs(
    fake_autotask, at_connection, frozen_clock
):
    _full(at_connection.pk)
    [first] = sync_tier(connection_id=at_connection.pk, tier="changes", entity="deleted_tickets")
    assert first.error == "deletion log: watching from now on" and first.requests == 0
    frozen_clock.shift(600)
    fake_autotask.records["Tickets"] = [t for t in fake_autotask.records["Tickets"] if t["id"] != 7002]
    fake_autotask.records["DeletedTicketLogs"] = [
        {
            "id": 1,
            "ticketID": 7002,
            "deletedDateTime": "2030-05-15T10:35:00.000Z",
            "deletedByResourceID": 29682900,
        },
        {"id": 2, "ticketID": 6000, "deletedDateTime": "2030-05-15T10:36:00.000Z"},  # never mirrored
        {"id": 3, "ticketID": 7001, "deletedDateTime": "2020-01-01T00:00:00.000Z"},  # before the watermark
    ]
    [run] = sync_tier(connection_id=at_connection.pk, tier="changes", entity="deleted_tickets")
    assert (run.status, run.fetched, run.deleted) == (SyncRun.Status.SUCCEEDED, 2, 1)
    assert set(Ticket.objects.filter(connection=at_connection).values_list("psa_id", flat=True)) == {
        7001,
        90001,
    }
    _, body = fake_autotask.queries[-1]
    assert body["filter"] == [{"op": "gt", "field": "deletedDateTime", "value": "2030-05-15T10:28:00.000Z"}]


def test_the_notes_tier_has_nothing_to_fan_out_for_autotask(fake_autotask, at_connection):
    # Notes ride the changes tier (bulk by lastActivityDate): no per-ticket requests.
    from django.core.management import call_command

    call_command(
        "sync", "--connection", at_connection.name, "--tier", "notes", stdout=StringIO(), stderr=StringIO()
    )
    assert fake_autotask.queries == []
    assert not SyncRun.objects.filter(connection=at_connection, tier="notes").exists()


@pytest.mark.redis
def test_unknown_picklist_values_and_udfs_are_counted_not_fatal(fake_autotask, at_connection):
    from psa.metrics import UNMAPPED_VALUES
    from topleft.counters import counters_read

    def counted() -> dict[str, float]:
        samples = counters_read([UNMAPPED_VALUES])[UNMAPPED_VALUES.name]
        return {
            labels["field"]: value
            for labels, value in samples
            if labels["connection"] == str(at_connection.pk)
        }

    before = counted()
    runs = sync_tier(connection_id=at_connection.pk, tier="reference", entity="board_statuses")
    runs += sync_tier(connection_id=at_connection.pk, tier="core", entity="service_tickets")
    assert {r.status for r in runs} == {SyncRun.Status.SUCCEEDED}
    after = counted()
    assert after["status"] - before.get("status", 0) == 1  # ticket 7002's status 99
    assert after["Tickets.userDefinedFields"] - before.get("Tickets.userDefinedFields", 0) == 2


def test_opportunity_statuses_say_won_lost_and_closed(fake_autotask, at_connection):
    from boards.models import Opportunity, OpportunityStatus

    fake_autotask.records["Opportunities"].append(
        {**fake_autotask.records["Opportunities"][0], "id": 13, "status": 3}
    )
    runs = sync_tier(connection_id=at_connection.pk, tier="reference", entity="opportunity_statuses")
    runs += sync_tier(connection_id=at_connection.pk, tier="core", entity="opportunities")
    assert {r.status for r in runs} == {SyncRun.Status.SUCCEEDED}
    flags = OpportunityStatus.objects.filter(connection=at_connection).values_list(
        "psa_id", "won_flag", "lost_flag", "closed_flag", "default_flag"
    )
    assert sorted(flags) == [
        (1, False, False, False, True),
        (2, False, True, True, False),
        (3, True, False, True, False),
    ]
    closed = dict(Opportunity.objects.filter(connection=at_connection).values_list("psa_id", "closed"))
    assert closed == {12: False, 13: True}


def test_service_call_resources_are_assignments_beside_secondary_resources_with_the_same_id(
    fake_autotask, at_connection
):
    fake_autotask.records["Tickets"][1]["assignedResourceID"] = None  # 7002: nobody but the call's
    runs = _full(at_connection.pk)
    assert {r.status for r in runs} == {SyncRun.Status.SUCCEEDED}
    rows = {(a.source, a.psa_id): a for a in TicketAssignment.objects.filter(connection=at_connection)}
    # TicketSecondaryResources 1 and ServiceCallTicketResources 1: two records, two rows.
    assert set(rows) == {("ticket", 1), ("service_call", 1), ("service_call", 2)}
    call = rows["service_call", 1]
    assert (call.ticket_psa_id, call.member_identifier, call.member_name, call.done) == (
        7002,
        "ada",
        "Ada Lovelace",
        False,
    )
    assert call.date_start and call.date_end
    assert (call.date_start.isoformat(), call.date_end.isoformat()) == (
        "2030-05-16T09:00:00+00:00",
        "2030-05-16T11:00:00+00:00",
    )
    assert rows["service_call", 2].done and rows["ticket", 1].member_identifier == "bob"
    # The link entity is listed with only its own fields; the joined ones come from their entities.
    bodies = {entity: body for entity, body in fake_autotask.queries}
    assert bodies["ServiceCallTicketResources"]["IncludeFields"] == [
        "id",
        "resourceID",
        "serviceCallTicketID",
    ]
    assert bodies["ServiceCalls"]["IncludeFields"] == ["id", "startDateTime", "endDateTime", "isComplete"]
    # A ticket scheduled on an open service call shows that resource; a complete call's does not.
    resources = dict(Ticket.objects.filter(connection=at_connection).values_list("psa_id", "resources"))
    assert (resources[7001], resources[7002]) == ("ada, bob", "ada")


def test_full_runs_of_either_assignment_entity_delete_only_their_own_rows(
    fake_autotask, at_connection, frozen_clock
):
    _full(at_connection.pk)
    frozen_clock.shift(60)  # rows not seen are those stamped before the run's start
    fake_autotask.records["TicketSecondaryResources"] = []
    sync_tier(connection_id=at_connection.pk, tier="core", entity="ticket_assignments")
    remaining = TicketAssignment.objects.filter(connection=at_connection)
    assert sorted(remaining.values_list("source", "psa_id")) == [("service_call", 1), ("service_call", 2)]
    frozen_clock.shift(60)
    fake_autotask.records["ServiceCallTicketResources"] = fake_autotask.records["ServiceCallTicketResources"][
        1:
    ]
    sync_tier(connection_id=at_connection.pk, tier="core", entity="service_call_assignments")
    assert sorted(remaining.values_list("source", "psa_id")) == [("service_call", 2)]
