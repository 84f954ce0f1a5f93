"""Autotask write-back pushers against a `responses` Autotask: the verbs, paths, bodies and the
ImpersonationResourceId header of each outbox action, what lands in the mirror, lost creates
looked up instead of sent twice, and refusals that reach the card word for word."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import requests
import responses

from boards.models import Member, Membership, ServiceNote, Ticket, TicketAssignment, TimeEntry
from psa.autotask.pushers_common import NOT_LINKED
from sync import outbox, writeback
from sync.models import Connection, OutboxEntry
from tests.psa.autotask.mock import API, CODE, DISCOVERY, SECRET, USER, make_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

ADA, BOB, CARL = 29682900, 29682903, 29682905
TICKET = 7001


@pytest.fixture
def connection(db):
    return Connection.objects.create(
        name="acme-at",
        provider="autotask",
        credentials={"username": USER, "secret": SECRET, "integration_code": CODE, "zone_url": DISCOVERY},
    )


@pytest.fixture
def card(connection):
    for psa_id, name in ((ADA, "ada"), (BOB, "bob"), (CARL, "carl")):
        Member.objects.create(connection=connection, psa_id=psa_id, identifier=name, first_name=name.title())
    return Ticket.objects.create(connection=connection, psa_id=TICKET, summary="Printer", status_psa_id=1)


@pytest.fixture
def ada(connection, django_user_model):
    """A user linked to Autotask resource ADA."""
    user = django_user_model.objects.create_user(username="ada", email="ada@x.example")
    Membership.objects.create(user=user, connection=connection, member_psa_id=ADA, member_identifier="ada")
    return user


@pytest.fixture
def unlinked(connection, django_user_model):
    user = django_user_model.objects.create_user(username="eve", email="eve@x.example")
    Membership.objects.create(user=user, connection=connection)
    return user


class Autotask:
    """Just enough state behind `responses`: one ticket, its secondary resources, created records."""

    def __init__(self, rsps: responses.RequestsMock) -> None:
        self.rsps = rsps
        self.ticket = {
            "id": TICKET,
            "title": "Printer",
            "status": 1,
            "priority": 2,
            "assignedResourceID": None,
        }
        self.links: list[dict] = []
        self.created: dict[str, list[dict]] = {}  # entity → records (notes, time entries)
        self.roles = {
            ADA: [{"id": 1, "roleID": 4, "isDefault": False}, {"id": 2, "roleID": 7, "isDefault": True}],
            BOB: [{"id": 3, "roleID": 5, "isDefault": True}],
            CARL: [{"id": 4, "roleID": 6, "isDefault": True}],
        }
        rsps.add_callback(responses.GET, API + f"Tickets/{TICKET}", callback=self._get_ticket)
        rsps.add_callback(responses.PATCH, API + "Tickets", callback=self._patch_ticket)
        rsps.add_callback(responses.POST, re.compile(re.escape(API) + r"\w+/query$"), callback=self._query)
        rsps.add_callback(
            responses.GET, re.compile(re.escape(API) + r"(TicketSecondaryResources|TicketNotes|TimeEntries)/\d+$"),
            callback=self._get_created,
        )  # fmt: skip
        rsps.get(
            API + "TicketNotes/entityInformation/fields",
            json={
                "fields": [
                    {
                        "name": "noteType",
                        "isPickList": True,
                        "picklistValues": [
                            {"value": "1", "label": "Task Summary", "isActive": True},
                            {"value": "3", "label": "Task Notes", "isActive": True, "isDefaultValue": True},
                            {"value": "13", "label": "Workflow Rule Action Note", "isActive": True},
                        ],
                    }
                ]
            },
        )

    def writes(self) -> list[tuple[str, str, dict | None, str | None]]:
        """(method, path, body, ImpersonationResourceId) of every write sent."""
        return [
            (
                c.request.method,
                str(c.request.url).split("/V1.0/", 1)[1],
                json.loads(c.request.body) if c.request.body else None,
                c.request.headers.get("ImpersonationResourceId"),
            )
            for c in self.rsps.calls
            if c.request.method in ("POST", "PATCH", "DELETE") and not str(c.request.url).endswith("/query")
        ]

    def _get_ticket(self, request):
        return 200, {}, json.dumps({"item": self.ticket})

    def _patch_ticket(self, request):
        body = json.loads(request.body)
        self.ticket.update({k: v for k, v in body.items() if k != "id"})
        return 200, {}, json.dumps({"itemId": body["id"]})

    def _query(self, request):
        entity = request.url.split("/V1.0/", 1)[1].split("/")[0]
        wanted = {i["field"]: i["value"] for i in json.loads(request.body)["filter"] if i["op"] == "eq"}
        if entity == "ResourceServiceDeskRoles":
            rows = self.roles.get(wanted["resourceID"], [])
        else:
            pool = self.links if entity == "TicketSecondaryResources" else self.created.get(entity, [])
            rows = [r for r in pool if all(r.get(f) == v for f, v in wanted.items() if f != "isActive")]
        return 200, {}, json.dumps({"items": rows, "pageDetails": {"count": len(rows), "nextPageUrl": None}})

    def _get_created(self, request):
        entity, psa_id = request.url.split("/V1.0/", 1)[1].split("/")
        pool = self.links if entity == "TicketSecondaryResources" else self.created.get(entity, [])
        found = next((r for r in pool if r["id"] == int(psa_id)), None)
        return 200, {}, json.dumps({"item": found})

    def link(self, link_id: int, resource_id: int, role_id: int) -> None:
        self.links.append({"id": link_id, "ticketID": TICKET, "resourceID": resource_id, "roleID": role_id})

    def answer_create(self, path: str, entity: str, record: dict, *, lost: bool | int = False) -> None:
        """POST `path` creates `record`; `lost`: it lands, but the answer never comes back (True:
        a read timeout; a number: that 5xx status, once)."""

        def create(request):
            pool = self.links if entity == "TicketSecondaryResources" else self.created.setdefault(entity, [])
            pool.append({**json.loads(request.body), **record})
            if lost is True:
                raise requests.exceptions.ReadTimeout("read timed out")
            if lost and len(pool) == 1:
                return int(lost), {}, "<html>Bad Gateway</html>"
            return 200, {}, json.dumps({"itemId": record["id"]})

        self.rsps.add_callback(responses.POST, API + path, callback=create)

    def unlink_answers(self) -> None:
        def delete(request):
            link_id = int(request.url.rsplit("/", 1)[1])
            self.links[:] = [link for link in self.links if link["id"] != link_id]
            return 200, {}, json.dumps({"itemId": link_id})

        self.rsps.add_callback(
            responses.DELETE,
            re.compile(re.escape(API) + rf"Tickets/{TICKET}/SecondaryResources/\d+$"),
            callback=delete,
        )


@pytest.fixture
def autotask(autotask):  # tests/psa/autotask/conftest.py: zone discovery answered
    return Autotask(autotask)


def _push(entry: OutboxEntry) -> str:
    return outbox.outbox_push(entry_id=entry.pk, client=make_client(zone_url=DISCOVERY))


def _card(card: Ticket) -> Ticket:
    return Ticket.objects.get(pk=card.pk)


# --- status, priority ----------------------------------------------------------------------------


def test_it_patches_the_status_as_the_users_linked_resource(autotask, card, ada):
    entry = writeback.ticket_change_status(ticket=card, status_psa_id=8, user=ada)
    assert _push(entry) == "done"
    assert autotask.writes() == [("PATCH", "Tickets", {"status": 8, "id": TICKET}, str(ADA))]
    assert _card(card).status_psa_id == 8


def test_an_edit_without_a_user_is_made_as_the_api_user(autotask, card):
    entry = writeback.ticket_change_priority(ticket=card, priority_psa_id=1)
    assert _push(entry) == "done"
    assert autotask.writes() == [("PATCH", "Tickets", {"priority": 1, "id": TICKET}, None)]


# --- resources ----------------------------------------------------------------------------------


def test_adding_to_a_ticket_without_a_primary_makes_the_resource_primary_in_its_default_role(
    autotask, card, ada
):
    entry = writeback.ticket_add_resource(ticket=card, member_psa_id=BOB, user=ada)
    assert _push(entry) == "done"
    assert autotask.writes() == [
        ("PATCH", "Tickets", {"assignedResourceID": BOB, "assignedResourceRoleID": 5, "id": TICKET}, str(ADA))
    ]
    assert _card(card).owner_psa_id == BOB
    assert not TicketAssignment.objects.filter(connection=card.connection).exists()  # placeholder gone


def test_adding_to_a_ticket_with_a_primary_adds_a_secondary_resource(autotask, card, ada):
    autotask.ticket.update(assignedResourceID=ADA, assignedResourceRoleID=7)
    autotask.answer_create(f"Tickets/{TICKET}/SecondaryResources", "TicketSecondaryResources", {"id": 55})
    entry = writeback.ticket_add_resource(ticket=card, member_psa_id=BOB, user=ada)
    assert _push(entry) == "done"
    assert autotask.writes() == [
        (
            "POST",
            f"Tickets/{TICKET}/SecondaryResources",
            {"ticketID": TICKET, "resourceID": BOB, "roleID": 5},
            str(ADA),
        )
    ]
    assert list(TicketAssignment.objects.values_list("psa_id", "ticket_psa_id", "member_psa_id")) == [
        (55, TICKET, BOB)
    ]


def test_adding_someone_already_on_the_ticket_writes_nothing(autotask, card):
    autotask.ticket.update(assignedResourceID=ADA, assignedResourceRoleID=7)
    autotask.link(55, BOB, 5)
    entry = writeback.ticket_add_resource(ticket=card, member_psa_id=BOB)
    assert _push(entry) == "done"
    assert autotask.writes() == []
    assert list(TicketAssignment.objects.values_list("psa_id", flat=True)) == [55]


def test_removing_the_primary_hands_the_ticket_to_the_first_secondary(autotask, card, ada):
    autotask.ticket.update(assignedResourceID=ADA, assignedResourceRoleID=7)
    autotask.link(56, CARL, 6)
    autotask.link(55, BOB, 5)
    autotask.unlink_answers()
    entry = writeback.ticket_remove_resource(ticket=card, member_psa_id=ADA, user=ada)
    assert _push(entry) == "done"
    assert autotask.writes() == [
        (
            "PATCH",
            "Tickets",
            {"assignedResourceID": BOB, "assignedResourceRoleID": 5, "id": TICKET},
            str(ADA),
        ),
        ("DELETE", f"Tickets/{TICKET}/SecondaryResources/55", None, str(ADA)),
    ]
    assert [link["resourceID"] for link in autotask.links] == [CARL]
    assert _card(card).owner_psa_id == BOB


def test_removing_the_only_resource_leaves_the_ticket_unassigned(autotask, card):
    autotask.ticket.update(assignedResourceID=ADA, assignedResourceRoleID=7)
    entry = writeback.ticket_remove_resource(ticket=card, member_psa_id=ADA)
    assert _push(entry) == "done"
    assert autotask.writes() == [
        ("PATCH", "Tickets", {"assignedResourceID": None, "assignedResourceRoleID": None, "id": TICKET}, None)
    ]


def test_removing_a_secondary_deletes_its_link(autotask, card):
    autotask.ticket.update(assignedResourceID=ADA, assignedResourceRoleID=7)
    autotask.link(55, BOB, 5)
    autotask.unlink_answers()
    TicketAssignment.objects.create(
        connection=card.connection, psa_id=55, ticket_psa_id=TICKET, member_psa_id=BOB
    )
    entry = writeback.ticket_remove_resource(ticket=card, member_psa_id=BOB)
    assert _push(entry) == "done"
    assert autotask.writes() == [("DELETE", f"Tickets/{TICKET}/SecondaryResources/55", None, None)]
    assert autotask.links == [] and not TicketAssignment.objects.exists()


# --- notes --------------------------------------------------------------------------------------


def test_a_note_is_created_under_its_ticket_as_its_author(autotask, card, ada):
    autotask.answer_create(
        f"Tickets/{TICKET}/Notes",
        "TicketNotes",
        {"id": 900, "creatorResourceID": ADA, "createDateTime": None},
    )
    entry = writeback.ticket_note_add(
        ticket=card,
        text="Replaced the toner\nand cleaned the drum",
        internal=True,
        member_psa_id=ADA,
        user=ada,
    )
    assert _push(entry) == "done"
    assert autotask.writes() == [
        (
            "POST",
            f"Tickets/{TICKET}/Notes",
            {
                "ticketID": TICKET,
                "title": "Replaced the toner",
                "description": "Replaced the toner\nand cleaned the drum",
                "noteType": 3,
                "publish": 2,
            },
            str(ADA),
        )
    ]
    note = ServiceNote.objects.get(connection=card.connection)
    assert (note.psa_id, note.member_identifier, note.internal) == (900, "ada", True)
    assert OutboxEntry.objects.get(pk=entry.pk).result_psa_id == 900


def test_a_note_with_no_author_is_refused_before_anything_is_written(autotask, card):
    entry = writeback.ticket_note_add(ticket=card, text="Who wrote this?")
    assert _push(entry) == "failed"
    assert autotask.writes() == []
    assert _card(card).writeback_error == f"Add a ticket note was rejected by the PSA: {NOT_LINKED}"
    assert not ServiceNote.objects.exists()


def test_a_note_whose_answer_was_lost_is_found_not_sent_again(autotask, card, ada, frozen_now):
    autotask.answer_create(
        f"Tickets/{TICKET}/Notes",
        "TicketNotes",
        {"id": 901, "creatorResourceID": ADA, "createDateTime": frozen_now.isoformat()},
        lost=True,
    )
    entry = writeback.ticket_note_add(ticket=card, text="Called the customer", member_psa_id=ADA, user=ada)
    assert _push(entry) == "retry"  # it landed, but we cannot know: the POST is not repeated
    assert _push(entry) == "done"
    assert [w[0] for w in autotask.writes()] == ["POST"]
    assert list(ServiceNote.objects.values_list("psa_id", flat=True)) == [901]


def test_a_lost_note_is_not_confused_with_an_older_one_of_the_same_text(autotask, card, ada, frozen_now):
    autotask.created["TicketNotes"] = [  # the same words, but another edit's note
        {"id": 850, "ticketID": TICKET, "title": "Called", "description": "Called", "creatorResourceID": ADA,
         "createDateTime": (frozen_now - timedelta(minutes=1)).isoformat()}
    ]  # fmt: skip
    OutboxEntry.objects.create(
        connection=card.connection, action="ticket_note_add", kind="ticket", psa_id=TICKET,
        state="done", result_psa_id=850,
    )  # fmt: skip
    autotask.answer_create(f"Tickets/{TICKET}/Notes", "TicketNotes", {"id": 902, "creatorResourceID": ADA})
    entry = writeback.ticket_note_add(ticket=card, text="Called", member_psa_id=ADA, user=ada)
    OutboxEntry.objects.filter(pk=entry.pk).update(attempts=1)  # a retry: it looks first
    assert _push(entry) == "done"
    assert [w[0] for w in autotask.writes()] == ["POST"]
    assert OutboxEntry.objects.get(pk=entry.pk).result_psa_id == 902


def test_a_note_retried_by_the_user_after_a_lost_answer_is_not_sent_twice(autotask, card, ada, frozen_now):
    # The first entry's POST landed but its answer was lost; it was then refused for good.
    autotask.created["TicketNotes"] = [
        {"id": 903, "ticketID": TICKET, "title": "Ordered toner", "description": "Ordered toner",
         "creatorResourceID": ADA, "createDateTime": (frozen_now - timedelta(hours=2)).isoformat()}
    ]  # fmt: skip
    OutboxEntry.objects.create(
        connection=card.connection, action="ticket_note_add", kind="ticket", psa_id=TICKET,
        state="failed", attempts=10, error="gave up",
    )  # fmt: skip
    OutboxEntry.objects.filter(state="failed").update(created_at=frozen_now - timedelta(hours=2))
    entry = writeback.ticket_note_add(ticket=card, text="Ordered toner", member_psa_id=ADA, user=ada)  # Retry
    assert _push(entry) == "done"
    assert autotask.writes() == []
    [query] = [c for c in autotask.rsps.calls if str(c.request.url).endswith("TicketNotes/query")]
    window = next(i for i in json.loads(query.request.body)["filter"] if i["field"] == "createDateTime")
    assert window["value"] == "2030-05-15T08:15:00.000Z"  # the refused entry's time, less the lookback
    assert OutboxEntry.objects.get(pk=entry.pk).result_psa_id == 903


def test_a_refused_note_reverts_and_shows_autotasks_message_verbatim(autotask, card, ada):
    message = "The resource 29682900 is inactive and cannot be assigned."
    autotask.rsps.post(API + f"Tickets/{TICKET}/Notes", status=500, json={"errors": [message]})
    entry = writeback.ticket_note_add(ticket=card, text="Note", member_psa_id=ADA, user=ada)
    assert _push(entry) == "failed"
    assert _card(card).writeback_error == f"Add a ticket note was rejected by the PSA: {message}"
    assert not ServiceNote.objects.exists()  # the placeholder is gone
    assert OutboxEntry.objects.get(pk=entry.pk).error.endswith(message)


# --- time entries -------------------------------------------------------------------------------


def _time(card, frozen_now, user, member=ADA):
    start = frozen_now - timedelta(hours=2)
    return writeback.time_entry_create(
        ticket=card, member_psa_id=member, time_start=start, time_end=start + timedelta(minutes=90),
        notes="Swapped the fuser", user=user,
    )  # fmt: skip


def test_a_time_entry_is_created_as_the_user_in_the_resources_role(autotask, card, ada, frozen_now):
    autotask.answer_create("TimeEntries", "TimeEntries", {"id": 70})
    entry = _time(card, frozen_now, ada)
    assert _push(entry) == "done"
    assert autotask.writes() == [
        (
            "POST",
            "TimeEntries",
            {
                "resourceID": ADA,
                "roleID": 7,
                "ticketID": TICKET,
                "dateWorked": "2030-05-15T00:00:00.000Z",
                "startDateTime": "2030-05-15T08:30:00.000Z",
                "endDateTime": "2030-05-15T10:00:00.000Z",
                "hoursWorked": 1.5,
                "summaryNotes": "Swapped the fuser",
                "isNonBillable": False,
            },
            str(ADA),
        )
    ]
    time_entry = TimeEntry.objects.get(connection=card.connection)
    assert (time_entry.psa_id, time_entry.charge_to_psa_id, time_entry.actual_hours) == (70, TICKET, 1.5)


def test_time_logged_by_an_unlinked_user_is_refused_before_anything_is_written(
    autotask, card, unlinked, frozen_now
):
    entry = _time(card, frozen_now, unlinked, member=BOB)
    assert _push(entry) == "failed"
    assert autotask.writes() == []
    assert NOT_LINKED in _card(card).writeback_error
    assert not TimeEntry.objects.exists()


@pytest.mark.parametrize("lost", [True, 502], ids=["timeout", "bad-gateway"])
def test_a_time_entry_whose_answer_was_lost_is_found_not_sent_again(autotask, card, ada, frozen_now, lost):
    autotask.answer_create("TimeEntries", "TimeEntries", {"id": 71}, lost=lost)
    entry = _time(card, frozen_now, ada)
    assert _push(entry) == "retry"
    assert _push(entry) == "done"
    assert [w[:2] for w in autotask.writes()] == [("POST", "TimeEntries")]
    assert list(TimeEntry.objects.values_list("psa_id", flat=True)) == [71]


# --- tasks and opportunities --------------------------------------------------------------------

TASK, PROJECT = 90001, 400


@pytest.fixture
def task(connection, card):  # card: the members
    return Ticket.objects.create(
        connection=connection, psa_id=TASK, kind=Ticket.Kind.PROJECT, summary="Cable", project_psa_id=PROJECT
    )


def _task_answers(autotask, **fields) -> dict:
    record = {
        "id": TASK,
        "title": "Cable",
        "status": 1,
        "projectID": PROJECT,
        "assignedResourceID": None,
        **fields,
    }

    def patch(request):
        body = json.loads(request.body)
        record.update({k: v for k, v in body.items() if k != "id"})
        return 200, {}, json.dumps({"itemId": body["id"]})

    autotask.rsps.add_callback(responses.PATCH, API + f"Projects/{PROJECT}/Tasks", callback=patch)
    autotask.rsps.add_callback(
        responses.GET, API + f"Tasks/{TASK}", callback=lambda r: (200, {}, json.dumps({"item": record}))
    )
    return record


def test_a_task_status_is_patched_under_its_project_as_the_user(autotask, task, ada):
    _task_answers(autotask)
    entry = writeback.ticket_change_status(ticket=task, status_psa_id=8, user=ada)
    assert _push(entry) == "done"
    assert autotask.writes() == [("PATCH", f"Projects/{PROJECT}/Tasks", {"status": 8, "id": TASK}, str(ADA))]


def test_a_task_without_a_primary_gets_one_and_a_second_resource_is_refused_plainly(autotask, task):
    record = _task_answers(autotask)
    entry = writeback.ticket_add_resource(ticket=task, member_psa_id=BOB)
    assert _push(entry) == "done"
    assert (record["assignedResourceID"], record["assignedResourceRoleID"]) == (BOB, 5)
    entry = writeback.ticket_add_resource(ticket=task, member_psa_id=CARL)
    assert _push(entry) == "failed"
    assert "secondary resources of Autotask tasks are not shown on boards yet" in _card(task).writeback_error
    assert len(autotask.writes()) == 1


def test_a_task_note_and_task_time_go_to_the_task(autotask, task, ada, frozen_now):
    _task_answers(autotask)
    autotask.rsps.get(
        API + "TaskNotes/entityInformation/fields",
        json={"fields": [{"name": "noteType", "picklistValues": [{"value": "1", "isDefaultValue": True}]}]},
    )
    autotask.rsps.post(API + f"Tasks/{TASK}/Notes", json={"itemId": 610})
    autotask.rsps.get(
        API + "TaskNotes/610",
        json={"item": {"id": 610, "taskID": TASK, "description": "Pulled cable", "creatorResourceID": ADA}},
    )
    autotask.answer_create("TimeEntries", "TimeEntries", {"id": 72})
    note = writeback.ticket_note_add(ticket=task, text="Pulled cable", member_psa_id=ADA, user=ada)
    time_entry = _time(task, frozen_now, ada)
    assert _push(note) == "done" and _push(time_entry) == "done"
    [(_, note_path, note_body, _), (_, _, time_body, _)] = autotask.writes()
    assert note_path == f"Tasks/{TASK}/Notes" and note_body["taskID"] == TASK and note_body["publish"] == 1
    assert time_body["taskID"] == TASK and "ticketID" not in time_body
    assert ServiceNote.objects.get(psa_id=610).ticket_kind == "project"
    assert TimeEntry.objects.get(psa_id=72).charge_to_type == "ProjectTicket"


def test_an_opportunity_stage_is_patched_as_the_user(autotask, connection, ada):
    from boards.models import Opportunity

    opportunity = Opportunity.objects.create(connection=connection, psa_id=12, name="Upsell", stage_psa_id=1)
    autotask.rsps.patch(API + "Opportunities", json={"itemId": 12})
    autotask.rsps.get(API + "Opportunities/12", json={"item": {"id": 12, "title": "Upsell", "stage": 3}})
    entry = writeback.opportunity_change_stage(opportunity=opportunity, stage_psa_id=3, user=ada)
    assert _push(entry) == "done"
    assert autotask.writes() == [("PATCH", "Opportunities", {"stage": 3, "id": 12}, str(ADA))]
    opportunity.refresh_from_db()
    assert opportunity.stage_psa_id == 3
