"""Single-record refresh against a mocked ConnectWise (responses) and the coalescing protocol."""

import re

import pytest
import responses
from django.core.cache import cache

from boards.models import CardRank, Opportunity, Ticket, TicketAssignment
from sync import refresh

SITE = "https://na.myconnectwise.net"
INFO_URL = f"{SITE}/login/companyinfo/acme"
BASE = "https://api-na.myconnectwise.net/v2025_1/apis/3.0/"
COMPANY_INFO = {"CompanyName": "Acme MSP", "Codebase": "v2025_1/", "VersionCode": "v2025.1",
                "VersionNumber": "v4.6.1", "CompanyID": "acme", "IsCloud": True}
NOT_FOUND = {"code": "NotFound", "message": "Ticket not found", "errors": None}


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def psa():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(INFO_URL, json=COMPANY_INFO)
        yield rsps


def ticket_record(psa_id=501, status=("In Progress", 12), updated="2026-11-27T07:00:00Z", **extra):
    return {"id": psa_id, "summary": "Printer on fire", "board": {"id": 1, "name": "Help Desk"},
            "status": {"id": status[1], "name": status[0]}, "closedFlag": False, "resources": "jdoe",
            "_info": {"lastUpdated": updated, "dateEntered": updated}, **extra}


def assignment_record(psa_id, ticket_id=501, member=("jdoe", 3)):
    return {"id": psa_id, "objectId": ticket_id, "member": {"id": member[1], "identifier": member[0], "name": "J"},
            "type": {"identifier": "S"}, "doneFlag": False, "_info": {"lastUpdated": "2026-11-27T07:00:00Z"}}


def gets(psa, path_regex):
    return [c for c in psa.calls if c.request.method == "GET" and re.search(path_regex, c.request.url)]


def test_it_upserts_the_ticket_and_its_assignments(connection, psa):
    TicketAssignment.objects.create(connection=connection, psa_id=900, ticket_psa_id=501)  # gone in the PSA
    TicketAssignment.objects.create(connection=connection, psa_id=-5, ticket_psa_id=501)  # pending push
    psa.get(f"{BASE}service/tickets/501", json=ticket_record())
    psa.get(f"{BASE}schedule/entries", json=[assignment_record(901)])
    assert refresh.record_refresh(connection_id=connection.pk, kind="ticket", psa_id=501) == "updated"
    ticket = Ticket.objects.get(connection=connection, psa_id=501)
    assert (ticket.status_name, ticket.kind, ticket.resources) == ("In Progress", "service", "jdoe")
    assert set(TicketAssignment.objects.filter(ticket_psa_id=501).values_list("psa_id", flat=True)) == {901, -5}
    conditions = gets(psa, r"schedule/entries")[0].request.params["conditions"]
    assert 'type/identifier = "S"' in conditions and "objectId = 501" in conditions
    # only the fields the mirror maps are requested
    assert "status/id" in gets(psa, r"service/tickets/501")[0].request.params["fields"]


def test_it_deletes_only_after_the_psa_answers_404(connection, psa):
    Ticket.objects.create(connection=connection, psa_id=501, summary="old")
    TicketAssignment.objects.create(connection=connection, psa_id=900, ticket_psa_id=501)
    CardRank.objects.create(connection=connection, family="ticket", psa_id=501, key="a0")
    psa.get(f"{BASE}service/tickets/501", status=404, json=NOT_FOUND)
    psa.get(f"{BASE}project/tickets/501", status=404, json=NOT_FOUND)
    assert refresh.record_refresh(connection_id=connection.pk, kind="ticket", psa_id=501) == "deleted"
    assert not Ticket.objects.filter(psa_id=501).exists()
    assert not TicketAssignment.objects.filter(ticket_psa_id=501).exists()
    assert not CardRank.objects.filter(psa_id=501).exists()


def test_it_finds_a_project_ticket_before_calling_it_deleted(connection, psa):
    psa.get(f"{BASE}service/tickets/501", status=404, json=NOT_FOUND)
    psa.get(f"{BASE}project/tickets/501", json=ticket_record(project={"id": 4, "name": "Migration"}))
    psa.get(f"{BASE}schedule/entries", json=[])
    assert refresh.record_refresh(connection_id=connection.pk, kind="ticket", psa_id=501) == "updated"
    ticket = Ticket.objects.get(psa_id=501)
    assert (ticket.kind, ticket.project_name) == ("project", "Migration")


def test_it_asks_the_project_path_first_for_a_project_ticket_hint(connection, psa):
    psa.get(f"{BASE}project/tickets/501", json=ticket_record())
    psa.get(f"{BASE}schedule/entries", json=[])
    refresh.record_refresh(connection_id=connection.pk, kind="ticket", psa_id=501, hint="ProjectTicket")
    assert gets(psa, r"service/tickets") == []


def test_it_keeps_the_row_when_the_psa_is_down(connection, psa, settings):
    from psa.errors import RetryableError

    Opportunity.objects.create(connection=connection, psa_id=70, name="Deal")
    psa.get(f"{BASE}sales/opportunities/70", status=503, json={"code": "Down", "message": "maintenance"})
    client = refresh.realtime_client(connection)
    client.http.sleep = lambda s: None
    with pytest.raises(RetryableError):
        refresh.record_refresh(connection_id=connection.pk, kind="opportunity", psa_id=70, client=client)
    assert Opportunity.objects.filter(psa_id=70).exists()
    assert len(gets(psa, r"sales/opportunities/70")) > 1  # retried with backoff


def test_it_refreshes_an_opportunity(connection, psa):
    psa.get(f"{BASE}sales/opportunities/70", json={
        "id": 70, "name": "Big deal", "stage": {"id": 2, "name": "Proposal"}, "status": {"id": 1, "name": "Open"},
        "_info": {"lastUpdated": "2026-11-27T07:00:00Z"}})
    assert refresh.record_refresh(connection_id=connection.pk, kind="opportunity", psa_id=70) == "updated"
    assert Opportunity.objects.get(psa_id=70).stage_name == "Proposal"


# --- coalescing --------------------------------------------------------------------------------

class Queue:
    def __init__(self):
        self.calls = []

    def __call__(self, **kw):
        self.calls.append(kw)


def test_it_enqueues_one_refresh_for_a_burst():
    queue = Queue()
    results = [refresh.refresh_request(connection_id=1, kind="ticket", psa_id=5, enqueue=queue) for _ in range(500)]
    assert results.count(True) == 1 and len(queue.calls) == 1
    # another record is independent
    refresh.refresh_request(connection_id=1, kind="ticket", psa_id=6, enqueue=queue)
    assert len(queue.calls) == 2


def test_it_runs_one_trailing_refresh_when_callbacks_arrive_during_the_fetch(monkeypatch):
    queue = Queue()
    fetches = []

    def fake_refresh(**kw):
        fetches.append(kw)
        for _ in range(50):  # callbacks arriving while the record is being fetched
            refresh.refresh_request(connection_id=1, kind="ticket", psa_id=5, enqueue=queue)
        return "updated"

    monkeypatch.setattr(refresh, "record_refresh", fake_refresh)
    refresh.refresh_request(connection_id=1, kind="ticket", psa_id=5, enqueue=queue)
    assert len(queue.calls) == 1
    refresh.refresh_run_coalesced(connection_id=1, kind="ticket", psa_id=5, enqueue=queue)
    assert len(fetches) == 1
    assert len(queue.calls) == 2  # exactly one trailing refresh ...
    assert 0 < queue.calls[1]["countdown"] <= refresh.coalesce_seconds()  # ... held back by the window


def test_it_does_not_repeat_a_refresh_when_nothing_changed_meanwhile(monkeypatch):
    queue = Queue()
    monkeypatch.setattr(refresh, "record_refresh", lambda **kw: "updated")
    refresh.refresh_request(connection_id=1, kind="ticket", psa_id=5, enqueue=queue)
    refresh.refresh_run_coalesced(connection_id=1, kind="ticket", psa_id=5, enqueue=queue)
    assert len(queue.calls) == 1
    # the pending flag was released: the next callback enqueues at once
    assert refresh.refresh_request(connection_id=1, kind="ticket", psa_id=5, enqueue=queue) is True


def test_it_releases_the_pending_flag_when_the_refresh_fails(monkeypatch):
    queue = Queue()

    def boom(**kw):
        raise RuntimeError("PSA exploded")

    monkeypatch.setattr(refresh, "record_refresh", boom)
    refresh.refresh_request(connection_id=1, kind="ticket", psa_id=5, enqueue=queue)
    with pytest.raises(RuntimeError):
        refresh.refresh_run_coalesced(connection_id=1, kind="ticket", psa_id=5, enqueue=queue)
    assert refresh.refresh_request(connection_id=1, kind="ticket", psa_id=5, enqueue=queue) is True


def test_it_holds_the_trailing_refresh_back_while_callbacks_keep_arriving(monkeypatch):
    queue = Queue()
    fetches = []

    def fake_refresh(**kw):
        fetches.append(kw)
        refresh.refresh_request(connection_id=1, kind="ticket", psa_id=5, enqueue=queue)  # during the fetch
        return "updated"

    monkeypatch.setattr(refresh, "record_refresh", fake_refresh)
    refresh.refresh_request(connection_id=1, kind="ticket", psa_id=5, enqueue=queue)
    refresh.refresh_run_coalesced(connection_id=1, kind="ticket", psa_id=5, enqueue=queue)
    trailing = queue.calls[-1]
    assert trailing["burst_started"] is not None
    # the trailing run starts while callbacks are still arriving: it defers without fetching
    refresh.refresh_request(connection_id=1, kind="ticket", psa_id=5, enqueue=queue)
    outcome = refresh.refresh_run_coalesced(connection_id=1, kind="ticket", psa_id=5, enqueue=queue,
                                            burst_started=trailing["burst_started"])
    assert outcome == "deferred" and len(fetches) == 1
    assert queue.calls[-1]["countdown"] == refresh.QUIET_SECONDS
    assert len(queue.calls) == 3  # first, trailing, deferred trailing: the extra callback enqueued nothing
    # once the callbacks stop, it fetches
    monkeypatch.setattr(refresh, "QUIET_SECONDS", 0.0)
    monkeypatch.setattr(refresh, "record_refresh", lambda **kw: fetches.append(kw) or "updated")
    refresh.refresh_run_coalesced(connection_id=1, kind="ticket", psa_id=5, enqueue=queue,
                                  burst_started=trailing["burst_started"])
    assert len(fetches) == 2


def test_it_rereads_assignments_only_when_the_resources_changed_or_a_schedule_callback_asked(connection, psa):
    Ticket.objects.create(connection=connection, psa_id=501, resources="jdoe")
    psa.get(f"{BASE}service/tickets/501", json=ticket_record())  # resources still "jdoe"
    psa.get(f"{BASE}schedule/entries", json=[assignment_record(901)])
    refresh.record_refresh(connection_id=connection.pk, kind="ticket", psa_id=501)
    assert gets(psa, r"schedule/entries") == []
    psa.replace(responses.GET, f"{BASE}service/tickets/501", json=ticket_record(resources="jdoe, asmith"))
    refresh.record_refresh(connection_id=connection.pk, kind="ticket", psa_id=501)
    assert len(gets(psa, r"schedule/entries")) == 1
    # a schedule callback forces it, even when merged into a refresh another callback started
    queue = Queue()
    refresh.refresh_request(connection_id=connection.pk, kind="ticket", psa_id=501, enqueue=queue, hint="Ticket")
    refresh.refresh_request(connection_id=connection.pk, kind="ticket", psa_id=501, enqueue=queue,
                            hint=refresh.SCHEDULE_HINT)
    refresh.refresh_run_coalesced(enqueue=queue, **{k: v for k, v in queue.calls[0].items() if k != "countdown"})
    assert len(gets(psa, r"schedule/entries")) == 2
