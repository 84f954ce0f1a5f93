"""Reads over a real socket: both paging modes with Link headers, fields, orderBy, count, search."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from tests.psa.sandbox.conftest import ANCHOR

TICKETS = "service/tickets"


def next_page_id(response) -> int | None:
    url = response.links.get("next", {}).get("url")
    if not url:
        return None
    query = {k.lower(): v for k, v in parse_qs(urlsplit(url).query).items()}
    return int(query["pageid"][0])


def test_it_pages_forward_only_by_id_until_no_next_link(api, sandbox):
    expected = [t["id"] for t in sandbox.store.list(TICKETS) if not t["closedFlag"]]
    seen, page_id, pages = [], None, 0
    while True:
        params = {"pageSize": 100, "conditions": "closedFlag = False", "fields": "id"}
        if page_id is not None:
            params["pageId"] = page_id
        response = api.forward(TICKETS, **params)
        assert response.status_code == 200
        records = response.json()
        pages += 1
        seen += [r["id"] for r in records]
        page_id = next_page_id(response)
        if page_id is None:
            break
        assert page_id == records[-1]["id"]
    assert seen == expected
    assert pages == -(-len(expected) // 100)


def test_it_treats_page_id_as_id_greater_than(api, sandbox):
    ids = sandbox.store.ids(TICKETS)
    records = api.forward(TICKETS, pageId=ids[9], pageSize=5, fields="id").json()
    assert [r["id"] for r in records] == ids[10:15]


def test_it_refuses_order_by_with_forward_only_paging(api):
    response = api.forward(TICKETS, orderBy="id desc")
    assert response.status_code == 400
    assert response.json()["code"] == "InvalidObject"


def test_it_defaults_to_25_records_and_caps_page_size_at_1000(api):
    assert len(api.get(TICKETS).json()) == 25
    assert len(api.get(TICKETS, params={"pageSize": 5000}).json()) == 500


def test_it_sends_rfc5988_links_for_navigable_pages(api, sandbox):
    first = api.get(TICKETS, params={"pageSize": 100})
    assert set(first.links) == {"next", "last"}
    assert "page=5" in first.links["last"]["url"]
    middle = api.get(TICKETS, params={"pageSize": 100, "page": 3})
    assert set(middle.links) == {"first", "prev", "next", "last"}
    assert "page=2" in middle.links["prev"]["url"] and "page=4" in middle.links["next"]["url"]
    last = api.get(TICKETS, params={"pageSize": 100, "page": 5})
    assert set(last.links) == {"first", "prev", "last"}
    walked = []
    url = f"{api.base}{TICKETS}?pageSize=100&fields=id"
    while url:
        response = api.session.get(url, timeout=10)
        walked += [r["id"] for r in response.json()]
        url = response.links.get("next", {}).get("url")
    assert walked == sandbox.store.ids(TICKETS)


def test_it_returns_only_the_requested_fields_keeping_nesting(api):
    record = api.get(
        TICKETS, params={"fields": "id,summary,status/id,_info/lastUpdated", "pageSize": 1}
    ).json()[0]
    assert set(record) == {"id", "summary", "status", "_info"}
    assert set(record["status"]) == {"id"} and set(record["_info"]) == {"lastUpdated"}
    whole = api.get(TICKETS, params={"fields": "id,status,status/id", "pageSize": 1}).json()[0]
    assert "name" in whole["status"]  # the whole reference wins; the shared object is not trimmed


def test_it_orders_by_one_or_more_fields(api, sandbox):
    records = api.get(TICKETS, params={"orderBy": "id desc", "pageSize": 10, "fields": "id"}).json()
    assert [r["id"] for r in records] == sorted(sandbox.store.ids(TICKETS), reverse=True)[:10]
    records = api.get(
        TICKETS, params={"orderBy": "summary asc, id desc", "pageSize": 1000, "fields": "id,summary"}
    ).json()
    keys = [(r["summary"].lower(), -r["id"]) for r in records]
    assert keys == sorted(keys)
    assert api.get(TICKETS, params={"orderBy": "summary sideways"}).status_code == 400


def test_it_counts_with_conditions(api, sandbox):
    closed = sum(1 for t in sandbox.store.list(TICKETS) if t["closedFlag"])
    assert api.get(f"{TICKETS}/count", params={"conditions": "closedFlag = True"}).json() == {"count": closed}
    assert api.get(f"{TICKETS}/count").json() == {"count": 500}


def test_it_searches_with_conditions_in_the_body(api, sandbox):
    some = sandbox.store.ids(TICKETS)[:40]
    condition = f"id in ({','.join(map(str, some))}) and closedFlag = False"
    response = api.post(
        f"{TICKETS}/search", params={"pageSize": 1000, "fields": "id"}, json={"conditions": condition}
    )
    assert response.status_code == 200
    expected = [i for i in some if not sandbox.store.get(TICKETS, i)["closedFlag"]]
    assert [r["id"] for r in response.json()] == expected


def test_it_keeps_search_conditions_out_of_the_link_header(api, sandbox):
    ids = sandbox.store.ids(TICKETS)
    condition = f"id in ({','.join(map(str, ids * 8))})"  # ~16k characters, as a split-free search sends
    response = api.post(
        f"{TICKETS}/search", params={"pageSize": 100, "fields": "id"}, json={"conditions": condition}
    )
    assert response.status_code == 200
    assert len(response.json()) == 100
    link = response.headers["Link"]
    assert "conditions" not in link and len(link) < 1000
    assert 'rel="next"' in link and "page=2" in link


def test_it_answers_bad_conditions_with_400_and_a_connectwise_body(api):
    response = api.get(TICKETS, params={"conditions": 'summary = "oops'})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "InvalidObject" and body["message"] and isinstance(body["errors"], list)
    assert api.get(TICKETS, params={"conditions": "bogus = 1"}).status_code == 400
    assert api.get(TICKETS, params={"pageSize": "many"}).status_code == 400


def test_it_gets_one_record_and_404s_with_a_connectwise_body(api, sandbox):
    ticket_id = sandbox.store.ids(TICKETS)[0]
    assert api.get(f"{TICKETS}/{ticket_id}").json()["id"] == ticket_id
    assert set(api.get(f"{TICKETS}/{ticket_id}", params={"fields": "id,board/name"}).json()) == {
        "id",
        "board",
    }
    missing = api.get(f"{TICKETS}/1")
    assert missing.status_code == 404 and missing.json()["code"] == "NotFound"


def test_it_serves_nested_collections_per_parent(api, sandbox):
    board = sandbox.store.list("service/boards")[0]
    statuses = api.get(f"service/boards/{board['id']}/statuses", params={"pageSize": 100}).json()
    assert statuses and all(s["board"]["id"] == board["id"] for s in statuses)
    assert any(s["closedStatus"] for s in statuses)
    assert api.get("service/boards/99999/statuses").status_code == 404
    ticket_id = sandbox.store.ids(TICKETS)[0]
    notes = api.get(f"{TICKETS}/{ticket_id}/notes").json()
    assert all(n["ticketId"] == ticket_id for n in notes)
    assert api.get(f"{TICKETS}/{ticket_id}/notes").json() == notes  # lazily made once, then stable


def test_it_serves_every_tier_entity(api):
    paths = [
        "system/members",
        "system/locations",
        "service/locations",
        "company/companies",
        "company/companies/statuses",
        "project/projects",
        "project/statuses",
        "project/tickets",
        "sales/opportunities",
        "sales/opportunities/statuses",
        "sales/opportunities/types",
        "sales/stages",
        "schedule/entries",
        "schedule/statuses",
        "schedule/types",
        "schedule/calendars",
        "schedule/holidayLists",
        "service/boards",
        "service/priorities",
        "service/SLAs",
        "time/entries",
        "system/callbacks",
    ]
    after_the_data = (ANCHOR + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for path in paths:
        response = api.get(path, params={"pageSize": 2, "conditions": f"lastUpdated < [{after_the_data}]"})
        assert response.status_code == 200, path
        if path != "system/callbacks":
            assert len(response.json()) >= 1, path
    assert api.get("service/SLAs/1/priorities").json()
    assert api.get("schedule/holidayLists/1/holidays").json()
    assert api.get("system/info").json()["version"]
    assignment = api.get(
        "schedule/entries", params={"conditions": 'type/identifier = "S" and doneFlag = False', "pageSize": 1}
    ).json()[0]
    assert assignment["type"]["identifier"] == "S" and assignment["objectId"]


def test_it_answers_companyinfo_without_auth_and_null_for_unknown_companies(sandbox):
    import requests

    info = requests.get(f"{sandbox.url}/login/companyinfo/sandbox", timeout=5).json()
    assert info["Codebase"] == "v2025_1/" and info["CompanyID"] == "sandbox" and info["IsCloud"] is False
    assert requests.get(f"{sandbox.url}/login/companyinfo/other", timeout=5).text == "null"
    plain = requests.get(f"{sandbox.url}/v2019_3/apis/3.0/service/tickets", timeout=5)
    assert plain.status_code == 404 and "code" not in plain.text  # unknown codebase: no CW error body


def test_it_answers_under_the_reported_codebase_and_v4_6_release(api):
    for codebase in ("v2025_1/", "v4_6_release/"):
        base = api.base.replace("/v2025_1/", f"/{codebase}")
        response = api.session.get(f"{base}service/boards", timeout=10)
        assert response.status_code == 200 and response.json(), codebase
        paged = api.session.get(f"{base}company/contacts", params={"pageSize": 2}, timeout=10)
        assert paged.links["next"]["url"].startswith(f"{base}company/contacts?"), codebase
