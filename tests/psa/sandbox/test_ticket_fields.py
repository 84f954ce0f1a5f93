"""Tickets carry their whole model: conditions on any field, computed SLA fields read-only."""

from __future__ import annotations

from psa.connectwise import spec as catalog
from psa.sandbox.connectwise.schema import spec_for


def test_it_takes_a_condition_on_every_field_of_the_ticket_models(api):
    for entity, model in (("service/tickets", "Ticket"), ("project/tickets", "ProjectTicket")):
        assert set(spec_for(entity).fields) == set(catalog.model_fields()[model])
    response = api.get("service/tickets", params={"conditions": "hasChildTicket = True", "pageSize": 1000})
    assert response.status_code == 200, response.text
    parents = response.json()
    assert parents and all(t["hasChildTicket"] is True for t in parents)
    children = api.get(
        "service/tickets", params={"conditions": f"parentTicketId = {parents[0]['id']}", "pageSize": 1000}
    ).json()
    assert children and {t["parentTicketId"] for t in children} == {parents[0]["id"]}


def test_it_filters_on_the_sla_state(api):
    waiting = api.get(
        "service/tickets", params={"conditions": 'slaStatus = "Waiting"', "pageSize": 1000}
    ).json()
    late = api.get(
        "service/tickets", params={"conditions": "isInSla = False and closedFlag = False", "pageSize": 1000}
    ).json()
    assert waiting and all(t["slaStatus"] == "Waiting" for t in waiting)
    assert late and all(t["isInSla"] is False and t["closedFlag"] is False for t in late)


def test_it_refuses_to_patch_a_computed_sla_field(fresh_api):
    ticket = fresh_api.get("service/tickets", params={"pageSize": 1}).json()[0]
    response = fresh_api.patch(
        f"service/tickets/{ticket['id']}", [{"op": "replace", "path": "slaStatus", "value": "Resolved"}]
    )
    assert response.status_code == 400 and "read-only" in response.text


def test_it_ignores_computed_sla_fields_and_write_only_fields_on_create(fresh_api):
    response = fresh_api.post(
        "service/tickets",
        json={
            "summary": "VPN down",
            "board": {"id": 1},
            "company": {"id": fresh_api.get("company/companies").json()[0]["id"]},
            "dateResponded": "2020-01-01T00:00:00Z",
            "isInSla": False,
            "initialDescription": "It was working yesterday",
        },
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert "dateResponded" not in created and created["isInSla"] is True
    assert "initialDescription" not in created and created["slaStatus"].startswith("Respond by ")


def test_it_turns_the_initial_description_into_the_first_note_without_responding(fresh_api):
    response = fresh_api.post(
        "service/tickets",
        json={
            "summary": "Mailbox full",
            "board": {"id": 1},
            "company": {"id": fresh_api.get("company/companies").json()[0]["id"]},
            "initialDescription": "Cannot send since Monday",
            "initialInternalAnalysis": "Quota is 2 GB",
        },
    )
    ticket = response.json()
    notes = fresh_api.get(f"service/tickets/{ticket['id']}/notes").json()
    assert [(n["text"], n["detailDescriptionFlag"], n["internalAnalysisFlag"]) for n in notes] == [
        ("Cannot send since Monday", True, False),
        ("Quota is 2 GB", False, True),
    ]
    assert all(n["dateCreated"] == ticket["_info"]["dateEntered"] for n in notes)
    again = fresh_api.get(f"service/tickets/{ticket['id']}").json()
    assert "dateResponded" not in again and again["slaStatus"].startswith("Respond by ")
