"""Tier leases, overlapping triggers and the Celery fan-out."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection as db_connection
from django.test import override_settings
from django.utils import timezone

from sync import tasks
from sync.engine.services import sync_tier
from sync.locks import LockLost, lock_claim, lock_release, lock_renew
from sync.models import Connection, SyncRun, TierLock
from tests.support.connections import make_connection
from tests.sync.conftest import FakePSA, ticket

pytestmark = pytest.mark.usefixtures("fresh_cache")  # dispatch marks and tier health live there


def test_it_lets_only_one_claimer_hold_a_tier(connection):
    first = lock_claim(connection_id=connection.pk, tier="core")
    assert first and lock_claim(connection_id=connection.pk, tier="core") is None
    assert lock_claim(connection_id=connection.pk, tier="reference")  # other tiers are independent
    lock_release(connection_id=connection.pk, tier="core", holder=first)
    assert lock_claim(connection_id=connection.pk, tier="core")


def test_it_frees_the_lease_of_a_killed_holder_after_it_expires(connection):
    dead = lock_claim(connection_id=connection.pk, tier="core")
    TierLock.objects.filter(holder=dead).update(expires_at=timezone.now() - timedelta(seconds=1))
    taker = lock_claim(connection_id=connection.pk, tier="core")
    assert taker and taker != dead
    with pytest.raises(LockLost):
        lock_renew(connection_id=connection.pk, tier="core", holder=dead)
    lock_renew(connection_id=connection.pk, tier="core", holder=taker)


@override_settings(SYNC_LOCK_TTL_SECONDS=60)
def test_it_renews_the_lease_while_making_progress(connection):
    holder = lock_claim(connection_id=connection.pk, tier="core")
    TierLock.objects.filter(holder=holder).update(expires_at=timezone.now() + timedelta(seconds=5))
    lock_renew(connection_id=connection.pk, tier="core", holder=holder)
    assert TierLock.objects.get(holder=holder).expires_at > timezone.now() + timedelta(seconds=50)


@pytest.mark.django_db(transaction=True)
def test_it_runs_two_overlapping_triggers_of_a_tier_once():
    connection = make_connection("overlap")
    psa = FakePSA({"service/tickets": [ticket(i) for i in range(1, 5)]})
    inside, release = threading.Event(), threading.Event()

    def block_first_page(path):
        if path == "system/members":
            inside.set()
            release.wait(10)

    psa.before_page = block_first_page
    results: dict[str, list] = {}

    def trigger(name):
        try:
            results[name] = sync_tier(connection_id=connection.pk, tier="core", client=psa)
        finally:
            db_connection.close()

    first = threading.Thread(target=trigger, args=("first",))
    first.start()
    assert inside.wait(10)
    second = threading.Thread(target=trigger, args=("second",))
    second.start()
    second.join(10)
    release.set()
    first.join(20)
    assert results["second"] == [] and len(results["first"]) == 8
    assert SyncRun.objects.filter(connection=connection, tier="core").count() == 8
    assert sum(1 for call in psa.calls if call["path"] == "service/tickets") == 1
    assert TierLock.objects.get(connection=connection, tier="core").holder == ""  # released


def test_it_fans_out_one_task_per_enabled_connection_of_a_known_provider(db, monkeypatch):
    on = make_connection("on")
    make_connection("off", fields={"enabled": False})
    Connection.objects.create(name="unknown", provider="not-a-psa-we-know", credentials={})
    sent = []
    monkeypatch.setattr(tasks.sync_connection_tier, "apply_async", lambda args, **kw: sent.append((args, kw)))
    monkeypatch.setattr(tasks.plan_notes, "apply_async", lambda args, **kw: sent.append((args, kw)))
    assert tasks.dispatch_tier("core") == 1
    assert sent[0][0] == (on.pk, "core") and sent[0][1]["queue"] == "sync" and sent[0][1]["time_limit"]
    tasks.dispatch_tier("notes")
    assert sent[1][0] == (on.pk,) and sent[1][1]["queue"] == "notes"


def test_it_plans_notes_in_chunks_on_the_notes_queue(connection, monkeypatch):
    from sync.engine.services import mirror_upsert_records

    mirror_upsert_records(
        connection=connection, entity="service_tickets", records=[ticket(i) for i in range(1, 251)]
    )
    sent = []
    monkeypatch.setattr(tasks.sync_notes_chunk, "apply_async", lambda args, **kw: sent.append((args, kw)))
    assert tasks.plan_notes(connection.pk, changed_only=True) == 3
    # One chunk of the connection at a time: the first carries the rest of the chain.
    ((first, kw),) = sent
    assert kw["queue"] == "notes" and first[1] == "service_notes" and len(first[2]) == 100
    assert [(entity, len(ids)) for entity, ids in first[3]] == [("service_notes", 100), ("service_notes", 50)]
    # A second plan while the chain runs starts no second chain.
    assert tasks.plan_notes(connection.pk, changed_only=True) == 0 and len(sent) == 1


def test_it_hands_each_notes_chunk_on_to_the_next_even_when_it_fails(connection, monkeypatch):
    from sync.engine import notes

    done, sent = [], []

    def sync_notes_parents(*, connection, entity, parent_ids):
        done.append(parent_ids)
        raise RuntimeError("a bug in one chunk")

    monkeypatch.setattr(notes, "sync_notes_parents", sync_notes_parents)
    monkeypatch.setattr(tasks.sync_notes_chunk, "apply_async", lambda args, **kw: sent.append((args, kw)))
    with pytest.raises(RuntimeError):
        tasks.sync_notes_chunk(connection.pk, "service_notes", [1, 2], [["opportunity_notes", [7]]])
    assert done == [[1, 2]]
    assert sent == [((connection.pk, "opportunity_notes", [7], []), {"queue": "notes"})]


def test_it_prunes_old_sync_runs_but_keeps_recent_and_running_ones(connection):
    def run(entity: str, status: str, days_ago: int) -> SyncRun:
        return SyncRun.objects.create(
            connection=connection,
            tier="core",
            entity=entity,
            status=status,
            started_at=now - timedelta(days=days_ago),
        )

    now = timezone.now()
    old = run("members", "succeeded", days_ago=40)
    stuck = run("companies", "running", days_ago=40)
    recent = run("members", "failed", days_ago=2)
    assert tasks.prune_sync_runs() == 1
    assert set(SyncRun.objects.values_list("pk", flat=True)) == {stuck.pk, recent.pk}
    assert not SyncRun.objects.filter(pk=old.pk).exists()
