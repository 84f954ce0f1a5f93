"""The engine against the PSA sandbox over real HTTP: the mirror equals the PSA."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from boards.models import Member, Ticket
from psa.sandbox.connectwise.server import SandboxServer
from sync.engine.services import sync_tier
from sync.engine.watermarks import watermark_get
from sync.models import SyncRun
from tests.sync.conftest import mirror_diff, sandbox_connection

FULL_TIERS = ("reference", "core")
TICKETS = "service/tickets"


def _utc_text(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _sync_until_succeeded(connection, tiers=FULL_TIERS, attempts=3) -> list[SyncRun]:
    runs: list[SyncRun] = []
    for _ in range(attempts):
        runs = [run for tier in tiers for run in sync_tier(connection_id=connection.pk, tier=tier)]
        if all(run.status == "succeeded" for run in runs):
            return runs
    return runs


def test_it_mirrors_the_sandbox_exactly_after_reference_and_core(db, sandbox, fast_client):
    connection = sandbox_connection(sandbox)
    runs = _sync_until_succeeded(connection, attempts=1)
    assert [r.entity for r in runs if r.status != "succeeded"] == []
    assert mirror_diff(sandbox, connection) == []
    by_entity = {run.entity: run for run in runs}
    assert by_entity["service_tickets"].fetched > 100 and by_entity["board_statuses"].fetched > 5
    # a closed ticket inside the retention is mirrored with its closed status
    assert Ticket.objects.filter(connection=connection, closed=True).exists()
    assert Ticket.objects.filter(connection=connection, closed=False).exists()
    # The API member (licence class A) is nobody to assign or link: pickers leave it out.
    api_members = [m["id"] for m in sandbox.store.list("system/members") if m.get("licenseClass") == "A"]
    assert len(api_members) == 1
    assert Member.objects.get(connection=connection, psa_id=api_members[0]).inactive


def test_it_converges_under_injected_faults(db, fast_client):
    with SandboxServer(scale="small", seed=2, faults="500=0.1,429=0.05,reset=0.02") as sandbox:
        connection = sandbox_connection(sandbox)
        runs = _sync_until_succeeded(connection)
        assert [r.entity for r in runs if r.status != "succeeded"] == []
        sandbox.faults = None
        assert mirror_diff(sandbox, connection) == []
    pages = sum(1 for _ in runs)
    assert sum(run.requests for run in runs) > pages  # retries happened and were counted


def test_it_refuses_to_delete_when_the_psa_returns_empty_lists(db, sandbox, fast_client):
    connection = sandbox_connection(sandbox)
    sync_tier(connection_id=connection.pk, tier="core", entity="service_tickets")
    before = Ticket.objects.filter(connection=connection).count()
    assert before >= 100
    sandbox.empty_lists_for(r"service/tickets$")
    [run] = sync_tier(connection_id=connection.pk, tier="core", entity="service_tickets")
    assert run.status == "refused" and run.deleted == 0 and "refused to delete" in run.error
    assert Ticket.objects.filter(connection=connection).count() == before


def test_it_removes_deleted_and_aged_out_records_only_in_deleting_tiers(db, sandbox, fast_client):
    connection = sandbox_connection(sandbox)
    _sync_until_succeeded(connection, attempts=1)
    open_ids = [t["id"] for t in sandbox.store.list(TICKETS) if not t.get("closedFlag")]
    deleted_id, aged_id, recent_id, edited_id = open_ids[:4]
    now = timezone.now()
    sandbox.store.delete(TICKETS, deleted_id)
    sandbox.store.update(
        TICKETS, aged_id, {"closedFlag": True, "closedDate": _utc_text(now - timedelta(days=30))}
    )
    sandbox.store.update(
        TICKETS, recent_id, {"closedFlag": True, "closedDate": _utc_text(now - timedelta(days=1))}
    )
    sandbox.store.update(TICKETS, edited_id, {"summary": "edited in the PSA"})

    changes = {run.entity: run for run in sync_tier(connection_id=connection.pk, tier="changes")}
    assert all(run.deleted == 0 for run in changes.values())
    assert changes["service_tickets"].status == "succeeded"
    mirror = Ticket.objects.filter(connection=connection)
    assert mirror.filter(psa_id__in=[deleted_id, aged_id]).count() == 2  # changes never deletes
    assert mirror.get(psa_id=edited_id).summary == "edited in the PSA"
    assert mirror.get(psa_id=recent_id).closed

    [run] = sync_tier(connection_id=connection.pk, tier="core", entity="service_tickets")
    assert run.status == "succeeded" and run.deleted == 2
    assert not mirror.filter(psa_id__in=[deleted_id, aged_id]).exists()
    assert mirror.get(psa_id=recent_id).closed  # closed within the retention: kept, closed
    assert mirror_diff(sandbox, connection, entities=["service_tickets"]) == []


def test_it_moves_the_watermark_only_forward_with_the_server_time(db, sandbox, fast_client):
    connection = sandbox_connection(sandbox)
    sync_tier(connection_id=connection.pk, tier="core", entity="service_tickets")
    first = watermark_get(connection_id=connection.pk, entity="service_tickets")
    assert first is not None
    ticket_id = next(t["id"] for t in sandbox.store.list(TICKETS) if not t.get("closedFlag"))
    sandbox.store.update(TICKETS, ticket_id, {"summary": "bumped"})
    [run] = sync_tier(connection_id=connection.pk, tier="changes", entity="service_tickets")
    assert run.status == "succeeded" and 1 <= run.fetched < 50  # only what changed (+ the overlap)
    assert Ticket.objects.get(connection=connection, psa_id=ticket_id).summary == "bumped"
    assert watermark_get(connection_id=connection.pk, entity="service_tickets") >= first


def test_it_fetches_notes_of_mirrored_parents(db, sandbox, fast_client):
    from boards.models import OpportunityNote, ServiceNote

    connection = sandbox_connection(sandbox)
    sync_tier(connection_id=connection.pk, tier="core", entity="service_tickets")
    sync_tier(connection_id=connection.pk, tier="core", entity="opportunities")
    runs = sync_tier(connection_id=connection.pk, tier="notes", changed_only=False)
    assert {run.entity: run.status for run in runs} == {
        "service_notes": "succeeded",
        "project_ticket_notes": "succeeded",
        "opportunity_notes": "succeeded",
    }
    assert ServiceNote.objects.filter(connection=connection).exists()
    assert OpportunityNote.objects.filter(connection=connection).exists()
    parents = Ticket.objects.filter(connection=connection, kind="service").count()
    assert runs[0].requests >= parents  # one request per parent
    assert mirror_diff(sandbox, connection, entities=["service_notes", "opportunity_notes"]) == []


def test_it_counts_messy_psa_data_over_http_without_failing(db, sandbox, fast_client):
    connection = sandbox_connection(sandbox)
    open_ids = [t["id"] for t in sandbox.store.list(TICKETS) if not t.get("closedFlag")][:4]
    messy = [
        {"summary": "x" * 400},  # longer than the column
        {"summary": "nul\x00inside"},  # NUL: PostgreSQL rejects it in text and jsonb
        {"requiredDate": "not a date", "budgetHours": "lots"},
        {"board": {"id": 2**70, "name": "huge id"}},  # out of the bigint range
    ]
    for ticket_id, changes in zip(open_ids, messy, strict=True):
        sandbox.store.update(TICKETS, ticket_id, changes)
    [run] = sync_tier(connection_id=connection.pk, tier="core", entity="service_tickets")
    assert run.status == "succeeded" and run.coerced == 4 and run.skipped == 0
    rows = {t.psa_id: t for t in Ticket.objects.filter(connection=connection, psa_id__in=open_ids)}
    assert rows[open_ids[0]].summary == "x" * 255 and rows[open_ids[0]].raw["summary"] == "x" * 400
    assert rows[open_ids[1]].summary == "nulinside"
    assert rows[open_ids[2]].required_date is None and rows[open_ids[2]].budget_hours is None
    assert rows[open_ids[3]].board_psa_id is None and rows[open_ids[3]].board_name == "huge id"
