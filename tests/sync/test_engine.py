"""Engine runs against an in-memory PSA double: upsert, prune, protection, watermarks, notes."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from boards.models import BoardStatus, ServiceNote, Ticket
from sync.engine.notes import notes_full_sweep_due, notes_plan
from sync.engine.run import sync_entity
from sync.engine.services import mirror_delete_record, mirror_upsert_records, sync_tier
from sync.engine.watermarks import OVERLAP, watermark_get
from sync.models import SyncRun
from tests.support.clock import FROZEN_NOW, psa_time
from tests.support.connections import cw_credentials
from tests.sync.conftest import TICKET_UPDATED_AT, ticket

TICKETS = "service/tickets"


@pytest.fixture(autouse=True)
def clock_running_from_frozen_now(frozen_clock):
    """Watermarks are capped at the run start and notes parents compare their lastUpdated with
    the last notes fetch: the PSA times below must lie before "now" on any real date. The clock
    runs on from FROZEN_NOW, as pruning tells a run's rows from older ones by the time."""
    frozen_clock.move_to(FROZEN_NOW, tick=True)


def _run(connection, fake_psa, entity="service_tickets", tier="core"):
    return sync_entity(connection=connection, entity=entity, tier=tier, client=fake_psa)


def test_it_mirrors_a_listing_with_one_upsert_per_page(connection, fake_psa, django_assert_max_num_queries):
    fake_psa.data[TICKETS] = [ticket(i) for i in range(1, 2501)]
    run = _run(connection, fake_psa)
    assert (run.status, run.fetched, run.created, run.updated, run.deleted) == ("succeeded", 2500, 2500, 0, 0)
    assert run.requests == 4  # pages of 1000 + the count that verifies the listing
    row = Ticket.objects.get(connection=connection, psa_id=7)
    assert (row.summary, row.board_psa_id, row.board_name, row.status_name, row.kind) == (
        "Ticket 7",
        1,
        "Help Desk",
        "New",
        "service",
    )
    assert row.raw["summary"] == "Ticket 7" and row.psa_updated_at == TICKET_UPDATED_AT
    # asked only for the mapped fields, in the retention scope
    call = fake_psa.calls[0]
    assert "summary" in call["fields"] and "initialDescription" not in call["fields"]
    assert "closedFlag = False" in call["conditions"] and "closedDate >" in call["conditions"]
    # per page: the check for users' undelivered edits + the upsert (in a savepoint) + the
    # progress save + the checkpoint; then prune + watermark: no query per record (2500 here)
    with django_assert_max_num_queries(31):
        again = _run(connection, fake_psa)
    assert (again.created, again.updated) == (0, 0)  # re-fetched, nothing changed in the PSA
    for record in fake_psa.data[TICKETS][:3]:
        record["_info"] = {"lastUpdated": psa_time(TICKET_UPDATED_AT, days=1)}
    changed = _run(connection, fake_psa)
    assert (changed.created, changed.updated, changed.fetched) == (0, 3, 2500)


def test_it_deletes_what_the_psa_no_longer_returns(connection, fake_psa):
    fake_psa.data[TICKETS] = [ticket(i) for i in range(1, 11)]
    _run(connection, fake_psa)
    fake_psa.data[TICKETS] = [ticket(i) for i in range(1, 11) if i != 4]
    run = _run(connection, fake_psa)
    assert run.deleted == 1 and run.status == "succeeded"
    assert not Ticket.objects.filter(psa_id=4).exists() and Ticket.objects.count() == 9


def test_it_never_deletes_in_the_changes_tier(connection, fake_psa):
    fake_psa.data[TICKETS] = [ticket(i) for i in range(1, 11)]
    _run(connection, fake_psa)
    fake_psa.data[TICKETS] = [ticket(2, updated=psa_time(TICKET_UPDATED_AT, days=1), summary="changed")]
    run = _run(connection, fake_psa, tier="changes")
    assert run.status == "succeeded" and run.deleted == 0
    assert Ticket.objects.count() == 10 and Ticket.objects.get(psa_id=2).summary == "changed"
    watermark = psa_time(TICKET_UPDATED_AT - OVERLAP)  # the newest record seen by the full run
    assert f"lastUpdated > [{watermark}]" in fake_psa.calls[-1]["conditions"]


def test_it_waits_for_a_full_tier_before_the_first_changes_run(connection, fake_psa):
    fake_psa.data[TICKETS] = [ticket(1)]
    run = _run(connection, fake_psa, tier="changes")
    assert run.status == "succeeded" and "no watermark" in run.error
    assert fake_psa.calls == [] and Ticket.objects.count() == 0


def test_it_refuses_a_mass_delete(connection, fake_psa):
    fake_psa.data[TICKETS] = [ticket(i) for i in range(1, 301)]
    _run(connection, fake_psa)
    watermark = watermark_get(connection_id=connection.pk, entity="service_tickets")
    fake_psa.data[TICKETS] = []
    run = _run(connection, fake_psa)
    assert run.status == "refused" and run.deleted == 0 and "refused to delete 300 of 300" in run.error
    assert Ticket.objects.count() == 300
    assert watermark_get(connection_id=connection.pk, entity="service_tickets") == watermark


def test_it_refuses_to_empty_a_small_scope_too(connection, fake_psa):
    fake_psa.data[TICKETS] = [ticket(i) for i in range(1, 6)]
    _run(connection, fake_psa)
    fake_psa.data[TICKETS] = []
    run = _run(connection, fake_psa)
    assert (run.status, run.deleted) == ("refused", 0) and "refused to delete 5 of 5" in run.error


@override_settings(SYNC_MASS_DELETE_SHARE=0.1)
def test_it_reads_the_protection_thresholds_from_settings(connection, fake_psa):
    fake_psa.data[TICKETS] = [ticket(i) for i in range(1, 11)]
    _run(connection, fake_psa)
    fake_psa.data[TICKETS] = [ticket(i) for i in range(1, 8)]
    assert _run(connection, fake_psa).status == "refused"


def test_it_deletes_nothing_and_keeps_the_watermark_when_the_listing_fails(connection, fake_psa):
    fake_psa.data[TICKETS] = [ticket(i) for i in range(1, 2001)]
    _run(connection, fake_psa)
    watermark = watermark_get(connection_id=connection.pk, entity="service_tickets")
    fake_psa.data[TICKETS] = [ticket(i, updated=psa_time(TICKET_UPDATED_AT, days=4)) for i in range(1, 1500)]
    fake_psa.fail_after_pages = fake_psa._served + 1  # the second page fails
    run = _run(connection, fake_psa)
    assert run.status == "failed" and "500 from the fake PSA" in run.error
    assert run.deleted == 0 and Ticket.objects.count() == 2000
    assert watermark_get(connection_id=connection.pk, entity="service_tickets") == watermark


def test_it_sets_the_watermark_to_the_newest_seen_minus_the_overlap(connection, fake_psa):
    fake_psa.data[TICKETS] = [
        ticket(1, updated=psa_time(TICKET_UPDATED_AT)),
        ticket(2, updated=psa_time(TICKET_UPDATED_AT, days=2)),
    ]
    _run(connection, fake_psa)
    assert watermark_get(connection_id=connection.pk, entity="service_tickets") == (
        TICKET_UPDATED_AT + timedelta(days=2) - OVERLAP
    )


def test_it_caps_the_watermark_at_the_run_start(connection, fake_psa):
    future = psa_time(timezone.now(), days=2)
    fake_psa.data[TICKETS] = [ticket(1, updated=future)]
    run = _run(connection, fake_psa)
    assert watermark_get(connection_id=connection.pk, entity="service_tickets") == run.started_at - OVERLAP


def test_it_never_overwrites_a_newer_mirror_row_with_an_older_page(connection, fake_psa):
    mirror_upsert_records(
        connection=connection,
        entity="service_tickets",
        records=[ticket(1, updated=psa_time(TICKET_UPDATED_AT, days=8), summary="from webhook")],
    )
    fake_psa.data[TICKETS] = [ticket(1, updated=psa_time(TICKET_UPDATED_AT, hours=-10), summary="stale page")]
    run = _run(connection, fake_psa)
    assert run.status == "succeeded" and run.deleted == 0
    assert Ticket.objects.get(psa_id=1).summary == "from webhook"


def test_it_counts_messy_data_without_failing(connection, fake_psa):
    fake_psa.data[TICKETS] = [
        ticket(1, summary="x" * 400),  # longer than the column
        ticket(2, summary="nul\x00byte", resources="a\x00b"),  # NUL characters
        ticket(3, budgetHours="lots"),  # not a number
        ticket(4, requiredDate="31/12/2026"),  # unparsable date
        ticket(5, board=None, status=None, company=None),  # null references: fine, not coerced
        ticket(6, board={"id": 2**70, "name": "huge"}),  # out of range
        {"summary": "no id at all"},  # cannot be mapped: skipped
        ticket(8, unknownField={"deep": [1, 2]}),  # unknown field: kept raw
        "not even an object",  # skipped
        ticket(10),
        ticket(11, summary="lone \ud800 surrogate", extra={"deep": "\udfff"}),  # UTF-8 cannot encode it
    ]
    run = _run(connection, fake_psa)
    assert run.status == "succeeded"
    assert (run.fetched, run.skipped, run.coerced, run.created) == (11, 2, 6, 9)
    assert Ticket.objects.get(psa_id=11).summary == "lone ? surrogate"
    assert "no id at all" not in run.error and "is not a number" in run.error
    assert Ticket.objects.get(psa_id=1).summary == "x" * 255
    assert Ticket.objects.get(psa_id=2).summary == "nulbyte"
    assert Ticket.objects.get(psa_id=3).budget_hours is None
    assert Ticket.objects.get(psa_id=5).board_psa_id is None
    assert (
        Ticket.objects.get(psa_id=6).board_psa_id is None
        and Ticket.objects.get(psa_id=6).board_name == "huge"
    )
    assert Ticket.objects.get(psa_id=8).raw["unknownField"] == {"deep": [1, 2]}


def test_it_keeps_rows_whose_update_could_not_be_mapped(connection, fake_psa):
    fake_psa.data[TICKETS] = [ticket(1), ticket(2)]
    _run(connection, fake_psa)
    fake_psa.data[TICKETS] = [ticket(1), {"id": 2, "summary": ["not", "a", "string"], "_info": "bad"}]
    run = _run(connection, fake_psa)
    assert run.status == "succeeded" and run.deleted == 0 and Ticket.objects.count() == 2


def test_it_keeps_duplicates_in_one_page_to_one_row(connection, fake_psa):
    fake_psa.data[TICKETS] = [ticket(1, summary="first"), ticket(1, summary="second"), ticket(2)]
    run = _run(connection, fake_psa)
    assert run.status == "succeeded" and Ticket.objects.count() == 2


def test_it_lists_nested_collections_under_every_parent(connection, fake_psa):
    fake_psa.data["service/boards"] = [{"id": 1}, {"id": 2}]
    fake_psa.data["service/boards/1/statuses"] = [
        {"id": 10, "name": "New", "closedStatus": False, "sortOrder": 1}
    ]
    fake_psa.data["service/boards/2/statuses"] = [{"id": 20, "name": "Closed", "closedStatus": True}]
    run = _run(connection, fake_psa, entity="board_statuses", tier="reference")
    assert run.status == "succeeded" and run.created == 2
    assert (
        BoardStatus.objects.get(psa_id=20).board_psa_id == 2
        and BoardStatus.objects.get(psa_id=20).closed_status
    )
    fake_psa.data["service/boards"] = [{"id": 1}]
    assert _run(connection, fake_psa, entity="board_statuses", tier="reference").deleted == 1


def test_it_keeps_project_and_service_tickets_in_separate_scopes(connection, fake_psa):
    fake_psa.data[TICKETS] = [ticket(1), ticket(2)]
    fake_psa.data["project/tickets"] = [ticket(3, project={"id": 9, "name": "Migration"})]
    _run(connection, fake_psa)
    _run(connection, fake_psa, entity="project_tickets")
    fake_psa.data["project/tickets"] = []
    assert _run(connection, fake_psa).deleted == 0  # the service ticket run never prunes project tickets
    assert (
        Ticket.objects.get(psa_id=3).kind == "project"
        and Ticket.objects.get(psa_id=3).project_name == "Migration"
    )


def test_it_syncs_notes_per_parent_and_prunes_per_parent(connection, fake_psa):
    fake_psa.data[TICKETS] = [ticket(1), ticket(2)]
    _run(connection, fake_psa)
    fake_psa.data["service/tickets/1/notes"] = [
        {"id": 100, "text": "hello", "internalFlag": True},
        {"id": 101, "text": "bye"},
    ]
    fake_psa.data["service/tickets/2/notes"] = [{"id": 200, "text": "other"}]
    runs = sync_tier(connection_id=connection.pk, tier="notes", entity="service_notes", client=fake_psa)
    assert [(r.status, r.created) for r in runs] == [("succeeded", 3)]
    assert (
        ServiceNote.objects.get(psa_id=100).ticket_psa_id == 1
        and ServiceNote.objects.get(psa_id=100).internal
    )
    assert Ticket.objects.filter(notes_synced_at__isnull=False).count() == 2
    fake_psa.data["service/tickets/1/notes"] = [{"id": 100, "text": "hello"}]
    # changed_only: nothing changed since the last fetch → no request at all (said explicitly:
    # left to the weekday, Sunday's full sweep would fetch every parent)
    calls = len(fake_psa.calls)
    sync_tier(
        connection_id=connection.pk, tier="notes", entity="service_notes", client=fake_psa, changed_only=True
    )
    assert len(fake_psa.calls) == calls
    runs = sync_tier(
        connection_id=connection.pk, tier="notes", entity="service_notes", client=fake_psa, changed_only=False
    )
    assert runs[0].deleted == 1 and set(ServiceNote.objects.values_list("psa_id", flat=True)) == {100, 200}
    # the ticket leaves the mirror: its notes go with the next notes run
    fake_psa.data[TICKETS] = [ticket(1)]
    assert _run(connection, fake_psa).deleted == 1
    sync_tier(
        connection_id=connection.pk, tier="notes", entity="service_notes", client=fake_psa, changed_only=True
    )
    assert set(ServiceNote.objects.values_list("psa_id", flat=True)) == {100}


def test_it_sweeps_every_notes_parent_on_sundays_only(frozen_now):
    wednesday = frozen_now
    assert wednesday.weekday() == 2
    assert not notes_full_sweep_due(wednesday)
    assert notes_full_sweep_due(wednesday + timedelta(days=4))
    assert not notes_full_sweep_due(wednesday + timedelta(days=5))


def test_it_lets_the_weekday_choose_the_notes_sweep_when_not_told(connection, fake_psa, frozen_now):
    fake_psa.data[TICKETS] = [ticket(1), ticket(2)]
    _run(connection, fake_psa)
    Ticket.objects.filter(psa_id=1).update(notes_synced_at=frozen_now)  # fetched, unchanged since
    plan = {"connection_id": connection.pk, "entities": ("service_notes",)}
    assert notes_plan(**plan) == {"service_notes": [2]}  # a Wednesday: changed parents only
    with time_machine.travel(frozen_now + timedelta(days=4), tick=False):  # the next Sunday
        assert notes_plan(**plan) == {"service_notes": [1, 2]}


def test_it_exposes_single_record_helpers_for_the_webhook_refresh(connection):
    counts = mirror_upsert_records(connection=connection, entity="service_tickets", records=[ticket(5)])
    assert counts["created"] == 1 and Ticket.objects.filter(psa_id=5).exists()
    assert mirror_delete_record(connection=connection, entity="project_tickets", psa_id=5) == 0
    assert mirror_delete_record(connection=connection, entity="service_tickets", psa_id=5) == 1


def test_it_records_a_run_per_entity_and_carries_on_after_a_failure(connection, fake_psa):
    fake_psa.data["system/members"] = [{"id": 1, "identifier": "jdoe", "firstName": "J", "lastName": "Doe"}]
    fake_psa.before_page = lambda path: (
        (_ for _ in ()).throw(RuntimeError("boom")) if path == "company/companies" else None
    )
    runs = sync_tier(connection_id=connection.pk, tier="core", client=fake_psa)
    by_entity = {run.entity: run for run in runs}
    assert by_entity["companies"].status == "failed" and "boom" in by_entity["companies"].error
    assert by_entity["members"].status == "succeeded" and by_entity["opportunities"].status == "succeeded"
    assert SyncRun.objects.filter(connection=connection, tier="core").count() == len(runs) == 8


@pytest.mark.parametrize("entity", ["service_tickets", "board_statuses"])
def test_it_refuses_an_entity_outside_the_tier(connection, fake_psa, entity):
    with pytest.raises(ValueError):
        sync_tier(connection_id=connection.pk, tier="notes", entity=entity, client=fake_psa)


def test_it_tells_open_boards_only_when_the_mirror_changed(
    connection, fake_psa, django_capture_on_commit_callbacks
):
    from boards.live import mirror_version

    fake_psa.data[TICKETS] = [ticket(i) for i in range(1, 4)]
    with django_capture_on_commit_callbacks(execute=True):
        _run(connection, fake_psa)
    first = mirror_version(connection_id=connection.pk)
    with django_capture_on_commit_callbacks(execute=True):
        _run(connection, fake_psa)  # same data again: no change
    assert mirror_version(connection_id=connection.pk) == first
    fake_psa.data[TICKETS][0]["_info"] = {"lastUpdated": psa_time(TICKET_UPDATED_AT, days=2)}
    with django_capture_on_commit_callbacks(execute=True):
        _run(connection, fake_psa)
    assert mirror_version(connection_id=connection.pk) > first


def test_it_carries_on_with_the_other_parents_when_one_fails(connection, fake_psa):
    from psa.errors import ServerError

    fake_psa.data[TICKETS] = [ticket(1), ticket(2), ticket(3)]
    _run(connection, fake_psa)
    for parent in (1, 2, 3):
        fake_psa.data[f"service/tickets/{parent}/notes"] = [{"id": parent * 100, "text": "n"}]

    def fail_for_ticket_2(path):
        if path == "service/tickets/2/notes":
            raise ServerError("500 from the fake PSA", status=500)

    fake_psa.before_page = fail_for_ticket_2
    [run] = sync_tier(connection_id=connection.pk, tier="notes", entity="service_notes", client=fake_psa)
    assert run.status == "failed" and "1 of 3 parents failed" in run.error and "parent 2" in run.error
    assert set(ServiceNote.objects.values_list("psa_id", flat=True)) == {100, 300}
    # the failed parent was not marked as fetched: the next changed-only run retries it
    assert list(Ticket.objects.filter(notes_synced_at__isnull=True).values_list("psa_id", flat=True)) == [2]


def test_it_records_a_failed_run_per_entity_when_the_connection_cannot_talk(db):
    from sync.models import Connection

    keyless = Connection.objects.create(
        name="keyless", provider="connectwise", credentials=cw_credentials(public_key="", private_key="")
    )
    runs = sync_tier(connection_id=keyless.pk, tier="reference")
    assert len(runs) == 20 and {run.status for run in runs} == {"failed"}
    assert "unusable credentials" in runs[0].error and "public_key: required" in runs[0].error
