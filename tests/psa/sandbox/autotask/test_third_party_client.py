"""The sandbox over real HTTP, driven with plain `requests` the way third-party Autotask
clients do: django-autotask (zone discovery without auth, `url` + "v1.0/", GET-form queries whose
nextPageUrl is followed with GET, `…/fields/` with a trailing slash) and py-autotask (POST
queries, the POST-form next URL POSTed with the same body, header names in other cases)."""

from __future__ import annotations

import json

import pytest
import requests


@pytest.fixture
def session(running):
    session = requests.Session()
    zone = session.get(
        f"{running.url}/atservicesrest/v1.0/zoneInformation",
        params={"user": running.auth.username},
        timeout=10,
    )
    zone.raise_for_status()
    session.headers.update({"ApiIntegrationCode": running.auth.integration_code, "UserName": running.auth.username,
                            "Secret": running.auth.secret, "Content-Type": "application/json"})  # fmt: skip
    session.base = zone.json()["url"] + "v1.0/"  # type: ignore[attr-defined]
    yield session
    session.close()


def test_django_autotask_style_get_queries_follow_next_page_urls(session, running):
    search = json.dumps(
        {"filter": [{"op": "gt", "field": "lastActivityDate", "value": "2000-01-01T00:00:00.000000Z"}]}
    )
    response = session.get(session.base + "Companies/query", params={"search": search}, timeout=10)
    assert response.status_code == 200
    first = response.json()
    assert first["pageDetails"]["nextPageUrl"] is None and len(first["items"]) == 120
    seen, url = (
        [],
        session.base
        + "Tickets/query?search="
        + requests.utils.quote(json.dumps({"filter": [], "MaxRecords": 200})),
    )
    while url:
        page = session.get(url, timeout=10).json()
        seen += [item["id"] for item in page["items"]]
        url = page["pageDetails"]["nextPageUrl"]
    assert seen == running.store.ids("Tickets")
    fields = session.get(session.base + "Tickets/entityInformation/fields/", timeout=10).json()["fields"]
    assert any(f["name"] == "queueID" and f["isPickList"] for f in fields)


def test_py_autotask_style_post_queries_and_writes(session, running):
    body = {"filter": [{"op": "gte", "field": "id", "value": 0}], "maxRecords": 300}
    seen, url = [], session.base + "Tickets/query"
    while url:
        page = session.post(url, json=body, timeout=10).json()
        seen += [item["id"] for item in page["items"]]
        url = page["pageDetails"]["nextPageUrl"]
    assert seen == running.store.ids("Tickets")
    lower = {k.lower(): v for k, v in session.headers.items()}
    company = seen and running.store.ids("Companies")[0]
    created = requests.post(session.base + "Tickets", json={"title": "From a client", "companyID": company, "status": 1,
                                                            "priority": 2}, headers=lower, timeout=10)  # fmt: skip
    assert created.status_code == 200 and created.json()["itemId"]
    item = session.get(session.base + f"Tickets/{created.json()['itemId']}", timeout=10).json()["item"]
    assert item["title"] == "From a client"
    refused = session.patch(session.base + "Tickets", json={"id": item["id"], "status": 999}, timeout=10)
    assert refused.status_code == 500 and refused.json()["errors"]


def test_a_wrong_secret_gets_an_empty_401_over_http(session):
    response = session.get(session.base + "Version", headers={"Secret": "wrong"}, timeout=10)
    assert response.status_code == 401 and response.content == b""


@pytest.mark.parametrize("faults", ["reset=1", "timeout=1,timeout_s=0.3"])
def test_injected_connection_faults_reach_the_client(session, running, faults):
    running.faults = faults
    try:
        with pytest.raises(requests.exceptions.ConnectionError):
            session.get(session.base + "Version", timeout=10)
    finally:
        running.faults = None
    assert session.get(session.base + "Version", timeout=10).status_code == 200
