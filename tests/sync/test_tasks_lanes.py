"""Fair shares for many tenants: the changes lanes, the backoff of failing tiers, the run guard
and the queued marks of the dispatcher (sync/tasks_lanes.py, sync/tasks.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.test import override_settings

from psa.errors import BadRequest, ServerError
from sync import tasks
from sync.models import SyncRun, TierLock
from sync.tasks_lanes import (
    Health,
    RunGuard,
    RunStopped,
    backoff_seconds,
    dispatch_plan,
    health_get,
    queued_clear,
    run_finished,
)
from sync.tiers import TIERS, tier_entities
from tests.support.connections import make_connection
from tests.sync.conftest import FakePSA, changes_watermarked, ticket

pytestmark = pytest.mark.usefixtures("fresh_cache")

NOW = 2_000_000_000.0  # epoch seconds: the backoff clock of these tests


def test_it_skips_no_period_after_one_failure_then_1_3_7_up_to_the_cap():
    assert [backoff_seconds(tier="changes", failures=n) for n in range(0, 5)] == [0, 0, 300, 900, 2100]
    assert backoff_seconds(tier="changes", failures=12) == 3600  # SYNC_BACKOFF_MAX_SECONDS
    assert backoff_seconds(tier="core", failures=2) == 1800


def test_it_plans_each_connection_on_its_lane_and_leaves_out_backoffs_and_waiting_ones(db):
    healthy, slow, failing, waiting = (make_connection(name) for name in ("a", "b", "c", "d"))
    run_finished(connection_id=slow.pk, tier="changes", failed=False, slow=True, now=NOW)
    for _ in range(2):
        run_finished(connection_id=failing.pk, tier="changes", failed=True, slow=False, now=NOW)
    assert dispatch_plan(tier="changes", connection_ids=[waiting.pk], now=NOW) == [(waiting.pk, "changes")]

    ids = [healthy.pk, slow.pk, failing.pk, waiting.pk]
    assert dispatch_plan(tier="changes", connection_ids=ids, now=NOW) == [
        (healthy.pk, "changes"),
        (slow.pk, "slow"),
    ]
    # Nothing is queued twice while the first task waits; its start frees the connection again.
    assert dispatch_plan(tier="changes", connection_ids=ids, now=NOW) == []
    for connection in (healthy, slow, waiting):
        queued_clear(connection_id=connection.pk, tier="changes")
    # The failing connection comes back after one skipped period, on the slow lane.
    later = NOW + TIERS["changes"].every_seconds + 1
    assert dispatch_plan(tier="changes", connection_ids=ids, now=later) == [
        (healthy.pk, "changes"),
        (slow.pk, "slow"),
        (failing.pk, "slow"),
        (waiting.pk, "changes"),
    ]


def test_it_brings_a_connection_back_to_the_changes_lane_after_one_quick_clean_run(db):
    connection = make_connection()
    run_finished(connection_id=connection.pk, tier="changes", failed=True, slow=False, now=NOW)
    assert health_get(connection_id=connection.pk, tier="changes").slow
    run_finished(connection_id=connection.pk, tier="changes", failed=False, slow=False, now=NOW)
    health = health_get(connection_id=connection.pk, tier="changes")
    assert (health.slow, health.failures, health.until) == (False, 0, 0.0)
    # full tiers have no lanes, only the backoff
    run_finished(connection_id=connection.pk, tier="core", failed=True, slow=True, now=NOW)
    assert not health_get(connection_id=connection.pk, tier="core").slow


def test_it_fans_out_to_the_lanes_through_one_dispatch(db, monkeypatch):
    healthy, slow = make_connection("a"), make_connection("b")
    run_finished(connection_id=slow.pk, tier="changes", failed=False, slow=True)
    sent = []
    monkeypatch.setattr(tasks.sync_connection_tier, "apply_async", lambda args, **kw: sent.append((args, kw)))
    assert tasks.dispatch_tier("changes") == 2
    assert {args[0]: kw["queue"] for args, kw in sent} == {healthy.pk: "changes", slow.pk: "slow"}
    assert {kw["time_limit"] for _, kw in sent} == {TIERS["changes"].time_limit_seconds}
    assert tasks.dispatch_tier("changes") == 0  # both still waiting in their queues


class _Failing:
    """A PSA client whose every request fails after its retries."""

    def __init__(self, error: Exception):
        self.error, self.requests_made = error, 0

    def iter_pages(self, path, **kwargs):
        self.requests_made += 1
        raise self.error
        yield  # a generator, like the real client's

    def count(self, path, **kwargs):
        self.requests_made += 1
        raise self.error


def test_it_stops_asking_a_psa_that_failed_two_requests_in_a_row():
    psa = _Failing(ServerError("500", status=500))
    guard = RunGuard(psa)
    for _ in range(2):
        with pytest.raises(ServerError):
            list(guard.iter_pages("service/tickets"))
    with pytest.raises(RunStopped):
        guard.count("service/tickets")
    assert psa.requests_made == 2 and guard.failed and guard.stopped_for == "failing"


def test_it_does_not_count_one_refused_request_of_ours_as_a_failing_psa():
    guard = RunGuard(_Failing(BadRequest("400", status=400)))
    for _ in range(3):
        with pytest.raises(BadRequest):
            list(guard.iter_pages("service/tickets"))
    assert not guard.failed and not guard.tripped


def test_it_stops_a_changes_lane_run_once_it_has_spent_its_budget():
    clock = iter([0.0, 1.0, 1.0, 25.0, 25.0, 25.0]).__next__
    guard = RunGuard(
        FakePSA({"service/tickets": [ticket(1)]}), slow_after=20, stop_when_slow=True, clock=clock
    )
    assert len(list(guard.iter_pages("service/tickets"))) == 1  # at 1 s: asked (one page)
    with pytest.raises(RunStopped, match="slow lane"):
        list(guard.iter_pages("service/tickets"))  # at 25 s: not asked any more
    assert guard.slow and not guard.failed and guard.stopped_for == "budget"


def _provider_with(monkeypatch, client) -> None:
    provider = SimpleNamespace(client_for=lambda connection, **kw: client)
    monkeypatch.setattr("sync.engine.clients.provider_for", lambda connection: provider)


def test_it_backs_a_failing_connection_off_after_two_requests_instead_of_retrying_every_entity(
    db, monkeypatch
):
    connection = make_connection()
    changes_watermarked(connection)
    psa = _Failing(ServerError("500 from the PSA", status=500))
    _provider_with(monkeypatch, psa)
    tasks.sync_connection_tier(connection.pk, "changes")
    assert psa.requests_made == 2  # not one retry ladder per entity: 21 entities
    runs = SyncRun.objects.filter(connection=connection, tier="changes")
    assert runs.count() == len(tier_entities("changes", _catalog()))
    assert runs.filter(error__contains="not asked").count() == runs.count() - 2
    health = health_get(connection_id=connection.pk, tier="changes")
    assert (health.failures, health.slow) == (1, True)
    tasks.sync_connection_tier(connection.pk, "changes")
    assert health_get(connection_id=connection.pk, tier="changes").failures == 2


def test_it_keeps_a_healthy_connection_on_the_changes_lane(db, monkeypatch):
    connection = make_connection()
    changes_watermarked(connection)
    psa = FakePSA({"service/tickets": [ticket(7)]})
    _provider_with(monkeypatch, psa)
    tasks.sync_connection_tier(connection.pk, "changes")
    assert health_get(connection_id=connection.pk, tier="changes") == Health()
    assert not SyncRun.objects.filter(connection=connection).exclude(status="succeeded").exists()


@override_settings(SYNC_LOCK_TTL_SECONDS=60)
def test_it_caps_a_connection_at_one_slot_of_the_shared_full_queue(db, monkeypatch):
    from sync.locks import queue_lease

    connection = make_connection()
    retried = []

    def retry(**kw):
        retried.append(kw)
        return RuntimeError("retry")

    monkeypatch.setattr(tasks.sync_connection_tier, "retry", retry)
    with queue_lease(connection_id=connection.pk, queue="sync") as lease:
        assert lease is not None  # e.g. the connection's core run holds its slot of `sync`
        with pytest.raises(RuntimeError, match="retry"):
            tasks.sync_connection_tier(connection.pk, "reference")
    assert retried == [{"countdown": tasks.QUEUE_BUSY_RETRY_SECONDS}]
    assert not SyncRun.objects.filter(connection=connection).exists()
    assert TierLock.objects.get(connection=connection, tier="queue:sync").holder == ""


def _catalog():
    from psa.connectwise.catalog import CATALOG

    return CATALOG
