"""Requests as third-party ConnectWise clients send them (pyconnectwise, connectwise-rest,
connectpyse, ConnectPyse-Manage, ConnectWiseManageAPI), replayed with plain requests: each test
is a place where one of those clients failed against the sandbox while the real API serves it."""

from __future__ import annotations

import base64

import requests

from tests.psa.sandbox.contract import problems

TICKETS = "service/tickets"
NOTES = "service/tickets/{parentId}/notes"
# Member.authenticationServiceType in the 2025.1 spec (pydantic clients check it as a Literal)
AUTHENTICATION_SERVICES = {"AuthAnvil", "GoogleAuthenticator", "Email"}


def basic(user: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(user.encode()).decode(), "clientId": "x"}


def ticket_with_notes_and_time(sandbox) -> dict:
    """A service ticket that has notes and a time entry with a note charged to it."""
    charged = {
        e["chargeToId"]
        for e in sandbox.store.list("time/entries")
        if e["chargeToType"] == "ServiceTicket" and e.get("notes")
    }
    return next(
        t
        for t in sandbox.store.list(TICKETS)
        if t["id"] in charged and sandbox.store.list(NOTES, parent_id=t["id"])
    )


# --- data that typed clients parse ------------------------------------------------------------


def test_it_gives_members_only_an_authentication_service_type_of_the_spec(api):
    members = api.get("system/members", params={"pageSize": 1000}).json()
    kinds = {m["authenticationServiceType"] for m in members if "authenticationServiceType" in m}
    assert kinds and kinds <= AUTHENTICATION_SERVICES


def test_it_fills_a_ticket_posted_with_a_summary_only_like_connectwise(fresh_api, fresh_sandbox):
    # ConnectPyse-Manage's Ticket model requires priority: a bare POST must come back with one.
    store = fresh_sandbox.store
    company = store.list("company/companies")[0]
    response = fresh_api.post(TICKETS, json={"summary": "Printer down", "company": {"id": company["id"]}})
    assert response.status_code == 201, response.text
    ticket = response.json()
    default_priority = next(p for p in store.list("service/priorities") if p["defaultFlag"])
    assert ticket["priority"]["id"] == default_priority["id"]
    assert ticket["source"]["id"] == next(s for s in store.list("service/sources") if s["defaultFlag"])["id"]
    assert (
        ticket["serviceLocation"]["id"]
        == next(loc for loc in store.list("service/locations") if loc["defaultFlag"])["id"]
    )
    assert (ticket["severity"], ticket["impact"]) == ("Medium", "Medium")
    board = store.get("service/boards", ticket["board"]["id"])
    assert ticket["location"] == board["location"] and ticket["department"] == board["department"]
    assert problems("Ticket", ticket) == []


def test_it_keeps_the_priority_a_posted_ticket_names(fresh_api, fresh_sandbox):
    chosen = fresh_sandbox.store.list("service/priorities")[0]
    response = fresh_api.post(
        TICKETS,
        json={"summary": "Urgent", "priority": {"id": chosen["id"]}, "type": None, "status": None},
    )
    assert response.status_code == 201, response.text
    assert response.json()["priority"]["id"] == chosen["id"]


def test_it_names_a_posted_ticket_assignment_after_its_ticket(fresh_api, fresh_sandbox):
    ticket = fresh_sandbox.store.list(TICKETS)[0]
    member = fresh_sandbox.store.list("system/members")[0]
    response = fresh_api.post(
        "schedule/entries",
        json={
            "objectId": ticket["id"],
            "type": {"identifier": "S"},
            "member": {"id": member["id"]},
            "dateStart": "2026-12-07T10:00:00Z",
            "dateEnd": "2026-12-07T11:30:00Z",
        },
    )
    assert response.status_code == 201, response.text
    entry = response.json()
    assert entry["name"] == ticket["summary"]
    assert entry["status"]["name"] == "Firm"  # the default schedule status
    assert entry["hours"] == 1.5
    assert problems("ScheduleEntry", entry) == []


def test_it_sets_the_end_of_a_time_entry_posted_as_a_start_and_hours(fresh_api, fresh_sandbox):
    # ConnectPyse-Manage's create_time_entry sends actualHours; timeStart alone is enough for ConnectWise
    ticket_id = fresh_sandbox.store.ids(TICKETS)[0]
    member = fresh_sandbox.store.list("system/members")[0]
    body = {
        "chargeToId": ticket_id,
        "chargeToType": "ServiceTicket",
        "member": {"id": member["id"]},
        "timeStart": "2026-12-05T10:00:00Z",
        "actualHours": 1.5,
    }
    response = fresh_api.post("time/entries", json=body)
    assert response.status_code == 201, response.text
    assert (response.json()["timeEnd"], response.json()["actualHours"]) == ("2026-12-05T11:30:00Z", 1.5)


def test_it_reads_flags_and_numbers_sent_as_strings(fresh_api):
    # the developer guide's callback example: {"id": 0, "objectId": 0, "inactiveFlag": "false", ...}
    body = {
        "id": 0,
        "description": "from the guide",
        "url": "https://example.invalid/hook?recordId=",
        "objectId": "1",
        "type": "ticket",
        "level": "owner",
        "memberId": 0,
        "inactiveFlag": "false",
    }
    response = fresh_api.post("system/callbacks", json=body)
    assert response.status_code == 201, response.text
    assert (response.json()["inactiveFlag"], response.json()["objectId"]) == (False, 1)
    refused = fresh_api.post("system/callbacks", json={**body, "inactiveFlag": "maybe"})
    assert refused.status_code == 400


def test_it_narrows_a_listing_by_child_conditions_on_an_array(api, sandbox):
    # the developer guide's example: find a contact by e-mail among its communication items
    contact = next(c for c in sandbox.store.list("company/contacts") if c.get("communicationItems"))
    email = next(i["value"] for i in contact["communicationItems"] if i.get("communicationType") == "Email")
    child = f'communicationItems/value like "{email}" AND communicationItems/communicationType="Email"'
    found = api.get("company/contacts", params={"childconditions": child, "pageSize": 1000}).json()
    assert contact["id"] in [c["id"] for c in found]
    assert all(any(i["value"] == email for i in c["communicationItems"]) for c in found)
    counted = api.get("company/contacts/count", params={"childConditions": child}).json()["count"]
    assert counted == len(found)
    # each element on its own: no element is both this e-mail and a phone number
    mismatch = f'communicationItems/value = "{email}" AND communicationItems/communicationType = "Phone"'
    assert api.get("company/contacts", params={"childConditions": mismatch}).json() == []
    refused = api.get("company/contacts", params={"childConditions": 'firstName = "x"'})
    assert refused.status_code == 400


# --- how clients address and authenticate -----------------------------------------------------


def test_it_matches_the_company_id_of_basic_auth_ignoring_case(api, sandbox):
    c = sandbox.credentials
    url = api.base + TICKETS
    upper = requests.get(
        url, headers=basic(f"{c['company_id'].upper()}+{c['public_key']}:{c['private_key']}")
    )
    assert upper.status_code == 200
    wrong_key = requests.get(
        url, headers=basic(f"{c['company_id']}+{c['public_key']}:{c['private_key'].upper()}")
    )
    assert wrong_key.status_code == 401


def test_it_answers_the_codebase_and_api_path_in_any_case(api, sandbox):
    response = api.session.get(
        f"{sandbox.url}/V4_6_RELEASE/APIs/3.0/service/tickets", params={"pageSize": 10}
    )
    assert response.status_code == 200
    assert len(response.json()) == 10
    assert "/v4_6_release/apis/3.0/service/tickets?" in response.links["next"]["url"]


def test_it_builds_hrefs_under_the_codebase_the_client_called(api, sandbox):
    # connectwise-rest, connectpyse and pyRESTcw call v4_6_release; the hrefs they follow stay there
    ticket_id = sandbox.store.ids(TICKETS)[0]
    record = api.session.get(f"{sandbox.url}/v4_6_release/apis/3.0/{TICKETS}/{ticket_id}", timeout=10).json()
    assert record["board"]["_info"]["board_href"].startswith(f"{sandbox.url}/v4_6_release/apis/3.0/")
    assert (
        "/v2025_1/" not in api.session.get(f"{sandbox.url}/v4_6_release/apis/3.0/{TICKETS}", timeout=10).text
    )
    assert api.get(f"{TICKETS}/{ticket_id}").json()["board"]["_info"]["board_href"].startswith(api.base)


def test_it_answers_paths_with_a_trailing_slash(api):
    # connectpyse builds every collection URL with one: .../service/tickets/
    response = api.get(f"{TICKETS}/", params={"pageSize": 3})
    assert response.status_code == 200 and len(response.json()) == 3


def test_it_reads_a_chunked_request_body_and_keeps_the_connection_usable(fresh_api, fresh_sandbox):
    # .NET's PostAsJsonAsync and streaming clients send Transfer-Encoding: chunked, no length
    ticket_id = fresh_sandbox.store.ids(TICKETS)[0]

    def chunks():
        yield b'{"text": "Sent in '
        yield b'chunks"}'

    url = f"{fresh_api.base}{TICKETS}/{ticket_id}/notes"
    response = fresh_api.session.post(
        url, data=chunks(), headers={"Content-Type": "application/json"}, timeout=10
    )
    assert response.status_code == 201, response.text
    assert response.json()["text"] == "Sent in chunks"
    again = fresh_api.get(f"{TICKETS}/{ticket_id}/notes/{response.json()['id']}")  # same connection
    assert again.status_code == 200 and again.json()["text"] == "Sent in chunks"


def powershell_all_results(api, url: str) -> list[dict] | None:
    """ConnectWiseManageAPI's Invoke-CWMAllResult, replayed: forward-only pages followed through
    `Link.Split(';')[0].TrimStart('<').TrimEnd('>')` until that is empty; None where it reports
    "doesn't support forward-only pagination" (no Link header on the first answer)."""
    headers = {"pagination-type": "forward-only"}
    page = api.session.get(url, headers=headers, timeout=10)
    if "Link" not in page.headers:
        return None
    collection = list(page.json())
    next_page = page.headers["Link"].split(";")[0].lstrip("<").rstrip(">")
    for _ in range(100):  # a loop that never ends is the failure this guards against
        if not next_page:
            return collection
        page = api.session.get(next_page, headers=headers, timeout=10)
        collection += page.json()
        next_page = page.headers["Link"].split(";")[0].lstrip("<").rstrip(">")
    raise AssertionError("forward-only paging never ended")


def test_it_always_sends_a_link_header_when_paging_forward_only(api, sandbox):
    everything = sandbox.store.ids(TICKETS)
    several_pages = powershell_all_results(api, f"{api.base}{TICKETS}?fields=id&pageSize=99")
    assert several_pages is not None and [r["id"] for r in several_pages] == everything
    one_page = powershell_all_results(api, f"{api.base}{TICKETS}?fields=id&pageSize=999")
    assert one_page is not None and [r["id"] for r in one_page] == everything
    last = api.forward(TICKETS, fields="id", pageSize=1000)
    assert last.headers["Link"] == "" and "next" not in last.links
    ticket = ticket_with_notes_and_time(sandbox)
    notes = powershell_all_results(api, f"{api.base}{TICKETS}/{ticket['id']}/allNotes?pageSize=1")
    assert notes is not None and len(notes) == len(api.get(f"{TICKETS}/{ticket['id']}/allNotes").json())


def test_it_reads_a_body_in_the_charset_it_declares_or_as_lenient_utf8(fresh_api, fresh_sandbox):
    # Windows PowerShell 5.1 sends a string body in ISO-8859-1 unless the Content-Type says otherwise
    ticket_id = fresh_sandbox.store.ids(TICKETS)[0]
    url = f"{fresh_api.base}{TICKETS}/{ticket_id}/notes"
    latin1 = '{"text": "Café fixed"}'.encode("iso-8859-1")
    declared = fresh_api.session.post(
        url, data=latin1, headers={"Content-Type": "application/json; charset=iso-8859-1"}, timeout=10
    )
    assert declared.status_code == 201 and declared.json()["text"] == "Café fixed"
    undeclared = fresh_api.session.post(
        url, data=latin1, headers={"Content-Type": "application/json"}, timeout=10
    )
    assert undeclared.status_code == 201 and undeclared.json()["text"] == "Caf\ufffd fixed"


# --- a ticket's allNotes ----------------------------------------------------------------------


def test_it_lists_a_tickets_notes_and_time_entry_notes_as_all_notes(api, sandbox):
    ticket = ticket_with_notes_and_time(sandbox)
    response = api.get(f"{TICKETS}/{ticket['id']}/allNotes", params={"pageSize": 1000})
    assert response.status_code == 200, response.text
    records = response.json()
    notes = sandbox.store.list(NOTES, parent_id=ticket["id"])
    entries = [
        e
        for e in sandbox.store.list("time/entries")
        if e["chargeToId"] == ticket["id"] and e["chargeToType"] == "ServiceTicket" and e.get("notes")
    ]
    assert sorted((r["noteType"], r["id"]) for r in records) == sorted(
        [("TicketNote", n["id"]) for n in notes] + [("TimeEntryNote", e["id"]) for e in entries]
    )
    for record in records:
        assert record["ticket"]["id"] == ticket["id"]
        assert problems("ServiceTicketNote", record, f"allNotes#{record['id']}") == []
    entry = next(r for r in records if r["noteType"] == "TimeEntryNote")
    stored = next(e for e in entries if e["id"] == entry["id"])
    assert (entry["text"], entry["timeStart"]) == (stored["notes"], stored["timeStart"])


def test_it_filters_projects_and_pages_all_notes(api, sandbox):
    ticket = ticket_with_notes_and_time(sandbox)
    path = f"{TICKETS}/{ticket['id']}/allNotes"
    everything = api.get(path, params={"pageSize": 1000}).json()
    only_notes = api.get(path, params={"conditions": 'noteType = "TicketNote"', "fields": "id,noteType"})
    assert only_notes.status_code == 200
    assert {tuple(r) for r in only_notes.json()} == {("id", "noteType")}
    assert len(only_notes.json()) == sum(r["noteType"] == "TicketNote" for r in everything)
    walked, url = [], f"{api.base}{path}?pageSize=1"
    while url:
        page = api.session.get(url, timeout=10)
        walked += page.json()
        url = page.links.get("next", {}).get("url")
    assert walked == everything


def test_it_answers_all_notes_of_a_project_ticket_and_refuses_unknown_tickets(api, sandbox):
    project_ticket = sandbox.store.list("project/tickets")[0]
    assert api.get(f"project/tickets/{project_ticket['id']}/allNotes").status_code == 200
    assert api.get(f"{TICKETS}/{project_ticket['id']}/allNotes").status_code == 404
    assert api.get(f"{TICKETS}/99999999/allNotes").status_code == 404
    ticket_id = sandbox.store.ids(TICKETS)[0]
    assert api.post(f"{TICKETS}/{ticket_id}/allNotes", json={}).status_code == 405


def test_it_lists_and_counts_a_tickets_time_entries_and_schedule_entries_as_references(api, sandbox):
    # connectwise-rest's getServiceTicketsByParentIdTimeentries / ...Scheduleentries (and counts)
    ticket = ticket_with_notes_and_time(sandbox)
    charged = [e["id"] for e in sandbox.store.list("time/entries") if e["chargeToId"] == ticket["id"]]
    listed = api.get(f"{TICKETS}/{ticket['id']}/timeentries").json()
    assert [r["id"] for r in listed] == charged
    assert all(r["_info"]["timeEntry_href"].endswith(f"time/entries/{r['id']}") for r in listed)
    assert api.get(f"{TICKETS}/{ticket['id']}/timeentries/count").json() == {"count": len(charged)}
    scheduled = next(
        e for e in sandbox.store.list("schedule/entries") if e["objectId"] in sandbox.store.ids(TICKETS)
    )
    path = f"{TICKETS}/{scheduled['objectId']}/scheduleentries"
    entries = api.get(path).json()
    assert scheduled["id"] in [r["id"] for r in entries]
    assert all(problems("ScheduleEntryReference", r) == [] for r in entries)
    assert api.get(f"{path}/count").json() == {"count": len(entries)}


# --- PATCH by sub-path ----------------------------------------------------------------------------


def test_it_patches_a_reference_by_its_id_as_a_sub_path(fresh_api, fresh_sandbox):
    # {"op": "replace", "path": "status/id", "value": 5}: how pyRESTcw and many scripts move a ticket
    store = fresh_sandbox.store
    ticket = next(t for t in store.list(TICKETS) if not t["closedFlag"])
    statuses = store.list("service/boards/{parentId}/statuses", parent_id=ticket["board"]["id"])
    target = next(s for s in statuses if s["id"] != ticket["status"]["id"] and not s["closedStatus"])
    owner = store.list("system/members")[3]
    response = fresh_api.patch(
        f"{TICKETS}/{ticket['id']}",
        [
            {"op": "replace", "path": "/status/id", "value": target["id"]},
            {"op": "replace", "path": "owner/identifier", "value": owner["identifier"]},
        ],
    )
    assert response.status_code == 200, response.text
    patched = response.json()
    assert (patched["status"]["id"], patched["status"]["name"]) == (target["id"], target["name"])
    assert patched["owner"]["id"] == owner["id"]


def test_it_moves_a_ticket_to_another_board_by_sub_paths(fresh_api, fresh_sandbox):
    # pyRESTcw's update_board: status by name, type/subType/item removed, board by id (the team
    # of the old board goes too); the moved ticket can then be sent back whole with PUT
    store = fresh_sandbox.store
    ticket = next(t for t in store.list(TICKETS) if not t["closedFlag"] and t.get("team"))
    board = next(b for b in store.list("service/boards") if b["id"] != ticket["board"]["id"])
    ops = [
        {"op": "replace", "path": "/status/name", "value": "New"},
        {"op": "remove", "path": "/type"},
        {"op": "remove", "path": "/subType"},
        {"op": "remove", "path": "/item"},
        {"op": "replace", "path": "/board/id", "value": board["id"]},
    ]
    response = fresh_api.patch(f"{TICKETS}/{ticket['id']}", ops)
    assert response.status_code == 200, response.text
    moved = response.json()
    assert moved["board"]["id"] == board["id"]
    new_status = store.get("service/boards/{parentId}/statuses", moved["status"]["id"])
    assert (new_status["board"]["id"], new_status["name"]) == (board["id"], "New")
    assert not {"type", "subType", "item", "team"} & set(moved)
    url = f"{fresh_api.base}{TICKETS}/{ticket['id']}"
    assert fresh_api.session.put(url, json=moved, timeout=10).status_code == 200


# --- PUT -----------------------------------------------------------------------------------------


def test_it_replaces_a_ticket_with_put(fresh_api, fresh_sandbox):
    # connectwise-rest's putServiceTicketsById: GET the ticket, change it, PUT it back whole. A
    # closed one: its closedBy is a member identifier (a string in the spec), not a reference.
    ticket_id = next(t["id"] for t in fresh_sandbox.store.list(TICKETS) if t.get("closedBy"))
    ticket = fresh_api.get(f"{TICKETS}/{ticket_id}").json()
    response = fresh_api.session.put(
        f"{fresh_api.base}{TICKETS}/{ticket_id}", json={**ticket, "summary": "Replaced"}, timeout=10
    )
    assert response.status_code == 200, response.text
    replaced = response.json()
    assert replaced["summary"] == "Replaced"
    unchanged = {k for k in ticket if k not in ("summary", "_info", "isInSla")}
    assert {k: replaced.get(k) for k in unchanged} == {k: ticket[k] for k in unchanged}
    assert fresh_sandbox.store.get(TICKETS, ticket_id) == replaced


def test_it_defaults_or_clears_what_a_put_leaves_out_and_keeps_what_connectwise_computes(
    fresh_api, fresh_sandbox
):
    store = fresh_sandbox.store
    ticket = next(t for t in store.list(TICKETS) if t.get("contactName") and t["actualHours"])
    response = fresh_api.session.put(
        f"{fresh_api.base}{TICKETS}/{ticket['id']}", json={"summary": "Only a summary"}, timeout=10
    )
    assert response.status_code == 200, response.text
    replaced = response.json()
    assert "contactName" not in replaced
    assert (
        replaced["priority"]["id"]
        == next(p for p in store.list("service/priorities") if p["defaultFlag"])["id"]
    )
    assert replaced["board"] == ticket["board"]
    assert (replaced["actualHours"], replaced["recordType"]) == (ticket["actualHours"], ticket["recordType"])
    assert problems("Ticket", replaced) == []


def test_it_replaces_a_note_with_put_and_refuses_put_on_read_only_collections(fresh_api, fresh_sandbox):
    ticket_id = fresh_sandbox.store.ids(TICKETS)[0]
    note = fresh_sandbox.store.list(NOTES, parent_id=ticket_id)[0]
    url = f"{fresh_api.base}{TICKETS}/{ticket_id}/notes/{note['id']}"
    response = fresh_api.session.put(
        url, json={"text": "Rewritten", "internalAnalysisFlag": True}, timeout=10
    )
    assert response.status_code == 200, response.text
    rewritten = response.json()
    assert (rewritten["text"], rewritten["internalAnalysisFlag"], rewritten["detailDescriptionFlag"]) == (
        "Rewritten",
        True,
        False,
    )
    assert rewritten["dateCreated"] == note["dateCreated"] and rewritten["ticketId"] == ticket_id
    member_id = fresh_sandbox.store.ids("system/members")[0]
    assert fresh_api.session.put(f"{fresh_api.base}system/members/{member_id}", json={}).status_code == 405


# --- /info shapes ---------------------------------------------------------------------------------


def test_it_serves_the_info_shape_of_tickets_list_count_and_item(api, sandbox):
    # pyconnectwise's service.tickets.info / .id(n).info, connectwise-rest's getServiceTicketsInfo
    infos = api.get(f"{TICKETS}/info", params={"pageSize": 1000, "conditions": "closedFlag = false"})
    assert infos.status_code == 200, infos.text
    open_ids = [t["id"] for t in sandbox.store.list(TICKETS) if not t["closedFlag"]]
    assert [r["id"] for r in infos.json()] == open_ids
    assert all(set(r) <= {"id", "summary", "company", "_info"} for r in infos.json())
    assert all(problems("TicketInfo", r) == [] for r in infos.json())
    counted = api.get(f"{TICKETS}/info/count", params={"conditions": "closedFlag = false"}).json()
    assert counted == {"count": len(open_ids)}
    one = api.get(f"{TICKETS}/{open_ids[0]}/info").json()
    ticket = sandbox.store.get(TICKETS, open_ids[0])
    assert one == {k: ticket[k] for k in ("id", "summary", "company", "_info")}


def test_it_names_info_fields_as_the_info_model_does(api, sandbox):
    board_id = sandbox.store.ids("service/boards")[0]
    statuses = sandbox.store.list("service/boards/{parentId}/statuses", parent_id=board_id)
    infos = api.get(f"service/boards/{board_id}/statuses/info", params={"pageSize": 100}).json()
    assert [(r["id"], r["closedFlag"], r["inactiveFlag"]) for r in infos] == [
        (s["id"], s["closedStatus"], s["inactive"]) for s in statuses
    ]
    assert all(problems("BoardStatusInfo", r) == [] for r in infos)


def test_it_serves_member_info_at_system_info_members(api, sandbox):
    # ConnectWiseManageAPI's pullCWMemberInfo: GET system/info/members?conditions=identifier = '...'
    member = sandbox.store.list("system/members")[0]
    found = api.get("system/info/members", params={"conditions": f"identifier = '{member['identifier']}'"})
    assert found.status_code == 200, found.text
    [info] = found.json()
    assert (info["id"], info["fullName"]) == (member["id"], f"{member['firstName']} {member['lastName']}")
    assert problems("MemberInfo", info) == []
    assert api.get(f"system/info/members/{member['id']}").json() == info
    assert api.get("system/info/members/count").json() == {"count": len(sandbox.store.ids("system/members"))}


def test_it_answers_a_posted_notes_contact_as_a_whole_reference(fresh_api, fresh_sandbox):
    ticket = next(t for t in fresh_sandbox.store.list(TICKETS) if t.get("contact"))
    contact_id = ticket["contact"]["id"]
    response = fresh_api.post(
        f"{TICKETS}/{ticket['id']}/notes", json={"text": "Called back", "contact": {"id": contact_id}}
    )
    assert response.status_code == 201, response.text
    contact = response.json()["contact"]
    assert contact["id"] == contact_id and contact["name"] and contact["_info"]["contact_href"]
