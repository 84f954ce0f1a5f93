"""Creates, updates and deletes with the service's business errors (api.md §4, §6)."""

from __future__ import annotations

from psa.sandbox.autotask.data import API_USER_ID

# django-autotask 1.20 tells a missing record from a server error by this whole text.
NO_MATCH_ON_DELETE = (
    "No message. No matching records found. The logged in Resource may not have the required "
    "permissions to delete the data."
)


def _open_ticket(sandbox) -> dict:
    return next(t for t in sandbox.store.list("Tickets") if t["status"] != 5 and "assignedResourceID" in t)


def test_it_creates_a_ticket_with_server_kept_fields_and_sla_due_dates(call, sandbox):
    company = sandbox.store.ids("Companies")[0]
    status, body = call("POST", "Tickets", {"Title": "Printer", "companyID": company, "status": 1, "priority": "2",
                                            "serviceLevelAgreementID": 2})  # fmt: skip
    assert status == 200
    ticket = call("GET", f"Tickets/{body['itemId']}")[1]["item"]
    assert ticket["title"] == "Printer" and ticket["priority"] == 2 and ticket["ticketNumber"]
    assert ticket["creatorResourceID"] == API_USER_ID
    assert ticket["createDate"] < ticket["firstResponseDueDateTime"] <= ticket["resolvedDueDateTime"]


def test_it_refuses_a_missing_required_field_and_an_unknown_picklist_value(call, sandbox):
    company = sandbox.store.ids("Companies")[0]
    assert call("POST", "Tickets", {"title": "x", "companyID": company, "status": 1}) == (
        500, {"errors": ["Value does not reference an existing entity for priority . "]})  # fmt: skip
    status, body = call("POST", "Tickets", {"companyID": company, "status": 1, "priority": 2})
    assert status == 500 and "title" in body["errors"][0]
    status, body = call("POST", "Tickets", {"title": "x", "companyID": company, "status": 21, "priority": 2})
    assert status == 500 and "status" in body["errors"][0]  # 21 is an inactive status


def test_it_patches_with_the_id_in_the_body_and_refuses_read_only_changes(call, sandbox):
    ticket = _open_ticket(sandbox)
    assert call("PATCH", "Tickets", {"id": ticket["id"], "status": 5}) == (200, {"itemId": ticket["id"]})
    completed = sandbox.store.get("Tickets", ticket["id"])
    assert completed["completedDate"] and completed["completedByResourceID"] == API_USER_ID
    same = {"id": ticket["id"], "ticketNumber": ticket["ticketNumber"], "title": "renamed"}
    assert call("PATCH", "Tickets", same)[0] == 200  # an unchanged read-only value passes
    status, body = call("PATCH", "Tickets", {"id": ticket["id"], "ticketNumber": "T1"})
    assert status == 500 and "read-only" in body["errors"][0]
    assert call("PATCH", "Tickets", {"id": 1, "title": "x"}) == (
        500,
        {"errors": ["No matching records found"]},
    )


def test_it_refuses_an_inactive_resource_and_a_resource_without_its_role(call, sandbox):
    ticket = _open_ticket(sandbox)
    inactive = next(r for r in sandbox.store.list("Resources") if not r["isActive"])
    status, body = call("PATCH", "Tickets", {"id": ticket["id"], "assignedResourceID": inactive["id"],
                                             "assignedResourceRoleID": 29682831})  # fmt: skip
    assert status == 500 and "inactive" in body["errors"][0]
    status, body = call("PATCH", "Tickets", {"id": ticket["id"], "assignedResourceID": None})
    assert body == {
        "errors": [
            "When assigning a Resource, you must assign both a assignedResourceID and assignedResourceRoleID."
        ]
    }


def test_it_clears_omitted_writable_fields_on_put(call, sandbox):
    ticket = _open_ticket(sandbox)
    full = {k: ticket[k] for k in ("id", "title", "companyID", "status", "priority")}
    assert call("PUT", "Tickets", full)[0] == 200
    after = sandbox.store.get("Tickets", ticket["id"])
    assert "assignedResourceID" not in after and "queueID" not in after and after["title"] == ticket["title"]


def test_it_writes_children_under_their_parent_and_deletes_where_allowed(call, sandbox):
    ticket = _open_ticket(sandbox)
    other = next(r for r in sandbox.people.active_resources if r != ticket["assignedResourceID"])
    role = sandbox.people.roles_of[other][0]
    status, body = call(
        "POST", f"Tickets/{ticket['id']}/SecondaryResources", {"resourceID": other, "roleID": role}
    )
    assert status == 200
    assert call("DELETE", f"Tickets/{ticket['id']}/SecondaryResources/{body['itemId']}") == (
        200,
        {"itemId": body["itemId"]},
    )
    assert call("DELETE", f"Tickets/{ticket['id']}/SecondaryResources/{body['itemId']}")[1] == {
        "errors": [NO_MATCH_ON_DELETE]
    }
    assert call("DELETE", f"Tickets/{ticket['id']}")[0] == 405  # tickets cannot be deleted
    assert call("POST", "TicketNotes", {"ticketID": ticket["id"]})[0] == 404  # notes only under a ticket
    status, body = call(
        "POST", f"Tickets/{ticket['id']}/Notes", {"description": "d", "noteType": 3, "publish": 1}
    )
    note = sandbox.store.get("TicketNotes", body["itemId"])
    assert note["ticketID"] == ticket["id"]
    assert sandbox.store.get("Tickets", ticket["id"])["lastActivityDate"] == note["lastActivityDate"]


def test_it_writes_as_the_impersonated_resource(call, sandbox):
    ticket = _open_ticket(sandbox)
    resource = sandbox.people.active_resources[1]
    headers = {**call.headers, "impersonationresourceid": str(resource)}
    status, body = call(
        "POST",
        f"Tickets/{ticket['id']}/Notes",
        {"description": "d", "noteType": 3, "publish": 1},
        headers=headers,
    )
    assert status == 200 and sandbox.store.get("TicketNotes", body["itemId"])["creatorResourceID"] == resource
    inactive = next(r for r in sandbox.store.list("Resources") if not r["isActive"])
    headers["impersonationresourceid"] = str(inactive["id"])
    assert call("PATCH", "Tickets", {"id": ticket["id"], "title": "x"}, headers=headers)[0] == 500


def test_it_sets_udfs_by_name(call, sandbox):
    ticket = _open_ticket(sandbox)
    body = {"id": ticket["id"], "userDefinedFields": [{"name": "root cause", "value": "Bad cable"}]}
    assert call("PATCH", "Tickets", body)[0] == 200
    udfs = call("GET", f"Tickets/{ticket['id']}")[1]["item"]["userDefinedFields"]
    assert {"name": "Root Cause", "value": "Bad cable"} in udfs
    bad = {"id": ticket["id"], "userDefinedFields": [{"name": "Nope", "value": "1"}]}
    assert call("PATCH", "Tickets", bad)[0] == 500
