"""Navigable paging answers from cached matches: exact after writes, same records as a scan."""

from __future__ import annotations

TICKETS = "service/tickets"


def ids_of(response) -> list[int]:
    assert response.status_code == 200, response.text
    return [r["id"] for r in response.json()]


def test_it_pages_plain_and_filtered_queries_like_a_full_scan(api, sandbox):
    everything = sandbox.store.list(TICKETS)
    last_page = ids_of(api.get(TICKETS, params={"pageSize": 7, "page": -(-len(everything) // 7)}))
    assert last_page == [t["id"] for t in everything][-(len(everything) % 7 or 7) :]
    open_ids = [t["id"] for t in everything if not t["closedFlag"]]
    params = {"conditions": "closedFlag = False", "orderBy": "id desc", "pageSize": 10}
    assert ids_of(api.get(TICKETS, params={**params, "page": 3})) == sorted(open_ids, reverse=True)[20:30]
    assert api.get(f"{TICKETS}/count", params={"conditions": "closedFlag = False"}).json() == {
        "count": len(open_ids)
    }


def test_it_answers_a_repeated_query_with_the_records_a_write_changed(fresh_api, fresh_sandbox):
    params = {"conditions": 'summary = "paging probe"', "pageSize": 5}
    assert ids_of(fresh_api.get(TICKETS, params=params)) == []
    ticket_id = fresh_sandbox.store.ids(TICKETS)[-1]
    patched = fresh_api.patch(
        f"{TICKETS}/{ticket_id}", [{"op": "replace", "path": "summary", "value": "paging probe"}]
    )
    assert patched.status_code == 200
    assert ids_of(fresh_api.get(TICKETS, params=params)) == [ticket_id]
    assert fresh_api.get(f"{TICKETS}/count", params={"conditions": params["conditions"]}).json() == {
        "count": 1
    }
    assert fresh_api.delete(f"{TICKETS}/{ticket_id}").status_code == 204
    assert ids_of(fresh_api.get(TICKETS, params=params)) == []
    plain = fresh_api.get(TICKETS, params={"pageSize": 1000})
    assert ticket_id not in ids_of(plain)
