"""Beat dispatch for many tenants: how long `dispatch_tier` takes to fan a tier out to 1,000
connections over the real Redis broker (issue: < 1 s), and how many broker connections it used.

Run with `make bench` (needs REDIS_URL: the broker is what is measured)."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.core.cache import cache

from sync.models import Connection
from tests.support.connections import cw_credentials

CONNECTIONS = 1000


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis as the Celery broker")
def test_bench_dispatch_of_a_tier_to_1000_connections(db):
    import redis

    from sync import tasks
    from topleft.celery import app

    credentials = cw_credentials()
    Connection.objects.bulk_create(
        [Connection(name=f"tenant-{n}", credentials=credentials) for n in range(CONNECTIONS)]
    )
    ids = list(Connection.objects.values_list("pk", flat=True))
    cache.delete_many([f"sync:queued:{pk}:core" for pk in ids])
    broker = redis.Redis.from_url(settings.REDIS_URL)
    broker.delete("sync")
    clients_before = broker.info("clients")["connected_clients"]
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        sent = tasks.dispatch_tier("core")
        timings.append(time.perf_counter() - started)
        assert sent == CONNECTIONS and broker.llen("sync") == CONNECTIONS
        broker.delete("sync")
        cache.delete_many([f"sync:queued:{pk}:core" for pk in ids])  # as if the tasks had started
    clients_after = broker.info("clients")["connected_clients"]
    app.pool.force_close_all()
    print(
        f"\ndispatch of the core tier to {CONNECTIONS} connections: "
        f"{', '.join(f'{t * 1000:.0f} ms' for t in timings)} (best {min(timings) * 1000:.0f} ms); "
        f"Redis clients {clients_before} -> {clients_after}"
    )
