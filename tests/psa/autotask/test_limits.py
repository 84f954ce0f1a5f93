import threading
import time
import uuid

import pytest

from psa.autotask.budget import HourlyBudget, Threshold
from psa.autotask.threads import EndpointSemaphore

pytestmark = [pytest.mark.redis, pytest.mark.usefixtures("fresh_cache")]


def _budget(threshold: int, **kw) -> HourlyBudget:
    from django.conf import settings

    budget = HourlyBudget(uuid.uuid4().hex, threshold=threshold, storage_uri=settings.REDIS_URL, **kw)
    budget.reset()
    return budget


def test_the_budget_counts_our_requests_per_database_and_waits_when_the_hour_is_used():
    waits: list[float] = []
    budget = _budget(20, interactive=True, sleep=lambda s: (waits.append(s), budget.reset()))
    for _ in range(20):
        budget.acquire()
    assert budget.used() == 20 and waits == []
    budget.acquire()  # the 21st waits (the fake sleep clears the window)
    assert waits and waits[0] > 0


def test_background_work_leaves_a_reserve_for_interactive_work():
    background = _budget(100)
    interactive = HourlyBudget(background.key.removeprefix("autotask-db:"), threshold=100, interactive=True)
    assert background.allowance() == 90
    assert interactive.allowance() == 100


def test_other_integrations_use_from_threshold_information_is_respected():
    budget = _budget(
        100, interactive=True, reconcile=lambda: Threshold(limit=100, timeframe_minutes=60, current=75)
    )
    budget.acquire()  # reconciles first: 75 counted, 1 of them (the ThresholdInformation call) ours
    assert budget.others_used() == 74
    assert budget.allowance() == 100 - 74 - 2
    calls = []
    budget.reconcile = lambda: calls.append(1) or Threshold(100, 60, 0)
    budget.acquire()
    assert calls == []  # reconciled at most every few minutes


def test_a_threshold_information_failure_does_not_stop_requests():
    def broken():
        raise RuntimeError("down")

    budget = _budget(10, interactive=True, reconcile=broken)
    assert budget.acquire() == 0.0


def test_the_semaphore_lets_three_requests_per_endpoint_run_at_once():
    semaphore = EndpointSemaphore(limit=3)
    key = f"test-threads:{uuid.uuid4().hex}"
    inside, peak, changed = [0], [0], threading.Condition()

    def request():
        with semaphore.slot(key):
            with changed:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
                changed.notify_all()
                # Hold the slot until three are inside (or a deadline passes), so a slow
                # machine cannot let one request finish before the next arrives.
                changed.wait_for(lambda: peak[0] >= 3, timeout=10)
            time.sleep(0.05)  # still inside: a semaphore letting a fourth in would show now
            with changed:
                inside[0] -= 1

    threads = [threading.Thread(target=request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak[0] == 3
    assert semaphore.holders(key) == 0


def test_a_dead_holders_slot_is_freed_by_its_lease():
    semaphore = EndpointSemaphore(limit=1, lease_seconds=0.2)
    key = f"test-threads:{uuid.uuid4().hex}"
    assert semaphore._take(key)  # taken and never given back: a killed worker
    started = time.monotonic()
    with semaphore.slot(key):
        assert time.monotonic() - started >= 0.1


def test_requests_are_limited_per_object_endpoint():
    from psa.autotask.client import endpoint_of

    base = "https://webservices2.autotask.net/ATServicesRest/V1.0/"
    assert endpoint_of(base + "Tickets/query") == "tickets"
    assert endpoint_of(base + "Tickets/query/next?paging=%7b%7d") == "tickets"
    assert endpoint_of(base + "Tickets/7/Notes") == "tickets"
    assert endpoint_of(base + "TicketNotes/query/count") == "ticketnotes"
    assert endpoint_of("https://x.example/atservicesrest/v1.0/zoneInformation?user=a") == "zoneinformation"
