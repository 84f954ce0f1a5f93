"""End to end with real processes: a Celery worker on Redis (`-Q realtime`) pushing outbox
entries and running webhook refreshes against the PSA sandbox, on this test's database.

The process helpers are in tests/support/processes.py (tests/bench/test_bench_realtime.py uses them too).
"""

from __future__ import annotations

import pytest
from django.core.cache import cache

from sync import refresh_queue
from tests.support.processes import start_worker
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.redis]


@pytest.fixture
def sandbox_options():
    return {"activity_per_second": 0}  # no background edits: the test's own change is the only one


@pytest.fixture
def sandbox_connection(transactional_db, sandbox):
    from sync.models import Connection

    cache.clear()  # also empties this Redis db's broker queues left by earlier runs
    return Connection.objects.create(name="sandbox", credentials=dict(sandbox.credentials))


@pytest.fixture
def worker(sandbox_connection):
    proc = start_worker()
    yield proc
    proc.stop()


def test_it_pushes_and_refreshes_through_a_real_worker(sandbox, sandbox_connection, worker):
    from boards.models import Ticket
    from psa.connectwise import refresh
    from sync import writeback
    from sync.models import OutboxEntry
    from sync.tasks_realtime import enqueue_refresh

    record = next(t for t in sandbox.store.list("service/tickets") if not t.get("closedFlag"))
    refresh.record_refresh(connection_id=sandbox_connection.pk, kind="ticket", psa_id=record["id"])
    ticket = Ticket.objects.get(connection=sandbox_connection, psa_id=record["id"])
    statuses = sandbox.store.list("service/boards/{parentId}/statuses", parent_id=record["board"]["id"])
    target = next(s for s in statuses if s["id"] != record["status"]["id"] and not s.get("closedStatus"))

    # write-back: service → on_commit enqueue → worker → PSA
    entry = writeback.ticket_change_status(ticket=ticket, status_psa_id=target["id"])
    wait_until(
        lambda: sandbox.store.get("service/tickets", record["id"])["status"]["id"] == target["id"], timeout=20
    )
    wait_until(lambda: OutboxEntry.objects.get(pk=entry.pk).state == "done", timeout=20)

    # webhook refresh: a change made in the PSA reaches the mirror through the worker
    sandbox.store.update(
        "service/tickets", record["id"], {"summary": "Changed in the PSA"}, skip_callback=True
    )
    refresh_queue.refresh_request(
        connection_id=sandbox_connection.pk, kind="ticket", psa_id=record["id"], enqueue=enqueue_refresh
    )
    wait_until(lambda: Ticket.objects.get(pk=ticket.pk).summary == "Changed in the PSA", timeout=20)


def test_a_note_whose_answer_was_lost_lands_once(sandbox, sandbox_connection, worker):
    """ConnectWise carries the note out, the answer never comes back: the worker's retry finds
    the note it already made instead of posting it again."""
    from boards.models import ServiceNote, Ticket
    from psa.connectwise import refresh
    from sync import writeback
    from sync.models import OutboxEntry

    record = next(t for t in sandbox.store.list("service/tickets") if not t.get("closedFlag"))
    refresh.record_refresh(connection_id=sandbox_connection.pk, kind="ticket", psa_id=record["id"])
    ticket = Ticket.objects.get(connection=sandbox_connection, psa_id=record["id"])
    sandbox.lose_answer("POST", rf"service/tickets/{record['id']}/notes$", times=1)
    entry = writeback.ticket_note_add(ticket=ticket, text="Said once, answer lost")

    def ours() -> list[dict]:
        notes = sandbox.store.list("service/tickets/{parentId}/notes", parent_id=record["id"])
        return [n for n in notes if n.get("text") == "Said once, answer lost"]

    wait_until(lambda: OutboxEntry.objects.get(pk=entry.pk).state == OutboxEntry.State.DONE, timeout=30)
    assert sandbox.stats["answers_lost"] == 1
    [note] = ours()
    assert OutboxEntry.objects.get(pk=entry.pk).result_psa_id == note["id"]
    assert ServiceNote.objects.filter(connection=sandbox_connection, psa_id=note["id"]).exists()
