"""Seeded data: deterministic, in Autotask's shape, with consistent links and SLA due dates."""

from __future__ import annotations

from datetime import timedelta

import pytest

from psa.sandbox.autotask.data import generate
from psa.sandbox.autotask.schema import entities
from psa.sandbox.autotask.store import AutotaskStore
from psa.sandbox.autotask.wire import wire_time
from tests.psa.sandbox.autotask.conftest import ANCHOR


def _snapshot(seed: int, anchor=ANCHOR) -> dict[str, list[dict]]:
    store = AutotaskStore()
    generate(store, scale="small", seed=seed, anchor=anchor)
    return {spec.name: store.list(spec.name) for spec in entities().values()}


def test_it_is_deterministic_for_a_seed_and_anchor():
    first, second = _snapshot(1), _snapshot(1)
    assert first == second
    assert _snapshot(2)["Tickets"] != first["Tickets"]
    moved = _snapshot(1, ANCHOR + timedelta(days=1))["Tickets"]
    assert [t["title"] for t in moved] == [t["title"] for t in first["Tickets"]]
    assert moved[0]["createDate"] != first["Tickets"][0]["createDate"]


STAMPS = ("create", "lastactivity", "lastmodified", "lasttracked", "completed", "deleted", "resolveddatetime",
          "firstresponsedatetime")  # fmt: skip


def test_every_generated_field_is_an_autotask_field_and_stamps_lie_before_the_anchor(shared_sandbox):
    before = wire_time(ANCHOR)
    for spec in entities().values():
        stamps = [
            f.name for f in spec.fields.values() if f.type == "datetime" and f.name.lower().startswith(STAMPS)
        ]
        for record in shared_sandbox.store.list(spec.name):
            assert {k for k in record if k != "_udf"} <= {f.name for f in spec.fields.values()}, spec.name
            assert all(record[name] <= before for name in stamps if name in record), spec.name


@pytest.mark.parametrize(
    ("child", "parent_field", "parent"),
    [("TicketSecondaryResources", "ticketID", "Tickets"), ("Tasks", "projectID", "Projects"),
     ("ServiceCallTickets", "ticketID", "Tickets"), ("TimeEntries", "resourceID", "Resources"),
     ("Tickets", "companyID", "Companies"), ("ResourceServiceDeskRoles", "roleID", "Roles")],
)  # fmt: skip
def test_links_point_at_existing_records(shared_sandbox, child, parent_field, parent):
    store = shared_sandbox.store
    children = store.list(child)
    assert children
    assert all(
        store.get(parent, record[parent_field]) is not None for record in children if parent_field in record
    )


def test_tickets_carry_autotask_shape_and_sla_fields(shared_sandbox):
    tickets = shared_sandbox.store.list("Tickets")
    with_sla = [t for t in tickets if "serviceLevelAgreementID" in t]
    assert 0.6 < len(with_sla) / len(tickets) < 0.95
    for ticket in with_sla:
        assert (
            ticket["createDate"]
            < ticket["firstResponseDueDateTime"]
            <= ticket["resolutionPlanDueDateTime"]
            <= ticket["resolvedDueDateTime"]
        )
    complete = [t for t in with_sla if t["status"] == 5]
    assert {t["serviceLevelAgreementHasBeenMet"] for t in complete} == {True, False}
    assigned = [t for t in tickets if "assignedResourceID" in t]
    assert all("assignedResourceRoleID" in t for t in assigned)
    assert len({t["queueID"] for t in tickets}) >= 5
    assert shared_sandbox.store.list("DeletedTicketLogs")
    assert (
        shared_sandbox.store.get("Tickets", shared_sandbox.store.list("DeletedTicketLogs")[0]["ticketID"])
        is None
    )


def test_it_offers_every_scale_the_connectwise_half_offers():
    from psa.sandbox.autotask.data import SCALES
    from psa.sandbox.connectwise.data import SCALES as CONNECTWISE_SCALES

    assert set(SCALES) == set(CONNECTWISE_SCALES)
    assert all(SCALES[name].tickets == CONNECTWISE_SCALES[name].tickets for name in SCALES)
    store = AutotaskStore()
    generate(store, scale="tiny", seed=1, anchor=ANCHOR)
    assert store.count("Tickets") == 30


def test_tickets_and_tasks_never_share_an_id_nor_do_their_notes(monkeypatch):
    # Autotask keeps tickets and project tasks as one kind of record: one id sequence. Tickets
    # started so high that they run past where tasks used to start (as at large scale).
    monkeypatch.setattr("psa.sandbox.autotask.data_tickets.FIRST_TICKET_ID", 89_800)
    store = AutotaskStore()
    generate(store, scale="small", seed=1, anchor=ANCHOR)
    tickets, tasks = set(store.ids("Tickets")), set(store.ids("Tasks"))
    assert max(tickets) > 90_000
    assert tasks and not tickets & tasks
    ticket_notes, task_notes = set(store.ids("TicketNotes")), set(store.ids("TaskNotes"))
    assert task_notes and not ticket_notes & task_notes
    # Records created through the API draw from the same sequences.
    made_ticket = store.create("Tickets", {"title": "new"})["id"]
    made_task = store.create("Tasks", {"title": "new"})["id"]
    assert made_ticket not in tasks and made_task not in tickets and made_ticket != made_task
    ticket_note = store.create("TicketNotes", {"ticketID": min(tickets)})["id"]
    task_note = store.create("TaskNotes", {"taskID": min(tasks)})["id"]
    assert {ticket_note, task_note}.isdisjoint(ticket_notes | task_notes) and ticket_note != task_note


CHANGE_STAMPS = {
    "Tickets": "lastActivityDate",
    "Tasks": "lastActivityDateTime",
    "TicketNotes": "lastActivityDate",
    "TaskNotes": "lastActivityDate",
    "TimeEntries": "lastModifiedDateTime",
    "ServiceCalls": "lastModifiedDateTime",
    "Companies": "lastActivityDate",
    "Projects": "lastActivityDateTime",
    "Opportunities": "lastActivity",
}


@pytest.mark.parametrize("entity", sorted(CHANGE_STAMPS))
def test_change_stamps_lie_strictly_before_the_anchor_and_rarely_coincide(shared_sandbox, entity):
    # The changes tier lists stamps `gt` its watermark: records stamped with the anchor itself
    # (a clamp) would come back on every run.
    stamps = [record[CHANGE_STAMPS[entity]] for record in shared_sandbox.store.list(entity)]
    assert stamps
    assert max(stamps) < wire_time(ANCHOR)
    assert len(set(stamps)) >= 0.98 * len(stamps)


def test_a_ticket_deleted_in_the_ui_takes_its_service_call_links_and_their_resources(monkeypatch):
    from psa.sandbox.autotask import AutotaskSandbox

    sandbox = AutotaskSandbox(scale="tiny", seed=1, anchor=ANCHOR)
    store = sandbox.store
    link = store.list("ServiceCallTickets")[0]
    assert store.child_ids("ServiceCallTicketResources", link["id"])
    ticket = store.get("Tickets", link["ticketID"])
    monkeypatch.setattr(sandbox.activity, "_pick", lambda entity, want=None: ticket)
    sandbox.activity.ticket_delete()
    assert store.get("Tickets", ticket["id"]) is None
    assert not [r for r in store.list("ServiceCallTickets") if r["ticketID"] == ticket["id"]]
    assert not [r for r in store.list("ServiceCallTicketResources") if r["serviceCallTicketID"] == link["id"]]
