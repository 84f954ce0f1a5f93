"""Resumable full runs (sync/engine/checkpoint.py) against the PSA sandbox over real HTTP.

A run "dies" when its page consumer raises an exception the engine does not catch (what a
SIGKILL or a deploy leaves: a SyncRun still `running`, no finishing step, the checkpoint of the
last committed page). Pages of 50 records so the small sandbox gives several pages.
"""

from __future__ import annotations

import pytest

from boards.models import BoardStatus, Ticket
from sync.engine import run as engine_run
from sync.engine.services import sync_tier
from sync.models import SyncCheckpoint, SyncRun
from tests.sync.conftest import mirror_diff, sandbox_connection

TICKETS = "service/tickets"
PAGE = 50


class WorkerDied(BaseException):
    """Stands for SIGKILL: nothing in the engine catches it."""


def _die_after(pages: int):
    done = []

    def progress(_records: int) -> None:
        done.append(1)
        if len(done) == pages:
            raise WorkerDied(f"killed after {pages} pages")

    return progress


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(engine_run, "PAGE_SIZE", PAGE)


def _one(runs: list[SyncRun]) -> SyncRun:
    assert len(runs) == 1
    return runs[0]


def test_it_resumes_a_killed_core_run_from_its_last_committed_page(db, sandbox, fast_client, small_pages):
    connection = sandbox_connection(sandbox)
    full = _one(sync_tier(connection_id=connection.pk, tier="core", entity="service_tickets"))
    assert full.status == "succeeded" and full.requests >= 5  # several pages + the count
    # Gone from the PSA before the next run: one in the pages the killed run lists, one after.
    open_ids = sorted(t["id"] for t in sandbox.store.list(TICKETS) if not t.get("closedFlag"))
    low, high = open_ids[10], open_ids[-10]
    for psa_id in (low, high):
        sandbox.store.delete(TICKETS, psa_id)

    with pytest.raises(WorkerDied):
        sync_tier(connection_id=connection.pk, tier="core", entity="service_tickets", progress=_die_after(2))
    killed = SyncRun.objects.get(connection=connection, entity="service_tickets", status="running")
    assert SyncCheckpoint.objects.filter(connection=connection, run_id=killed.pk).exists()

    resumed = _one(sync_tier(connection_id=connection.pk, tier="core", entity="service_tickets"))
    assert resumed.status == "succeeded", resumed.error
    assert killed.fetched == 2 * PAGE
    assert resumed.fetched == full.fetched - 2 - killed.fetched  # two deleted, two pages already done
    assert resumed.deleted == 2 and "resumed the listing of run" in resumed.error
    assert not Ticket.objects.filter(connection=connection, psa_id__in=[low, high]).exists()
    assert mirror_diff(sandbox, connection, entities=["service_tickets"]) == []
    assert SyncRun.objects.get(pk=killed.pk).status == "failed"  # abandoned
    assert not SyncCheckpoint.objects.filter(connection=connection).exists()

    # The next run lists everything again (nothing left to resume): the resumed run sent the
    # requests of the pages the killed run had not committed, and the count.
    again = _one(sync_tier(connection_id=connection.pk, tier="core", entity="service_tickets"))
    assert "resumed" not in again.error and again.fetched == full.fetched - 2
    assert resumed.requests == again.requests - 2 == resumed.fetched // PAGE + 2


def test_it_still_refuses_deletes_when_the_resumed_listing_falls_short(db, sandbox, fast_client, small_pages):
    connection = sandbox_connection(sandbox)
    sync_tier(connection_id=connection.pk, tier="core", entity="service_tickets")
    with pytest.raises(WorkerDied):
        sync_tier(connection_id=connection.pk, tier="core", entity="service_tickets", progress=_die_after(2))
    before = Ticket.objects.filter(connection=connection).count()
    # The rest of the listing comes back short (the PSA's count stays true).
    sandbox.faults = "end_early@service/tickets=0.5"
    resumed = _one(sync_tier(connection_id=connection.pk, tier="core", entity="service_tickets"))
    assert resumed.status == "refused" and "incomplete" in resumed.error and resumed.deleted == 0
    assert "resumed the listing of run" in resumed.error
    assert Ticket.objects.filter(connection=connection).count() == before


def test_it_resumes_a_nested_reference_listing_parent_by_parent(db, sandbox, fast_client, monkeypatch):
    monkeypatch.setattr(engine_run, "PAGE_SIZE", 3)
    connection = sandbox_connection(sandbox)
    full = _one(sync_tier(connection_id=connection.pk, tier="reference", entity="board_statuses"))
    assert full.status == "succeeded"
    with pytest.raises(WorkerDied):
        sync_tier(
            connection_id=connection.pk, tier="reference", entity="board_statuses", progress=_die_after(4)
        )
    killed = SyncRun.objects.get(connection=connection, entity="board_statuses", status="running")
    resumed = _one(sync_tier(connection_id=connection.pk, tier="reference", entity="board_statuses"))
    assert resumed.status == "succeeded", resumed.error
    assert resumed.requests < full.requests and resumed.fetched == full.fetched - killed.fetched
    assert BoardStatus.objects.filter(connection=connection).count() == full.fetched
    assert mirror_diff(sandbox, connection, entities=["board_statuses"]) == []


def test_it_stops_a_run_whose_checkpoint_another_run_took_over(connection):
    from django.utils import timezone

    from sync.engine.checkpoint import Checkpointer, checkpoint_claim
    from sync.engine.verify import ListingTally
    from sync.locks import LockLost

    def new_run() -> SyncRun:
        return SyncRun.objects.create(
            connection=connection, tier="core", entity="service_tickets", started_at=timezone.now()
        )

    stalled, tally = new_run(), ListingTally()
    listing = tally.start(TICKETS, "closedFlag = False")
    saving = Checkpointer(
        run=stalled, started_at=stalled.started_at, conditions="closedFlag = False", tally=tally
    )
    saving.page_committed(listing, [{"id": 4}, {"id": 5}], newest_seen=None, unidentified=0)

    resume = checkpoint_claim(run=new_run(), conditions_at=lambda start: "closedFlag = False")
    assert resume is not None and resume.started_at == stalled.started_at
    assert resume.partial[(TICKETS, None, False)][0].received == 2
    assert resume.partial[(TICKETS, None, False)][1] == 5
    # The stalled worker wakes up: it can no longer save, so it stops before deleting anything.
    with pytest.raises(LockLost):
        saving.page_committed(listing, [{"id": 6}], newest_seen=None, unidentified=0)


def _outage_after(sandbox, pages: int):
    done = []

    def progress(_records: int) -> None:
        done.append(1)
        if len(done) == pages:  # the PSA goes down for good: every retry of the next page fails
            sandbox.force_error("GET", r"^service/tickets$", 503, "Service Unavailable")

    return progress


def test_it_resumes_a_run_a_psa_outage_cut_short(db, sandbox, fast_client, small_pages):
    connection = sandbox_connection(sandbox)
    full = _one(sync_tier(connection_id=connection.pk, tier="core", entity="service_tickets"))
    cut = _one(
        sync_tier(
            connection_id=connection.pk,
            tier="core",
            entity="service_tickets",
            progress=_outage_after(sandbox, 2),
        )
    )
    assert cut.status == "failed" and cut.deleted == 0
    sandbox.clear_forced_errors()
    resumed = _one(sync_tier(connection_id=connection.pk, tier="core", entity="service_tickets"))
    assert resumed.status == "succeeded" and "resumed the listing of run" in resumed.error
    assert resumed.fetched == full.fetched - cut.fetched and resumed.requests < full.requests
    assert mirror_diff(sandbox, connection, entities=["service_tickets"]) == []


def test_it_starts_over_when_the_psa_fails_a_resumed_run(db, sandbox, fast_client, small_pages):
    connection = sandbox_connection(sandbox)
    full = _one(sync_tier(connection_id=connection.pk, tier="core", entity="service_tickets"))
    with pytest.raises(WorkerDied):
        sync_tier(connection_id=connection.pk, tier="core", entity="service_tickets", progress=_die_after(2))
    sandbox.force_error("GET", r"^service/tickets/count$", 500, "Internal Server Error")
    failed = _one(sync_tier(connection_id=connection.pk, tier="core", entity="service_tickets"))
    assert failed.status == "failed" and "resumed" not in failed.error
    assert not SyncCheckpoint.objects.filter(connection=connection).exists()
    sandbox.clear_forced_errors()
    again = _one(sync_tier(connection_id=connection.pk, tier="core", entity="service_tickets"))
    assert again.status == "succeeded" and again.fetched == full.fetched and "resumed" not in again.error


def _die_in(entity: str, pages: int):
    seen = []

    def progress(_records: int) -> None:
        if SyncRun.objects.filter(status="running", entity=entity).exists():
            seen.append(1)
            if len(seen) == pages:
                raise WorkerDied(f"killed after {pages} pages of {entity}")

    return progress


def test_it_resumes_a_killed_tier_run_where_it_stopped(db, sandbox, fast_client, small_pages):
    from psa.connectwise.catalog import CATALOG

    CORE_ENTITIES = CATALOG.tier_entities("core")

    connection = sandbox_connection(sandbox)
    with pytest.raises(WorkerDied):
        sync_tier(connection_id=connection.pk, tier="core", progress=_die_in("service_tickets", 2))
    runs = sync_tier(connection_id=connection.pk, tier="core")
    # The entities the killed tier run had finished are not run again; tickets resume.
    left = CORE_ENTITIES[CORE_ENTITIES.index("service_tickets") :]
    assert [run.entity for run in runs] == list(left)
    assert all(run.status == "succeeded" for run in runs), [run.error for run in runs]
    assert "resumed the listing of run" in runs[0].error
    assert mirror_diff(sandbox, connection, entities=list(CORE_ENTITIES)) == []
    # Nothing left to resume: the next tier run runs every entity.
    assert [run.entity for run in sync_tier(connection_id=connection.pk, tier="core")] == list(CORE_ENTITIES)
