"""PATCH / POST / DELETE semantics, lastUpdated bumps and the ConnectWise rules the sandbox keeps."""

from __future__ import annotations

from datetime import timedelta

from tests.psa.sandbox.conftest import ANCHOR
from tests.support.clock import psa_time

TICKETS = "service/tickets"
STATUSES = "service/boards/{parentId}/statuses"


def open_ticket(sandbox) -> dict:
    return next(t for t in sandbox.store.list(TICKETS) if not t["closedFlag"] and "resources" not in t)


def board_status(sandbox, board_id: int, *, closed: bool) -> dict:
    return next(
        s
        for s in sandbox.store.list(STATUSES, parent_id=board_id)
        if s["closedStatus"] == closed and not s["inactive"]
    )


def test_it_patches_a_reference_whole_and_bumps_last_updated(fresh_api, fresh_sandbox):
    ticket = open_ticket(fresh_sandbox)
    priority = fresh_sandbox.store.list("service/priorities")[-1]
    before = ticket["_info"]["lastUpdated"]
    response = fresh_api.patch(
        f"{TICKETS}/{ticket['id']}",
        [
            {"op": "replace", "path": "priority", "value": {"id": priority["id"]}},
            {"op": "replace", "path": "/summary", "value": "Nouveau résumé ✅"},
        ],
    )
    assert response.status_code == 200
    body = response.json()
    assert body["priority"]["id"] == priority["id"] and body["priority"]["name"] == priority["name"]
    assert body["summary"] == "Nouveau résumé ✅"
    assert body["_info"]["lastUpdated"] > before
    assert fresh_sandbox.store.get(TICKETS, ticket["id"]) == body
    newer = fresh_api.forward(TICKETS, conditions=f"lastUpdated > [{before}] and id = {ticket['id']}").json()
    assert [r["id"] for r in newer] == [ticket["id"]]


def test_it_closes_and_reopens_a_ticket_through_its_status(fresh_api, fresh_sandbox):
    ticket = open_ticket(fresh_sandbox)
    closed = board_status(fresh_sandbox, ticket["board"]["id"], closed=True)
    body = fresh_api.patch(
        f"{TICKETS}/{ticket['id']}", [{"op": "replace", "path": "status", "value": {"id": closed["id"]}}]
    ).json()
    assert body["closedFlag"] is True and body["closedDate"] and body["closedBy"]
    reopened = board_status(fresh_sandbox, ticket["board"]["id"], closed=False)
    body = fresh_api.patch(
        f"{TICKETS}/{ticket['id']}", [{"op": "replace", "path": "status", "value": {"id": reopened["id"]}}]
    ).json()
    assert body["closedFlag"] is False and "closedDate" not in body


def test_it_rejects_bad_patches_with_400(fresh_api, fresh_sandbox):
    ticket = open_ticket(fresh_sandbox)
    path = f"{TICKETS}/{ticket['id']}"
    other_board = next(
        b for b in fresh_sandbox.store.list("service/boards") if b["id"] != ticket["board"]["id"]
    )
    foreign_status = board_status(fresh_sandbox, other_board["id"], closed=False)
    cases = [
        [{"op": "replace", "path": "status/_info/status_href", "value": "x"}],  # deeper than a key
        [{"op": "replace", "path": "summary/id", "value": 5}],  # not a reference
        [{"op": "remove", "path": "status/id"}],
        [
            {"op": "replace", "path": "status", "value": {"id": foreign_status["id"]}}
        ],  # not on the ticket's board
        [{"op": "replace", "path": "priority", "value": {"id": 424242}}],
        [{"op": "replace", "path": "summary", "value": "x" * 256}],
        [{"op": "replace", "path": "noSuchField", "value": 1}],
        [{"op": "replace", "path": "id", "value": 1}],
        [{"op": "move", "path": "summary", "value": "x"}],
        [{"op": "replace", "path": "customerUpdatedFlag", "value": "yes"}],
        [{"op": "replace", "path": "budgetHours", "value": "two"}],
        [{"op": "replace", "path": "summary", "value": 42}],
        [{"op": "replace", "path": "requiredDate", "value": "next tuesday"}],
        {"op": "replace", "path": "summary", "value": "not an array"},
    ]
    for ops in cases:
        response = fresh_api.session.patch(fresh_api.base + path, json=ops, timeout=5)
        assert response.status_code == 400, ops
        assert response.json()["code"] == "InvalidObject"
    assert fresh_sandbox.store.get(TICKETS, ticket["id"]) == ticket
    assert (
        fresh_api.patch(f"{TICKETS}/1", [{"op": "replace", "path": "summary", "value": "x"}]).status_code
        == 404
    )


def test_it_creates_records_with_201_and_new_ids(fresh_api, fresh_sandbox):
    company = fresh_sandbox.store.list("company/companies")[0]
    response = fresh_api.post(
        TICKETS,
        json={
            "summary": "Created via API",
            "company": {"identifier": company["identifier"]},
            "board": {"id": 1},
        },
    )
    assert response.status_code == 201
    ticket = response.json()
    assert ticket["id"] > max(fresh_sandbox.store.ids("project/tickets"))
    assert ticket["company"]["id"] == company["id"] and ticket["status"]["name"] == "New"
    assert ticket["closedFlag"] is False and ticket["_info"]["dateEntered"]
    assert fresh_api.post(TICKETS, json={"company": {"id": company["id"]}}).status_code == 400  # no summary
    assert fresh_api.post(TICKETS, json={"summary": "x", "company": {"id": -1}}).status_code == 400
    note = fresh_api.post(
        f"{TICKETS}/{ticket['id']}/notes", json={"text": "Première note 📝", "internalAnalysisFlag": True}
    )
    assert note.status_code == 201 and note.json()["ticketId"] == ticket["id"]
    assert [n["id"] for n in fresh_api.get(f"{TICKETS}/{ticket['id']}/notes").json()] == [note.json()["id"]]


def test_it_keeps_ticket_resources_in_step_with_schedule_entries(fresh_api, fresh_sandbox):
    ticket = open_ticket(fresh_sandbox)
    member = fresh_sandbox.store.list("system/members")[0]
    entry = fresh_api.post(
        "schedule/entries",
        json={"objectId": ticket["id"], "member": {"id": member["id"]}, "type": {"identifier": "S"}},
    )
    assert entry.status_code == 201 and entry.json()["type"]["identifier"] == "S"
    assert fresh_sandbox.store.get(TICKETS, ticket["id"])["resources"] == member["identifier"]
    assert fresh_api.delete(f"schedule/entries/{entry.json()['id']}").status_code == 204
    assert "resources" not in fresh_sandbox.store.get(TICKETS, ticket["id"])
    assert (
        fresh_api.post("schedule/entries", json={"objectId": 1, "member": {"id": member["id"]}}).status_code
        == 400
    )


def test_it_adds_time_entry_hours_to_the_ticket(fresh_api, fresh_sandbox):
    ticket = open_ticket(fresh_sandbox)
    member = fresh_sandbox.store.list("system/members")[0]
    start = ANCHOR - timedelta(hours=15)  # 09:00 the day before the data's anchor
    response = fresh_api.post(
        "time/entries",
        json={
            "chargeToId": ticket["id"],
            "chargeToType": "ServiceTicket",
            "member": {"id": member["id"]},
            "timeStart": start.isoformat(),  # +00:00: answered as Z
            "timeEnd": psa_time(start, minutes=90),
            "notes": "Fixed it",
        },
    )
    assert response.status_code == 201
    assert response.json()["timeStart"] == psa_time(start) and response.json()["actualHours"] == 1.5
    after = fresh_sandbox.store.get(TICKETS, ticket["id"])["actualHours"]
    assert after == round(float(ticket.get("actualHours") or 0) + 1.5, 2)
    found = fresh_api.get(
        "time/entries",
        params={"conditions": f"chargeToId = {ticket['id']} and timeStart = [{psa_time(start)}]"},
    ).json()
    assert [e["id"] for e in found] == [response.json()["id"]]


def test_it_deletes_with_204_then_404(fresh_api, fresh_sandbox):
    ticket_id = fresh_sandbox.store.ids(TICKETS)[3]
    assert fresh_api.delete(f"{TICKETS}/{ticket_id}").status_code == 204
    assert fresh_api.get(f"{TICKETS}/{ticket_id}").status_code == 404
    assert fresh_api.delete(f"{TICKETS}/{ticket_id}").status_code == 404
    assert fresh_api.get(f"{TICKETS}/{ticket_id}/notes").status_code == 404
    assert ticket_id not in [r["id"] for r in fresh_api.forward(TICKETS, pageSize=1000, fields="id").json()]


def test_it_refuses_writes_where_connectwise_has_none(fresh_api):
    assert (
        fresh_api.patch("service/boards/1", [{"op": "replace", "path": "name", "value": "x"}]).status_code
        == 405
    )
    assert fresh_api.post("system/members", json={"identifier": "x"}).status_code == 405


def test_it_moves_an_opportunity_to_a_closed_status(fresh_api, fresh_sandbox):
    opportunity = next(o for o in fresh_sandbox.store.list("sales/opportunities") if "closedDate" not in o)
    won = next(s for s in fresh_sandbox.store.list("sales/opportunities/statuses") if s["wonFlag"])
    body = fresh_api.patch(
        f"sales/opportunities/{opportunity['id']}",
        [{"op": "replace", "path": "status", "value": {"id": won["id"]}}],
    ).json()
    assert body["status"]["id"] == won["id"] and body["closedDate"]


def test_it_completes_bare_references_written_straight_to_the_store(fresh_sandbox):
    ticket = open_ticket(fresh_sandbox)
    closed = board_status(fresh_sandbox, ticket["board"]["id"], closed=True)
    updated = fresh_sandbox.store.update(TICKETS, ticket["id"], {"status": {"id": closed["id"]}})
    assert updated["status"]["name"] == closed["name"] and updated["closedFlag"] is True
    assert updated["_info"]["lastUpdated"] > ticket["_info"]["lastUpdated"]


def test_it_shares_one_id_space_for_service_and_project_tickets(fresh_sandbox):
    store = fresh_sandbox.store
    project_id = store.ids("project/tickets")[0]
    clash = store.create(TICKETS, {"id": project_id, "summary": "wants a taken id"})
    assert clash["id"] != project_id and store.get("project/tickets", project_id)["id"] == project_id
    chosen = store.create(TICKETS, {"id": 9_000_000, "summary": "explicit id"})
    assert chosen["id"] == 9_000_000
    assert store.create("project/tickets", {"summary": "next"})["id"] == 9_000_001


def test_it_never_serves_a_stale_encoding_after_a_change(fresh_api, fresh_sandbox):
    ticket_id = fresh_sandbox.store.ids(TICKETS)[0]
    first = fresh_api.forward(TICKETS, pageSize=5).json()[0]
    assert first["id"] == ticket_id
    fresh_sandbox.store.update(TICKETS, ticket_id, {"summary": "changed after being served"})
    again = fresh_api.forward(TICKETS, pageSize=5).json()[0]
    assert again["summary"] == "changed after being served"
    assert again["_info"]["lastUpdated"] > first["_info"]["lastUpdated"]
