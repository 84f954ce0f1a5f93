"""Requests real third-party Autotask clients send, replayed with plain `requests` over HTTP: what
the sandbox must answer as the live service does (django-autotask 1.20 and its atsync, go-autotask,
py-autotask 2.3, @apigrate/autotask-restapi 2.0, autotask-client 0.3, tegwin's AutotaskMCP,
KelvinTegelaar/AutotaskAPI, atrest 1.0)."""

from __future__ import annotations

import base64
import json

import pytest
import requests


@pytest.fixture
def api(running):
    session = requests.Session()
    session.headers.update({"ApiIntegrationCode": running.auth.integration_code, "UserName": running.auth.username,
                            "Secret": running.auth.secret, "Content-Type": "application/json"})  # fmt: skip
    session.base = running.api_base  # type: ignore[attr-defined]
    yield session
    session.close()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "TicketNotes"),  # tegwin's AutotaskMCP, py-autotask add_ticket_note
        ("POST", "Tasks"),  # autotask-client creates and updates tasks at the root
        ("PATCH", "Tasks"),  # (they live under /Projects/{id}/Tasks)
        ("GET", "TicketNotes"),
        ("POST", "Tickets/7000/TicketNotes"),  # autotask-client's child path for TicketNote
    ],
)
def test_a_url_that_serves_no_verb_answers_404_like_the_live_service(api, method, path):
    response = api.request(method, api.base + path, json={"ticketID": 7000, "title": "t"}, timeout=10)
    assert response.status_code == 404
    assert "No HTTP resource was found" in response.json()["Message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PATCH", "Tickets/7000"),  # py-autotask update(): the id belongs in the body
        ("DELETE", "Tickets/7000"),
        ("GET", "Tickets"),
    ],
)
def test_a_wrong_verb_on_a_served_url_answers_405(api, method, path):
    response = api.request(method, api.base + path, json={"id": 7000, "title": "t"}, timeout=10)
    assert response.status_code == 405
    assert response.json()["Message"] == f"The requested resource does not support http method '{method}'."


def test_zone_discovery_takes_the_version_as_versioninformation_lists_it(api, running):
    # go-autotask and KelvinTegelaar/AutotaskAPI: GET versioninformation, then the last listed
    # version goes into the path as it is ("1.0", no "v").
    versions = requests.get(f"{running.url}/atservicesrest/versioninformation", timeout=10).json()
    version = versions["apiVersions"][-1]
    zone = requests.get(
        f"{running.url}/atservicesrest/{version}/zoneInformation",
        params={"user": running.auth.username},
        timeout=10,
    )
    assert zone.status_code == 200 and zone.json()["url"] == running.zone_url
    # only discovery: the API itself lives under V1.0
    assert api.get(f"{running.url}/atservicesrest/{version}/Version", timeout=10).status_code == 404


def _post_pages(api, first_url: str, body: dict, *, resend_body: bool) -> list[int]:
    seen, url, sent = [], first_url, body
    while url:
        page = api.post(url, json=sent, timeout=10) if sent is not None else api.post(url, timeout=10)
        assert page.status_code == 200, page.text
        seen += [item["id"] for item in page.json()["items"]]
        url, sent = page.json()["pageDetails"]["nextPageUrl"], body if resend_body else None
    return seen


def test_a_post_form_next_page_url_posted_without_a_body_keeps_the_query(api, running):
    # go-autotask's ListIter POSTs nextPageUrl with no body; the filter must still hold.
    body = {"filter": [{"op": "noteq", "field": "status", "value": 5}], "MaxRecords": 40}
    expected = [t["id"] for t in running.store.list("Tickets") if t["status"] != 5]
    assert _post_pages(api, api.base + "Tickets/query", body, resend_body=False) == expected
    assert _post_pages(api, api.base + "Tickets/query", body, resend_body=True) == expected


def test_a_bare_post_to_a_page_url_no_query_stands_behind_is_refused(api):
    paging = '{"pageSize":10,"previousIds":[-1],"nextIds":[7005]}'
    response = api.post(api.base + "Companies/query/next", params={"paging": paging}, timeout=10)
    assert response.status_code == 500 and "POST the original query body" in response.json()["errors"][0]


def test_deleting_a_missing_record_answers_the_text_django_autotask_reads_as_not_found(api):
    # djautotask.api: `NO_RECORD_ERROR_MESSAGE in message` raises AutotaskRecordNotFoundError.
    known = (
        "No message. No matching records found. The logged in Resource may not have the required "
        "permissions to delete the data."
    )
    response = api.delete(api.base + "TimeEntries/999999999", timeout=10)
    assert response.status_code == 500 and known in response.json()["errors"][0]


def test_booleans_are_never_null_on_the_wire_but_where_the_service_leaves_them_open(api):
    # django-autotask stores CompanyLocations.isActive/isPrimary, Roles.isSystemRole... straight
    # into NOT NULL columns; it reads serviceLevelAgreementHasBeenMet through bool().
    location = api.post(api.base + "CompanyLocations/query", json={"filter": [], "MaxRecords": 1}, timeout=10)
    item = location.json()["items"][0]
    assert item["isActive"] is True and item["isPrimary"] is True and item["isTaxExempt"] is False
    tickets = api.post(api.base + "Tickets/query", json={"filter": [], "MaxRecords": 500}, timeout=10)
    values = {ticket["serviceLevelAgreementHasBeenMet"] for ticket in tickets.json()["items"]}
    assert None in values and all(
        ticket["isVisibleToComanaged"] is False for ticket in tickets.json()["items"]
    )


def test_a_service_call_has_its_duration_in_hours(api, running):
    # django-autotask: Decimal(str(duration)) — a null duration stops its whole sync.
    calls = api.post(api.base + "ServiceCalls/query", json={"filter": []}, timeout=10).json()["items"]
    assert calls and all(isinstance(call["duration"], float) and call["duration"] > 0 for call in calls)
    company = calls[0]["companyID"]
    created = api.post(api.base + "ServiceCalls", json={"companyID": company, "status": 1,
                       "startDateTime": "2030-01-01T09:00:00Z", "endDateTime": "2030-01-01T10:30:00Z"}, timeout=10)  # fmt: skip
    assert created.status_code == 200, created.text
    call_id = created.json()["itemId"]
    assert api.get(api.base + f"ServiceCalls/{call_id}", timeout=10).json()["item"]["duration"] == 1.5
    moved = api.patch(
        api.base + "ServiceCalls", json={"id": call_id, "endDateTime": "2030-01-01T13:00:00Z"}, timeout=10
    )
    assert moved.status_code == 200, moved.text
    assert api.get(api.base + f"ServiceCalls/{call_id}", timeout=10).json()["item"]["duration"] == 4.0


@pytest.mark.parametrize("value", ["true", True, "True"])
def test_an_integer_flag_is_filtered_with_a_boolean(api, running, value):
    # django-autotask 1.20's contact sync: {"op": "eq", "field": "isActive", "value": "true"},
    # Contacts.isActive being an integer (1/0) on the wire.
    search = {"filter": [{"op": "eq", "field": "isActive", "value": value}], "IncludeFields": ["id"]}
    response = api.post(api.base + "Contacts/query", json=search, timeout=10)
    assert response.status_code == 200, response.text
    active = [c["id"] for c in running.store.list("Contacts") if c.get("isActive") == 1]
    assert [item["id"] for item in response.json()["items"]] == active[:500]
    inactive = {"filter": [{"op": "eq", "field": "isActive", "value": "false"}]}
    count = api.post(api.base + "Contacts/query/count", json=inactive, timeout=10).json()["queryCount"]
    assert count == sum(1 for c in running.store.list("Contacts") if c.get("isActive") == 0)


def test_projects_have_a_description_completion_and_duration_and_phases_an_estimate(api):
    # django-autotask 1.20 stores both in NOT NULL columns (projects and phases failed its atsync).
    projects = api.post(api.base + "Projects/query", json={"filter": []}, timeout=10).json()["items"]
    assert projects and all(project["description"] for project in projects)
    assert all(0 <= project["completedPercentage"] <= 100 for project in projects)
    assert all(project["duration"] > 0 for project in projects)
    phases = api.post(api.base + "Phases/query", json={"filter": []}, timeout=10).json()["items"]
    tasks = api.post(api.base + "Tasks/query", json={"filter": []}, timeout=10).json()["items"]
    for phase in phases:
        estimate = sum(task["estimatedHours"] or 0 for task in tasks if task["phaseID"] == phase["id"])
        assert phase["estimatedHours"] == estimate


def test_picklists_django_autotask_syncs_have_their_values(api):
    # django-autotask 1.20 matches the field list's names with ==: the ticket category colour is
    # listed as displayColorRgb (records carry displayColorRGB).
    fields = api.get(api.base + "TicketCategories/entityInformation/fields", timeout=10).json()["fields"]
    colours = next(f for f in fields if f["name"] == "displayColorRgb")
    categories = api.post(api.base + "TicketCategories/query", json={"filter": []}, timeout=10).json()[
        "items"
    ]
    assert {str(c["displayColorRGB"]) for c in categories} <= {v["value"] for v in colours["picklistValues"]}
    fields = api.get(api.base + "BillingCodes/entityInformation/fields", timeout=10).json()["fields"]
    lists = {f["name"]: [v["value"] for v in f["picklistValues"] or []] for f in fields if f["isPickList"]}
    assert lists["useType"] and lists["billingCodeType"]
    codes = api.post(api.base + "BillingCodes/query", json={"filter": []}, timeout=10).json()["items"]
    assert all(str(code["useType"]) in lists["useType"] for code in codes)


@pytest.mark.parametrize(
    ("entity", "search"),
    [  # the queries django-autotask 1.20's atsync sends (it failed with CommandError on the 404s)
        ("BillingItems", [{"op": "exist", "field": "projectID"}]),
        ("CompanyAlerts", [{"op": "exist", "field": "companyID"}]),
        ("ContractExclusionSets", []),
        (
            "ContractExclusionSetExcludedRoles",
            [{"op": "in", "field": "contractExclusionSetID", "value": [1]}],
        ),
        (
            "ContractExclusionSetExcludedWorkTypes",
            [{"op": "in", "field": "contractExclusionSetID", "value": [1]}],
        ),
    ],
)
def test_entities_django_autotask_syncs_are_served(api, entity, search):
    response = api.get(
        api.base + f"{entity}/query", params={"search": json.dumps({"filter": search})}, timeout=10
    )
    assert response.status_code == 200, response.text
    assert response.json()["pageDetails"]["count"] == len(response.json()["items"])
    info = api.get(api.base + f"{entity}/entityInformation/fields", timeout=10).json()["fields"]
    assert {"id"} < {field["name"] for field in info}


def test_a_contract_exclusion_set_and_its_excluded_roles(api, running):
    created = api.post(
        api.base + "ContractExclusionSets", json={"name": "Set1", "isActive": True}, timeout=10
    )
    assert created.status_code == 200, created.text
    set_id = created.json()["itemId"]
    role = running.store.ids("Roles")[0]
    child = api.post(
        api.base + f"ContractExclusionSets/{set_id}/ExcludedRoles", json={"excludedRoleID": role}, timeout=10
    )
    assert child.status_code == 200, child.text
    rows = api.get(api.base + f"ContractExclusionSets/{set_id}/ExcludedRoles", timeout=10).json()["items"]
    assert [(r["contractExclusionSetID"], r["excludedRoleID"]) for r in rows] == [(set_id, role)]
    orphan = api.post(
        api.base + "ContractExclusionSets/999999/ExcludedRoles", json={"excludedRoleID": role}, timeout=10
    )
    assert orphan.status_code == 500
    alert = api.post(
        api.base + "Companies/174/Alerts", json={"alertText": "VIP", "alertTypeID": 1}, timeout=10
    )
    assert alert.status_code == 200, alert.text


def test_a_ticket_attachment_carries_its_file_only_on_the_child_item_read(api, running):
    # atrest and @apigrate/autotask-restapi: POST /Tickets/{id}/Attachments with base64 data; only
    # GET /Tickets/{id}/Attachments/{id} returns the data.
    ticket = running.store.ids("Tickets")[0]
    body = {"attachmentType": "FILE_ATTACHMENT", "publish": "1", "fullPath": "notes.txt", "title": "Notes",
            "data": base64.b64encode(b"hello").decode()}  # fmt: skip
    created = api.post(api.base + f"Tickets/{ticket}/Attachments", json=body, timeout=10)
    assert created.status_code == 200, created.text
    attachment_id = created.json()["itemId"]
    item = api.get(api.base + f"Tickets/{ticket}/Attachments/{attachment_id}", timeout=10).json()["item"]
    assert item["data"] == body["data"] and item["fileSize"] == 5 and item["contentType"] == "text/plain"
    assert item["ticketID"] == ticket and item["parentID"] == ticket
    assert api.get(api.base + f"TicketAttachments/{attachment_id}", timeout=10).json()["item"]["data"] is None
    listed = api.get(api.base + f"Tickets/{ticket}/Attachments", timeout=10).json()["items"]
    assert [(a["id"], a["data"]) for a in listed] == [(attachment_id, None)]
    bad = api.post(
        api.base + f"Tickets/{ticket}/Attachments", json={**body, "data": "not base64!"}, timeout=10
    )
    assert bad.status_code == 500 and bad.json()["errors"]
    assert (
        api.delete(api.base + f"Tickets/{ticket}/Attachments/{attachment_id}", timeout=10).status_code == 200
    )


def test_kelvin_tegelaar_autotaskapi_paths_with_doubled_slashes_and_a_raw_search(api, running):
    # KelvinTegelaar/AutotaskAPI joins "{zone url without /}/" with "/V1.0/Companies/" + "/query?search="
    # and leaves the JSON unencoded.
    base = running.zone_url.rstrip("/")
    search = '{"filter":[{"field":"isactive","op":"eq","value":"True"}]}'
    response = api.get(f"{base}//V1.0/Companies//query?search={search}", timeout=10)
    assert response.status_code == 200, response.text
    active = [c["id"] for c in running.store.list("Companies") if c.get("isActive")]
    assert [item["id"] for item in response.json()["items"]] == active
