"""The query grammar, IncludeFields, MaxRecords and keyset paging (api.md §3)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from psa.sandbox.autotask.picklists import COMPLETE_STATUS


def test_it_filters_with_every_comparison_operator(read, shared_sandbox):
    tickets = shared_sandbox.store.list("Tickets")
    some = tickets[10]
    assert read.ids("Tickets", {"op": "eq", "field": "id", "value": some["id"]}) == [some["id"]]
    assert read.ids("Tickets", {"op": "gt", "field": "id", "value": tickets[-3]["id"]}) == [
        t["id"] for t in tickets[-2:]
    ]
    assert read.ids("Tickets", {"op": "lte", "field": "id", "value": tickets[1]["id"]}) == [
        t["id"] for t in tickets[:2]
    ]
    not_complete = read.query("Tickets", {"op": "noteq", "field": "status", "value": COMPLETE_STATUS})[
        "items"
    ]
    assert not_complete and all(t["status"] != COMPLETE_STATUS for t in not_complete)


def test_it_matches_text_case_insensitively_and_names_fields_in_any_case(read, shared_sandbox):
    company = shared_sandbox.store.list("Companies")[0]
    name = company["companyName"]
    for op, value in (
        ("beginsWith", name[:5].upper()),
        ("endsWith", name[-4:].lower()),
        ("contains", name[3:9]),
    ):
        assert company["id"] in read.ids("Companies", {"op": op, "field": "COMPANYNAME", "value": value})


def test_it_nests_and_or_groups(read, shared_sandbox):
    tickets = shared_sandbox.store.list("Tickets")
    a, b = tickets[0]["id"], tickets[5]["id"]
    group = {"op": "or", "items": [{"op": "eq", "field": "id", "value": a}, {"op": "and", "items": [
        {"op": "gte", "field": "id", "value": b}, {"op": "lte", "field": "id", "value": b}]}]}  # fmt: skip
    assert read.ids("Tickets", group) == [a, b]


def test_it_reads_exist_notexist_and_dropped_values_as_django_autotask_sends_them(read, shared_sandbox):
    assigned = read.query("Tickets", {"op": "exist", "field": "assignedResourceID"}, MaxRecords=500)["items"]
    unassigned = read.query("Tickets", {"op": "notExist", "field": "assignedResourceID"}, MaxRecords=500)[
        "items"
    ]
    assert len(assigned) + len(unassigned) == 500 and assigned and unassigned
    inactive = read.ids("Resources", {"op": "eq", "field": "isActive"})  # value dropped: false
    assert inactive == [r["id"] for r in shared_sandbox.store.list("Resources") if not r["isActive"]]
    assert read.ids("Tickets", {"op": "in", "field": "status"}) == []  # empty `in`: nothing
    assert read.ids("Tickets", {"op": "in", "field": "status", "value": []}) == []
    assert len(read.ids("Companies", {"op": "notIn", "field": "id", "value": []})) == 120


def test_it_accepts_numbers_as_strings_and_datetimes_in_every_client_form(read, shared_sandbox):
    ticket = shared_sandbox.store.list("Tickets")[3]
    assert read.ids("Tickets", {"op": "eq", "field": "id", "value": str(ticket["id"])}) == [ticket["id"]]
    stamp = ticket["lastActivityDate"]  # 2030-...T..:..:..mmmZ
    for form in (stamp, stamp[:19] + "Z", stamp[:19], stamp[:23] + "000Z"):
        assert ticket["id"] in read.ids(
            "Tickets",
            {"op": "gte", "field": "lastActivityDate", "value": form},
            {"op": "eq", "field": "id", "value": ticket["id"]},
        )


def test_it_filters_on_one_udf(read, shared_sandbox):
    tagged = [t for t in shared_sandbox.store.list("Tickets") if t.get("_udf")]
    reference = tagged[0]["_udf"]["Customer Reference"]
    found = read.ids(
        "Tickets", {"op": "eq", "field": "Customer Reference", "value": reference.lower(), "udf": True}
    )
    assert tagged[0]["id"] in found
    status, body = read("POST", "Tickets/query", {"filter": [
        {"op": "exist", "field": "Customer Reference", "udf": True}, {"op": "exist", "field": "Root Cause", "udf": True}]})  # fmt: skip
    assert status == 500 and "user-defined" in body["errors"][0]


def test_it_refuses_more_than_500_conditions_and_unknown_fields(read):
    status, body = read(
        "POST", "Tickets/query", {"filter": [{"op": "in", "field": "id", "value": list(range(501))}]}
    )
    assert (status, body) == (
        500,
        {"errors": ["Invalid query syntax. Queries are limited to 500 or fewer 'OR' conditions."]},
    )
    status, body = read("POST", "Tickets/query", {"filter": [{"op": "eq", "field": "nope", "value": 1}]})
    assert status == 500 and "nope" in body["errors"][0]


def test_it_returns_only_included_fields_plus_udfs(read):
    item = read.query("Tickets", IncludeFields=["ID", "title"], MaxRecords=1)["items"][0]
    assert set(item) == {"id", "title", "userDefinedFields"}
    assert [u["name"] for u in item["userDefinedFields"]] == [
        "Customer Reference",
        "Billing Approved",
        "Root Cause",
    ]


@pytest.mark.parametrize("max_records", [0, 501, "x"])
def test_it_refuses_max_records_outside_1_to_500(read, max_records):
    status, body = read("POST", "Tickets/query", {"filter": [], "MaxRecords": max_records})
    assert status == 500 and body["errors"]


def test_it_pages_the_post_form_by_posting_the_same_body_to_next_page_url(read, shared_sandbox):
    body = {"Filter": [{"op": "gte", "field": "id", "value": 0}], "maxRecords": 200}
    status, page = read("POST", "Tickets/query", body)
    seen = [item["id"] for item in page["items"]]
    pages = 1
    while page["pageDetails"]["nextPageUrl"]:
        url = urlsplit(page["pageDetails"]["nextPageUrl"])
        assert "search" not in parse_qs(url.query)
        assert "%7b%22pageSize%22%3a200" in url.query  # .NET's lower-case escapes
        status, get_answer = read(
            "GET", "Tickets/query/next", query={"paging": parse_qs(url.query)["paging"][0]}
        )
        assert status == 405 and "does not support http method 'GET'" in get_answer["Message"]
        status, page = read(
            "POST", "Tickets/query/next", body, query={"paging": parse_qs(url.query)["paging"][0]}
        )
        assert status == 200 and page["pageDetails"]["prevPageUrl"]
        seen += [item["id"] for item in page["items"]]
        pages += 1
    assert pages == 3 and seen == shared_sandbox.store.ids("Tickets")


def test_it_pages_the_get_form_echoing_the_search(read, shared_sandbox):
    search = json.dumps({"filter": [{"op": "noteq", "field": "status", "value": 5}], "MaxRecords": 50})
    status, page = read("GET", "Tickets/query", query={"search": search})
    seen = [item["id"] for item in page["items"]]
    while page["pageDetails"]["nextPageUrl"]:
        params = parse_qs(urlsplit(page["pageDetails"]["nextPageUrl"]).query)
        assert json.loads(params["search"][0]) == json.loads(search)
        status, page = read("GET", "Tickets/query/next", query={k: v[0] for k, v in params.items()})
        seen += [item["id"] for item in page["items"]]
    expected = [t["id"] for t in shared_sandbox.store.list("Tickets") if t["status"] != 5]
    assert seen == expected


def test_it_counts_both_ways(read, shared_sandbox):
    search = {"filter": [{"op": "eq", "field": "status", "value": 5}]}
    expected = sum(1 for t in shared_sandbox.store.list("Tickets") if t["status"] == 5)
    assert read("POST", "Tickets/query/count", search) == (200, {"queryCount": expected})
    assert read("GET", "Tickets/query/count", query={"search": json.dumps(search)}) == (
        200,
        {"queryCount": expected},
    )


def test_it_queries_lazy_notes_in_bulk_by_ticket_batches_and_by_change_stamp(read, shared_sandbox):
    ticket_ids = shared_sandbox.store.ids("Tickets")[:400]
    batch = read.query("TicketNotes", {"op": "in", "field": "ticketID", "value": ticket_ids})["items"]
    assert batch and {n["ticketID"] for n in batch} <= set(ticket_ids)
    everything = read("POST", "TicketNotes/query/count", {"filter": []})[1]["queryCount"]
    assert everything > len(batch)
    child = read("GET", f"Tickets/{batch[0]['ticketID']}/Notes")[1]["items"]
    assert batch[0]["id"] in [n["id"] for n in child]


def test_it_answers_an_item_or_null_and_404_for_unknown_routes(read, shared_sandbox):
    ticket_id = shared_sandbox.store.ids("Tickets")[0]
    status, body = read("GET", f"tickets/{ticket_id}/")
    assert status == 200 and body["item"]["id"] == ticket_id and "userDefinedFields" in body["item"]
    assert read("GET", "Tickets/1") == (200, {"item": None})
    assert read("GET", "Nonsense/query")[0] == 404


def test_it_pages_a_listing_whose_included_fields_lack_the_id(read, shared_sandbox):
    body = {"filter": [], "IncludeFields": ["title"], "MaxRecords": 300}
    status, page = read("POST", "Tickets/query", body)
    titles = [item["title"] for item in page["items"]]
    paging = parse_qs(urlsplit(page["pageDetails"]["nextPageUrl"]).query)["paging"][0]
    status, page = read("POST", "Tickets/query/next", body, query={"paging": paging})
    titles += [item["title"] for item in page["items"]]
    assert titles == [t["title"] for t in shared_sandbox.store.list("Tickets")]


def test_it_lists_picklist_driven_companies_by_territory(read, shared_sandbox):
    north = read.ids("Companies", {"op": "eq", "field": "territoryID", "value": 1})
    assert north == [c["id"] for c in shared_sandbox.store.list("Companies") if c.get("territoryID") == 1]
    fields = read("GET", "Companies/entityInformation/fields")[1]["fields"]
    territory = next(f for f in fields if f["name"] == "territoryID")
    assert [v["label"] for v in territory["picklistValues"]][:2] == ["North", "South"]
