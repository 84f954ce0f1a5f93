"""A task sent to one queue must land in that queue only (never duplicated to the others)."""

from sync.tiers import QUEUES
from topleft.celery import app


def test_it_routes_each_queue_to_itself_only():
    queues = app.amqp.queues
    bindings = {name: (queues[name].exchange.name, queues[name].routing_key) for name in QUEUES}
    assert bindings == {name: (name, name) for name in QUEUES}
    assert len(set(bindings.values())) == len(QUEUES)


def test_it_sends_a_task_for_the_realtime_queue_with_its_own_routing_key():
    route = app.amqp.router.route({"queue": "realtime"}, "sync.tasks_realtime.sweep_outbox")
    assert route["queue"].name == "realtime"
    assert route["queue"].routing_key == "realtime"


def test_it_routes_every_task_to_a_queue_some_worker_pool_consumes():
    from sync.tiers import TASK_ROUTES, TIERS, WORKER_POOLS

    consumed = [queue for queues in WORKER_POOLS.values() for queue in queues]
    assert sorted(consumed) == sorted(QUEUES)  # every queue has exactly one pool
    assert {name for name in app.tasks if name.startswith(("sync.", "topleft."))} <= set(TASK_ROUTES)
    assert {route["queue"] for route in TASK_ROUTES.values()} | {t.queue for t in TIERS.values()} <= set(
        consumed
    )
    assert app.amqp.router.route({}, "sync.tasks.dispatch_tier")["queue"].name == "realtime"


def test_it_reserves_one_message_per_process_and_acks_after_the_run():
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost


def test_it_starts_one_worker_per_pool_in_the_procfile():
    import re
    from pathlib import Path

    from sync.tiers import WORKER_POOLS

    procfile = (Path(__file__).resolve().parents[1] / "Procfile").read_text()
    started = {
        name: tuple(queues.split(","))
        for name, queues in re.findall(r"^worker-(\w+): celery -A topleft worker -Q (\S+)", procfile, re.M)
    }
    assert started == WORKER_POOLS
