"""Tier leases with a heartbeat (sync/locks.py) and how soon a killed worker's work comes back.

The heartbeat runs on its own database connection, so these tests commit their rows
(transactional) like a real worker would.
"""

from __future__ import annotations

import pytest
from django.test import override_settings

from sync.locks import lock_claim, tier_lease
from sync.models import Connection, TierLock
from sync.tiers import BROKER_VISIBILITY_TIMEOUT_SECONDS, TIERS
from tests.support.connections import make_connection
from tests.support.waiting import wait_until


@pytest.fixture
def committed_connection(transactional_db) -> Connection:
    return make_connection("acme")


def _expiry(connection) -> object:
    return TierLock.objects.get(connection=connection, tier="core").expires_at


@override_settings(SYNC_LOCK_TTL_SECONDS=1)
def test_it_keeps_a_busy_holders_lease_alive_with_its_heartbeat(committed_connection):
    with tier_lease(connection_id=committed_connection.pk, tier="core") as lease:
        assert lease is not None
        first = _expiry(committed_connection)
        # The run never renews here (a long page, a count, a Retry-After wait): the heartbeat
        # does, again and again, so the lease outlives its TTL many times over.
        later = wait_until(lambda: (value := _expiry(committed_connection)) > first and value)
        wait_until(lambda: _expiry(committed_connection) > later)
        assert lock_claim(connection_id=committed_connection.pk, tier="core") is None
    assert lock_claim(connection_id=committed_connection.pk, tier="core")  # released at the end


@override_settings(SYNC_LOCK_TTL_SECONDS=1)
def test_it_lets_another_worker_take_over_once_the_heartbeat_stops(committed_connection):
    with tier_lease(connection_id=committed_connection.pk, tier="core") as lease:
        assert lease is not None
        lease.stop_heartbeat()  # what a SIGKILL does to the worker's heartbeat thread
        taker = wait_until(lambda: lock_claim(connection_id=committed_connection.pk, tier="core"))
        assert taker != lease.holder


def test_it_takes_over_a_dead_workers_lease_within_a_minute():
    from django.conf import settings

    assert settings.SYNC_LOCK_TTL_SECONDS <= 60


def test_it_redelivers_a_killed_workers_task_soon_after_its_time_limit():
    from topleft.celery import app

    longest = max(tier.time_limit_seconds for tier in TIERS.values())
    for name in ("sync.tasks.sync_connection_tier", "sync.tasks.sync_notes_chunk", "sync.tasks.plan_notes"):
        assert app.tasks[name].time_limit <= longest
    # Longer than any task (a live task is never delivered twice), far less than an hour.
    assert longest < BROKER_VISIBILITY_TIMEOUT_SECONDS <= longest + 10 * 60 < 3600
    options = app.conf.broker_transport_options
    if app.conf.broker_url.startswith("redis"):
        assert options["visibility_timeout"] == BROKER_VISIBILITY_TIMEOUT_SECONDS
