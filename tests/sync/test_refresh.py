"""Single-record refresh against a mocked ConnectWise (responses) and the coalescing protocol."""

import re

import pytest
import responses
from django.core.cache import cache

from boards.models import CardRank, Opportunity, Ticket, TicketAssignment
from psa.connectwise import refresh
from psa.connectwise.webhook import SCHEDULE_HINT
from sync import refresh_queue
from sync.refresh_queue import RefreshItem
from tests.support.cloud_psa import BASE

pytestmark = pytest.mark.usefixtures("fresh_cache")

NOT_FOUND = {"code": "NotFound", "message": "Ticket not found", "errors": None}


def ticket_record(psa_id=501, status=("In Progress", 12), updated="2026-11-27T07:00:00Z", **extra):
    return {
        "id": psa_id,
        "summary": "Printer on fire",
        "board": {"id": 1, "name": "Help Desk"},
        "status": {"id": status[1], "name": status[0]},
        "closedFlag": False,
        "resources": "jdoe",
        "_info": {"lastUpdated": updated, "dateEntered": updated},
        **extra,
    }


def assignment_record(psa_id, ticket_id=501, member=("jdoe", 3)):
    return {
        "id": psa_id,
        "objectId": ticket_id,
        "member": {"id": member[1], "identifier": member[0], "name": "J"},
        "type": {"identifier": "S"},
        "doneFlag": False,
        "_info": {"lastUpdated": "2026-11-27T07:00:00Z"},
    }


def gets(cloud_psa, path_regex):
    return [c for c in cloud_psa.calls if c.request.method == "GET" and re.search(path_regex, c.request.url)]


def test_it_upserts_the_ticket_and_its_assignments(connection, cloud_psa):
    TicketAssignment.objects.create(connection=connection, psa_id=900, ticket_psa_id=501)  # gone in the PSA
    TicketAssignment.objects.create(connection=connection, psa_id=-5, ticket_psa_id=501)  # pending push
    cloud_psa.get(f"{BASE}service/tickets/501", json=ticket_record())
    cloud_psa.get(f"{BASE}schedule/entries", json=[assignment_record(901)])
    assert refresh.record_refresh(connection_id=connection.pk, kind="ticket", psa_id=501) == "updated"
    ticket = Ticket.objects.get(connection=connection, psa_id=501)
    assert (ticket.status_name, ticket.kind, ticket.resources) == ("In Progress", "service", "jdoe")
    assert set(TicketAssignment.objects.filter(ticket_psa_id=501).values_list("psa_id", flat=True)) == {
        901,
        -5,
    }
    conditions = gets(cloud_psa, r"schedule/entries")[0].request.params["conditions"]
    assert 'type/identifier = "S"' in conditions and "objectId in (501)" in conditions
    # only the fields the mirror maps are requested
    assert "status/id" in gets(cloud_psa, r"service/tickets/501")[0].request.params["fields"]


def test_it_deletes_only_after_the_psa_answers_404(connection, cloud_psa):
    Ticket.objects.create(connection=connection, psa_id=501, summary="old")
    TicketAssignment.objects.create(connection=connection, psa_id=900, ticket_psa_id=501)
    CardRank.objects.create(connection=connection, kind="ticket", psa_id=501, key="a0")
    cloud_psa.get(f"{BASE}service/tickets/501", status=404, json=NOT_FOUND)
    cloud_psa.get(f"{BASE}project/tickets/501", status=404, json=NOT_FOUND)
    assert refresh.record_refresh(connection_id=connection.pk, kind="ticket", psa_id=501) == "deleted"
    assert not Ticket.objects.filter(psa_id=501).exists()
    assert not TicketAssignment.objects.filter(ticket_psa_id=501).exists()
    assert not CardRank.objects.filter(psa_id=501).exists()


def test_it_finds_a_project_ticket_before_calling_it_deleted(connection, cloud_psa):
    cloud_psa.get(f"{BASE}service/tickets/501", status=404, json=NOT_FOUND)
    cloud_psa.get(f"{BASE}project/tickets/501", json=ticket_record(project={"id": 4, "name": "Migration"}))
    cloud_psa.get(f"{BASE}schedule/entries", json=[])
    assert refresh.record_refresh(connection_id=connection.pk, kind="ticket", psa_id=501) == "updated"
    ticket = Ticket.objects.get(psa_id=501)
    assert (ticket.kind, ticket.project_name) == ("project", "Migration")


def test_it_asks_the_project_path_first_for_a_project_ticket_hint(connection, cloud_psa):
    cloud_psa.get(f"{BASE}project/tickets/501", json=ticket_record())
    cloud_psa.get(f"{BASE}schedule/entries", json=[])
    refresh.record_refresh(connection_id=connection.pk, kind="ticket", psa_id=501, hint="ProjectTicket")
    assert gets(cloud_psa, r"service/tickets") == []


def test_it_keeps_the_row_when_the_psa_is_down(connection, cloud_psa, settings):
    from psa.errors import RetryableError

    Opportunity.objects.create(connection=connection, psa_id=70, name="Deal")
    cloud_psa.get(
        f"{BASE}sales/opportunities/70", status=503, json={"code": "Down", "message": "maintenance"}
    )
    client = refresh.realtime_client(connection)
    client.http.sleep = lambda s: None
    with pytest.raises(RetryableError):
        refresh.record_refresh(connection_id=connection.pk, kind="opportunity", psa_id=70, client=client)
    assert Opportunity.objects.filter(psa_id=70).exists()
    assert len(gets(cloud_psa, r"sales/opportunities/70")) > 1  # retried with backoff


def test_it_refreshes_an_opportunity(connection, cloud_psa):
    cloud_psa.get(
        f"{BASE}sales/opportunities/70",
        json={
            "id": 70,
            "name": "Big deal",
            "stage": {"id": 2, "name": "Proposal"},
            "status": {"id": 1, "name": "Open"},
            "_info": {"lastUpdated": "2026-11-27T07:00:00Z"},
        },
    )
    assert refresh.record_refresh(connection_id=connection.pk, kind="opportunity", psa_id=70) == "updated"
    assert Opportunity.objects.get(psa_id=70).stage_name == "Proposal"


# --- coalescing --------------------------------------------------------------------------------


class Queue:
    def __init__(self):
        self.calls = []

    def __call__(self, **kw):
        self.calls.append(kw)


@pytest.mark.redis  # the coalescing counters need an atomic cache (the file cache is not)
def test_it_enqueues_one_drain_for_a_burst(connection):
    queue = Queue()
    results = [
        refresh_queue.refresh_request(connection_id=connection.pk, kind="ticket", psa_id=5, enqueue=queue)
        for _ in range(300)
    ]
    refresh_queue.refresh_request(connection_id=connection.pk, kind="opportunity", psa_id=6, enqueue=queue)
    assert results.count(True) == 1 and queue.calls == [{"connection_id": connection.pk, "countdown": 0}]
    items = refresh_queue.take_items(connection.pk)
    assert items[("ticket", 5)].count == 300 and items[("opportunity", 6)].count == 1
    assert refresh_queue.take_items(connection.pk) == {}  # taken once


def fake_batches(monkeypatch, during=None):
    batches = []

    def fake(*, connection_id, items, started_at, client=None):
        batches.append(sorted(i.key for i in items))
        if during:
            during()
        return {"updated": len(items), "deleted": 0}

    monkeypatch.setattr(refresh, "records_refresh", fake)
    return batches


def test_it_fetches_everything_queued_in_one_batch(monkeypatch, connection):
    queue = Queue()
    batches = fake_batches(monkeypatch)
    for psa_id in (1, 2, 3, 2, 1):
        refresh_queue.refresh_request(
            connection_id=connection.pk, kind="ticket", psa_id=psa_id, enqueue=queue
        )
    refresh_queue.refresh_drain(connection_id=connection.pk, enqueue=queue)
    assert batches == [[("ticket", 1), ("ticket", 2), ("ticket", 3)]]
    assert len(queue.calls) == 1  # nothing more arrived: no trailing drain
    assert (
        refresh_queue.refresh_request(connection_id=connection.pk, kind="ticket", psa_id=4, enqueue=queue)
        is True
    )  # released


def test_it_runs_one_trailing_drain_for_what_arrives_meanwhile(monkeypatch, connection):
    queue = Queue()
    batches = fake_batches(
        monkeypatch,
        during=lambda: [
            refresh_queue.refresh_request(connection_id=connection.pk, kind="ticket", psa_id=9, enqueue=queue)
            for _ in range(50)
        ],
    )
    refresh_queue.refresh_request(connection_id=connection.pk, kind="ticket", psa_id=5, enqueue=queue)
    refresh_queue.refresh_drain(connection_id=connection.pk, enqueue=queue)
    assert len(queue.calls) == 2 and queue.calls[1]["countdown"] == 0  # exactly one trailing drain, at once
    monkeypatch.setattr(
        refresh,
        "records_refresh",
        lambda **kw: batches.append(sorted(i.key for i in kw["items"])) or {},
    )
    refresh_queue.refresh_drain(connection_id=connection.pk, enqueue=queue)
    assert batches == [[("ticket", 5)], [("ticket", 9)]]


def test_it_holds_a_bursting_record_back_until_it_is_quiet(monkeypatch, connection):
    queue = Queue()
    batches = fake_batches(monkeypatch)
    refresh_queue.refresh_request(connection_id=connection.pk, kind="ticket", psa_id=5, enqueue=queue)
    refresh_queue.refresh_drain(connection_id=connection.pk, enqueue=queue)  # first fetch
    for _ in range(100):  # the burst goes on
        refresh_queue.refresh_request(connection_id=connection.pk, kind="ticket", psa_id=5, enqueue=queue)
    refresh_queue.refresh_request(
        connection_id=connection.pk, kind="ticket", psa_id=6, enqueue=queue
    )  # an unrelated record
    refresh_queue.refresh_drain(connection_id=connection.pk, enqueue=queue)
    assert batches == [[("ticket", 5)], [("ticket", 6)]]  # 5 is held back, 6 is not delayed
    assert queue.calls[-1]["countdown"] > 0  # a held-back record is looked at again shortly
    monkeypatch.setattr(refresh_queue, "QUIET_SECONDS", 0.0)
    monkeypatch.setattr(refresh_queue, "coalesce_seconds", lambda: 0.0)
    refresh_queue.refresh_drain(connection_id=connection.pk, enqueue=queue)  # quiet now: the trailing fetch
    assert batches[-1] == [("ticket", 5)] and len(batches) == 3


def test_it_keeps_the_records_when_the_psa_is_down(monkeypatch, connection):
    from psa.errors import ServerError

    queue = Queue()

    def down(**kw):
        raise ServerError("maintenance", status=503)

    monkeypatch.setattr(refresh, "records_refresh", down)
    refresh_queue.refresh_request(connection_id=connection.pk, kind="ticket", psa_id=5, enqueue=queue)
    refresh_queue.refresh_drain(connection_id=connection.pk, enqueue=queue)
    assert queue.calls[-1]["countdown"] >= 5  # backs off
    assert ("ticket", 5) in refresh_queue.take_items(connection.pk)  # nothing lost


def test_it_refreshes_a_batch_with_one_listing_per_kind(connection, cloud_psa):
    cloud_psa.get(f"{BASE}service/tickets", json=[ticket_record(501), ticket_record(502)])
    cloud_psa.get(f"{BASE}service/tickets/503", status=404, json=NOT_FOUND)
    cloud_psa.get(f"{BASE}project/tickets/503", status=404, json=NOT_FOUND)
    cloud_psa.get(f"{BASE}schedule/entries", json=[assignment_record(901, ticket_id=501)])
    Ticket.objects.create(connection=connection, psa_id=503)
    counts = refresh.records_refresh(
        connection_id=connection.pk,
        started_at=0.0,
        items=[RefreshItem("ticket", 501), RefreshItem("ticket", 502), RefreshItem("ticket", 503)],
    )
    assert counts == {"updated": 2, "deleted": 1}
    listing = gets(cloud_psa, r"service/tickets\?")
    assert len(listing) == 1 and "id in (501,502,503)" in listing[0].request.params["conditions"]
    assert set(Ticket.objects.values_list("psa_id", flat=True)) == {501, 502}
    assignments = gets(cloud_psa, r"schedule/entries")
    assert len(assignments) == 1 and "objectId in (501,502)" in assignments[0].request.params["conditions"]


def test_it_rereads_assignments_only_when_the_resources_changed_or_a_schedule_callback_asked(
    connection, cloud_psa
):
    Ticket.objects.create(connection=connection, psa_id=501, resources="jdoe")
    cloud_psa.get(f"{BASE}service/tickets/501", json=ticket_record())  # resources still "jdoe"
    cloud_psa.get(f"{BASE}schedule/entries", json=[assignment_record(901)])
    refresh.record_refresh(connection_id=connection.pk, kind="ticket", psa_id=501)
    assert gets(cloud_psa, r"schedule/entries") == []
    cloud_psa.replace(
        responses.GET, f"{BASE}service/tickets/501", json=ticket_record(resources="jdoe, asmith")
    )
    refresh.record_refresh(connection_id=connection.pk, kind="ticket", psa_id=501)
    assert len(gets(cloud_psa, r"schedule/entries")) == 1
    # a schedule callback forces it
    cloud_psa.get(f"{BASE}service/tickets", json=[ticket_record(resources="jdoe, asmith")])
    refresh.records_refresh(
        connection_id=connection.pk, started_at=0.0, items=[RefreshItem("ticket", 501, (SCHEDULE_HINT,))]
    )
    assert len(gets(cloud_psa, r"schedule/entries")) == 2


def test_it_drops_a_batch_the_psa_refuses_and_carries_on(monkeypatch, connection):
    from psa.errors import AuthError

    queue = Queue()

    def refused(**kw):
        raise AuthError("authentication failed", status=401)

    monkeypatch.setattr(refresh, "records_refresh", refused)
    refresh_queue.refresh_request(connection_id=connection.pk, kind="ticket", psa_id=5, enqueue=queue)
    refresh_queue.refresh_drain(connection_id=connection.pk, enqueue=queue)
    assert len(queue.calls) == 1 and refresh_queue.take_items(connection.pk) == {}
    assert (
        refresh_queue.refresh_request(connection_id=connection.pk, kind="ticket", psa_id=5, enqueue=queue)
        is True
    )


def test_it_recovers_when_the_queue_sequence_was_lost(connection):
    queue = Queue()
    refresh_queue.refresh_request(connection_id=connection.pk, kind="ticket", psa_id=5, enqueue=queue)
    refresh_queue.take_items(connection.pk)
    cache.delete(refresh_queue._qkey(connection.pk, "seq"))  # evicted; "drained" still says 1
    refresh_queue.refresh_request(connection_id=connection.pk, kind="ticket", psa_id=6, enqueue=queue)
    assert list(refresh_queue.take_items(connection.pk)) == [("ticket", 6)]


def test_it_picks_up_an_item_written_just_after_the_drain_read_the_sequence(monkeypatch, connection):
    queue = Queue()
    batches = fake_batches(monkeypatch)
    seq = refresh_queue._qkey(connection.pk, "seq")
    cache.add(seq, 0, None)
    slot = cache.incr(seq)  # a callback got its slot ...
    refresh_queue.refresh_drain(
        connection_id=connection.pk, enqueue=queue
    )  # ... the drain runs before it wrote the item
    assert batches == [[]] and queue.calls[-1]["countdown"] > 0  # the hole is looked at again shortly
    cache.set(refresh_queue._qkey(connection.pk, f"item:{slot}"), RefreshItem("ticket", 7), 60)
    refresh_queue.refresh_drain(connection_id=connection.pk, enqueue=queue)
    assert batches[-1] == [("ticket", 7)]


def test_it_draws_webhook_refreshes_from_the_same_interactive_window_as_edits(connection, settings):
    # One limit per key: two limits on one key let the connection exceed the site's allowance.
    settings.PSA_SITE_REQUESTS_PER_MINUTE = 5000
    from psa.connectwise.client import ConnectWiseClient

    refresh_budget = refresh.realtime_client(connection).http.budget
    edit_budget = ConnectWiseClient.from_connection(connection, interactive=True).http.budget
    assert (refresh_budget.key, refresh_budget.per_minute) == (edit_budget.key, edit_budget.per_minute)
    assert refresh_budget.per_minute == 5000 - settings.PSA_BACKGROUND_BUDGET_PER_MINUTE
