"""A task sent to one queue must land in that queue only (never duplicated to the others)."""

from topleft.celery import QUEUE_NAMES, app


def test_it_routes_each_queue_to_itself_only():
    queues = app.amqp.queues
    bindings = {name: (queues[name].exchange.name, queues[name].routing_key) for name in QUEUE_NAMES}
    assert bindings == {name: (name, name) for name in QUEUE_NAMES}
    assert len(set(bindings.values())) == len(QUEUE_NAMES)


def test_it_sends_a_task_for_the_realtime_queue_with_its_own_routing_key():
    route = app.amqp.router.route({"queue": "realtime"}, "sync.tasks_realtime.sweep_outbox")
    assert route["queue"].name == "realtime"
    assert route["queue"].routing_key == "realtime"
