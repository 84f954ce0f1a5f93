"""Set-up records and the references between records: every href resolves to a stored record,
and the values a client relies on are consistent (contacts of the company, phases of the project)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from psa.sandbox.connectwise.routes import match
from psa.sandbox.connectwise.schema import SPECS
from tests.psa.sandbox.contract import problems

BASE = "http://127.0.0.1:1/v2025_1/apis/3.0/"


@pytest.fixture(scope="module")
def store():
    from tests.psa.sandbox.test_contract import generated

    return generated("small")


def hrefs(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key.endswith("_href") and isinstance(item, str):
                yield item
            else:
                yield from hrefs(item)
    elif isinstance(value, list):
        for item in value:
            yield from hrefs(item)


def test_it_points_every_reference_href_at_a_stored_record(store):
    dangling, checked = [], 0
    for spec in SPECS:
        parents = store.ids(spec.parent)[:40] if spec.nested else [None]
        for parent_id in parents:
            for record in store.iter_records(spec.key, parent_id=parent_id):
                for href in hrefs(record):
                    checked += 1
                    found = match(href.removeprefix(BASE))
                    target = found and store.get(found.route.spec.key, found.record_id)
                    if not href.startswith(BASE) or target is None:
                        dangling.append((spec.key, record["id"], href))
    assert dangling[:10] == [] and checked > 10_000


def test_it_fills_members_with_the_spec_enums(store):
    members = store.list("system/members")
    assert {m["licenseClass"] for m in members} <= {"F", "A", "C", "X"}
    assert {m["defaultEmail"] for m in members} | {m["defaultPhone"] for m in members} <= {
        "Office",
        "Home",
        "Mobile",
    }
    for member in members:
        assert member["invoicingDisplayOptions"] in ("RemainOnInvoicingScreen", "ShowRecentInvoices")
        assert member["invoiceScreenDefaultTabFormat"] in ("ShowInvoicingTab", "ShowAgreementInvoicingTab")
        assert member["securityRole"]["id"] in store.ids("system/securityroles")
    projects = store.list("project/projects")
    assert {p["billingMethod"] for p in projects} <= {
        "ActualRates",
        "FixedFee",
        "NotToExceed",
        "OverrideRate",
    }
    assert {s["where"] for s in store.list("service/locations")} == {"OnSite", "Remote", "InHouse"}


def test_it_links_contacts_sites_and_phases_to_their_own_parents(store):
    contact_company = {c["id"]: c["company"]["id"] for c in store.list("company/contacts")}
    for opportunity in store.list("sales/opportunities"):
        assert "locationId" in opportunity and "businessUnitId" in opportunity
        if "contact" in opportunity:
            assert contact_company[opportunity["contact"]["id"]] == opportunity["company"]["id"]
    for company in store.list("company/companies"):
        assert contact_company[company["defaultContact"]["id"]] == company["id"]
        sites = store.list("company/companies/{parentId}/sites", parent_id=company["id"])
        assert company["site"]["id"] in [s["id"] for s in sites]
    for project in store.list("project/projects"):
        phases = store.list("project/projects/{parentId}/phases", parent_id=project["id"])
        assert phases and all(p["projectId"] == project["id"] for p in phases)
        assert contact_company[project["contact"]["id"]] == project["company"]["id"]
    assert all("notifyFlag" in s for s in store.list("company/companies/statuses"))


def test_it_answers_conditions_on_fields_the_mirror_never_reads(api):
    statuses = api.get("company/companies/statuses", params={"conditions": "notifyFlag = False"})
    assert statuses.status_code == 200 and statuses.json()
    wanted = api.get(
        "sales/opportunities", params={"conditions": "locationId > 0", "orderBy": "businessUnitId desc"}
    )
    assert wanted.status_code == 200 and all(o["locationId"] > 0 for o in wanted.json())
    picked = api.get("company/contacts", params={"fields": "id,company/id", "pageSize": 3}).json()
    assert picked and all(set(c) == {"id", "company"} and set(c["company"]) == {"id"} for c in picked)


def test_it_resolves_written_references_to_set_up_records(fresh_api, fresh_sandbox):
    store = fresh_sandbox.store
    opportunity = store.list("sales/opportunities")[0]
    contact = store.list("company/contacts")[-1]
    path = f"sales/opportunities/{opportunity['id']}"
    changed = fresh_api.patch(path, [{"op": "replace", "path": "contact", "value": {"id": contact["id"]}}])
    assert changed.status_code == 200, changed.text
    assert changed.json()["contact"]["_info"]["contact_href"].endswith(f"company/contacts/{contact['id']}")
    refused = fresh_api.patch(path, [{"op": "replace", "path": "probability", "value": {"id": 999}}])
    assert refused.status_code == 400 and refused.json()["code"] == "InvalidObject"


def test_it_closes_an_opportunity_with_a_member_reference_to_the_api_member(fresh_api, fresh_sandbox):
    store = fresh_sandbox.store
    opportunity = next(o for o in store.list("sales/opportunities") if not o.get("closedDate"))
    won = next(s for s in store.list("sales/opportunities/statuses") if s["wonFlag"])
    api_member = next(m for m in store.list("system/members") if m["identifier"] == "sandbox-api")
    assert api_member["licenseClass"] == "A"
    path = f"sales/opportunities/{opportunity['id']}"
    closed = fresh_api.patch(path, [{"op": "replace", "path": "status", "value": {"id": won["id"]}}])
    assert closed.status_code == 200, closed.text
    assert closed.json()["closedBy"]["id"] == api_member["id"]
    assert problems("Opportunity", closed.json()) == []


def test_it_keeps_records_the_activity_simulator_writes_within_the_contract(fresh_sandbox):
    store, changed = fresh_sandbox.store, []
    store.add_listener(lambda action, entity, record, skip: changed.append((entity, record)))
    for _ in range(400):  # deterministic for the seed: every kind of edit comes up
        fresh_sandbox.activity.step()
    assert {entity for entity, _ in changed} >= {"service/tickets", "sales/opportunities"}
    models = {spec.key: spec.model for spec in SPECS}
    found = [p for entity, record in changed for p in problems(models[entity], record, entity)]
    assert found[:5] == []


def test_it_generates_the_same_child_records_for_the_same_seed(store):
    from tests.psa.sandbox.test_contract import generated

    def children(source) -> list:
        return [
            source.list(spec.key, parent_id=parent)
            for spec in SPECS
            if spec.nested and not spec.key.endswith("/notes")
            for parent in source.ids(spec.parent)
        ]

    assert children(generated("small")) == children(store)
