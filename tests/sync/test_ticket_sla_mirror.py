"""The mirror keeps the PSA's own SLA state of service tickets, synced from the sandbox."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from boards.models import Ticket
from psa.connectwise.columns import SLA_COLUMNS
from psa.sandbox.connectwise.sla import Clock, SlaBook, parse_time
from sync.engine.services import sync_tier
from tests.sync.conftest import sandbox_connection

pytestmark = pytest.mark.django_db
TICKETS, NOTES = "service/tickets", "service/tickets/{parentId}/notes"
DATES = {"sla_started_at", "date_responded", "date_resplan", "date_resolved"}


ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)
WRITES_AT = "2026-11-02T15:00:00Z"  # the Monday after the anchor, in working hours


@pytest.fixture
def sandbox_options() -> dict:
    """A fixed anchor: the seeded SLA mix never depends on today's date."""
    return {"anchor": ANCHOR}


def _freeze_psa_clock(sandbox) -> None:
    """The sandbox stamps its writes (and runs SLA clocks) at WRITES_AT, not the wall clock."""
    sandbox.store.clock = lambda: WRITES_AT


def _sync_tickets(connection) -> None:
    [run] = sync_tier(connection_id=connection.pk, tier="core", entity="service_tickets")
    assert run.status == "succeeded", run.error


def _expected(record: dict, column: str, path: str):
    value: object = record
    for part in path.split("/"):
        value = value.get(part) if isinstance(value, dict) else None
    if column in DATES:
        return parse_time(value)
    if value is None and Ticket._meta.get_field(column).get_internal_type() == "CharField":
        return ""
    return value


def _sandbox_deadline(store, record: dict) -> tuple[str, datetime] | None:
    """The deadline the sandbox computes for the ticket's current stage (None if waiting/resolved)."""
    clock = Clock(SlaBook(store), record)
    stage = clock.current_stage()
    if stage is None or clock.waiting:
        return None
    return {"respond": "respond_by", "plan": "plan_by", "resolve": "resolve_by"}[stage], clock.deadline(stage)


def _assert_mirror_equals_sandbox(store, connection) -> int:
    rows = {t.psa_id: t for t in Ticket.objects.filter(connection=connection, kind=Ticket.Kind.SERVICE)}
    checked = 0
    for record in store.list(TICKETS):
        row = rows.get(record["id"])
        if row is None:
            continue  # out of the sync's scope (closed long ago)
        for column, path in SLA_COLUMNS.items():
            assert getattr(row, column) == _expected(record, column, path), (record["id"], column)
        deadline = _sandbox_deadline(store, record)
        for column in ("respond_by", "plan_by", "resolve_by"):
            wanted = deadline[1] if deadline and deadline[0] == column else None
            assert getattr(row, column) == wanted, (record["id"], column, record.get("slaStatus"))
        checked += 1
    return checked


def test_it_mirrors_the_sla_state_the_sandbox_computes(sandbox, fast_client):
    connection = sandbox_connection(sandbox)
    _sync_tickets(connection)
    assert _assert_mirror_equals_sandbox(sandbox.store, connection) > 100
    mirrored = Ticket.objects.filter(connection=connection, kind=Ticket.Kind.SERVICE, closed=False)
    assert mirrored.filter(is_in_sla=True).count() > mirrored.filter(is_in_sla=False).count() > 0
    assert mirrored.filter(sla_status="Waiting", minutes_before_waiting__isnull=False).exists()
    assert mirrored.exclude(respond_by=None).exists() and mirrored.exclude(plan_by=None).exists()


def test_it_follows_a_response_and_a_wait_made_in_the_psa(sandbox, fast_client):
    connection = sandbox_connection(sandbox)
    store = sandbox.store
    _freeze_psa_clock(sandbox)
    ticket = next(
        t for t in store.list(TICKETS) if not t["closedFlag"] and t["slaStatus"].startswith("Respond by ")
    )
    member = store.list("system/members")[0]
    store.create(
        NOTES,
        {
            "ticketId": ticket["id"],
            "text": "Looking now",
            "detailDescriptionFlag": True,
            "member": {"id": member["id"]},
        },
        updated_by=member["identifier"],
    )
    _sync_tickets(connection)
    row = Ticket.objects.get(connection=connection, psa_id=ticket["id"])
    assert (
        row.date_responded == datetime(2026, 11, 2, 15, tzinfo=UTC)
        and row.responded_by == member["identifier"]
    )
    assert row.respond_by is None and row.plan_by is not None and row.sla_status.startswith("Plan by ")
    waiting = next(
        s
        for s in store.list("service/boards/{parentId}/statuses", parent_id=ticket["board"]["id"])
        if s["escalationStatus"] == "NoEscalation"
    )
    store.update(TICKETS, ticket["id"], {"status": {"id": waiting["id"]}})
    _sync_tickets(connection)
    row.refresh_from_db()
    assert row.sla_status == "Waiting" and row.plan_by is None
    assert _assert_mirror_equals_sandbox(store, connection) > 100


def test_it_requests_the_sla_fields_it_mirrors():
    from psa.connectwise.catalog import CATALOG

    fields = CATALOG.mapping("service_tickets").api_fields
    assert {"slaStatus", "isInSla", "dateResponded", "minutesWaiting", "escalationStartDateUTC"} <= set(
        fields
    )
    assert "slaStatus" not in CATALOG.mapping("project_tickets").api_fields  # ProjectTicket has no SLA fields


def test_it_needs_no_wall_clock_for_the_deadline_year():
    from psa.connectwise.sla_status import sla_deadline

    near = datetime(2022, 7, 2, 4, 20, tzinfo=UTC)
    assert sla_deadline("Respond by Mon 07/04 1:00 PM UTC-04", near) == (
        "respond",
        datetime(2022, 7, 4, 17, 0, tzinfo=UTC),
    )


def test_it_refreshes_one_ticket_with_its_sla_state(sandbox, fast_client):
    from psa.connectwise import refresh

    connection = sandbox_connection(sandbox)
    _sync_tickets(connection)
    store = sandbox.store
    _freeze_psa_clock(sandbox)
    ticket = next(t for t in store.list(TICKETS) if not t["closedFlag"] and t["slaStatus"] == "Waiting")
    status = next(
        s
        for s in store.list("service/boards/{parentId}/statuses", parent_id=ticket["board"]["id"])
        if s["escalationStatus"] == "Responded"
    )
    store.update(TICKETS, ticket["id"], {"status": {"id": status["id"]}}, skip_callback=True)
    result = refresh.record_refresh(
        connection_id=connection.pk, kind="ticket", psa_id=ticket["id"], client=fast_client(connection)
    )
    assert result == "updated"
    row = Ticket.objects.get(connection=connection, psa_id=ticket["id"])
    record = store.get(TICKETS, ticket["id"])
    assert row.sla_status == record["slaStatus"] != "Waiting"
    assert row.minutes_waiting == record["minutesWaiting"] > 0 and row.date_responded is not None
    assert _sandbox_deadline(store, record) in (("plan_by", row.plan_by), ("resolve_by", row.resolve_by))
