"""The project's own Autotask client (psa/autotask, written from the same api.md) against the
sandbox: the wire must agree both ways."""

from __future__ import annotations

import pytest

from psa.autotask.client import AutotaskClient
from psa.errors import BadRequest


@pytest.fixture
def client(running):
    return AutotaskClient(
        username=running.auth.username,
        secret=running.auth.secret,
        integration_code=running.auth.integration_code,
        zone_url=f"{running.url}/atservicesrest/",
        budget_storage="memory://",
    )


def test_it_discovers_the_zone_and_lists_every_page(client, running):
    assert client.zone.url == running.zone_url
    rows = client.list_all("Tickets", fields=["id", "title", "status"], page_size=200)
    assert [row["id"] for row in rows] == running.store.ids("Tickets")
    assert set(rows[0]) == {"id", "title", "status", "userDefinedFields"}
    assert client.count("Tickets") == len(rows)
    statuses = client.list_all("picklist:Tickets.status")
    assert {"id": 5, "name": "Complete"}.items() <= statuses[1].items()


def test_it_writes_and_reads_back_and_surfaces_business_errors(client, running):
    company = running.store.ids("Companies")[0]
    ticket_id = client.create(
        "Tickets", {"title": "From the client", "companyID": company, "status": 1, "priority": 2}
    )
    assert client.update("Tickets", ticket_id, {"status": 8}) == ticket_id
    resource = running.people.active_resources[0]
    note_id = client.create(
        f"Tickets/{ticket_id}/Notes", {"description": "n", "noteType": 3, "publish": 1}, impersonate=resource
    )
    assert client.get(f"TicketNotes/{note_id}")["creatorResourceID"] == resource
    with pytest.raises(BadRequest, match="Value does not reference an existing entity for status"):
        client.update("Tickets", ticket_id, {"status": 999})
    assert client.get("Tickets/1") is None
    assert client.threshold_information().limit == 10_000
