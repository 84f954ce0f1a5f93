"""Seeded data: deterministic, realistic, and every served path / field is real ConnectWise."""

from __future__ import annotations

import json
from datetime import UTC, time, timedelta

import pytest

from psa.connectwise import spec as spec_catalog
from psa.sandbox.connectwise.data import Generator
from psa.sandbox.connectwise.refs import RefBuilder
from psa.sandbox.connectwise.routes import served_endpoints
from psa.sandbox.connectwise.rules import Rules
from psa.sandbox.connectwise.schema import SPECS
from psa.sandbox.connectwise.store import SandboxStore
from tests.psa.sandbox.conftest import ANCHOR, last_wednesday_before
from tests.support.clock import FROZEN_NOW


def generate(seed: int) -> SandboxStore:
    store = SandboxStore()
    refs = RefBuilder("http://127.0.0.1:1/v2025_1/apis/3.0/")
    store.hooks = Rules(refs)
    Generator(store, refs, scale="small", seed=seed, anchor=ANCHOR).generate()
    return store


def snapshot(store: SandboxStore) -> str:
    data = {spec.key: store.list(spec.key) for spec in SPECS if not spec.nested}
    data["notes"] = [
        store.list("service/tickets/{parentId}/notes", parent_id=i) for i in store.ids("service/tickets")[:50]
    ]
    return json.dumps(data, sort_keys=True)


def test_it_generates_the_same_records_for_the_same_seed():
    assert snapshot(generate(5)) == snapshot(generate(5))
    assert snapshot(generate(5)) != snapshot(generate(6))


def test_it_generates_realistic_small_scale_data():
    store = generate(5)
    tickets = store.list("service/tickets")
    assert len(tickets) == 500 and store.count("project/tickets") >= 20
    open_tickets = [t for t in tickets if not t["closedFlag"]]
    assert 0.25 < len(open_tickets) / len(tickets) < 0.7
    years_ago = (ANCHOR - timedelta(days=1000)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert any(t["_info"]["dateEntered"] < years_ago for t in tickets if t["closedFlag"])  # years-old closed
    assert any(len(t["summary"]) == 255 for t in tickets) and all(len(t["summary"]) <= 255 for t in tickets)
    assert any('"' in t["summary"] or "\\" in t["summary"] for t in tickets)
    assert any(any(ord(ch) > 0x2000 for ch in t["summary"]) for t in tickets)  # emoji and friends
    assert any("owner" not in t for t in tickets)  # null optional references are omitted
    assigned = [t for t in open_tickets if t.get("resources")]
    assert len(assigned) > len(open_tickets) / 3
    entries = store.list("schedule/entries")
    for ticket in assigned[:20]:
        members = {e["member"]["identifier"] for e in entries if e["objectId"] == ticket["id"]}
        assert set(ticket["resources"].split(", ")) == members
    ids = [t["id"] for t in tickets]
    assert any(b - a > 1 for a, b in zip(ids, ids[1:], strict=False))  # gaps, like deleted records
    statuses = store.list("service/boards/{parentId}/statuses")
    assert any(s["closedStatus"] for s in statuses) and any(s["defaultFlag"] for s in statuses)
    opportunity_statuses = store.list("sales/opportunities/statuses")
    assert any(s["wonFlag"] for s in opportunity_statuses) and any(
        s["lostFlag"] for s in opportunity_statuses
    )


def test_it_only_serves_endpoints_that_exist_in_connectwise():
    missing = [pair for pair in served_endpoints() if pair not in spec_catalog.endpoints()]
    assert missing == []


def test_it_only_uses_fields_that_exist_in_the_connectwise_models():
    fields = spec_catalog.model_fields()
    unknown = [
        (spec.model, name) for spec in SPECS for name in spec.fields if name not in fields.get(spec.model, ())
    ]
    assert unknown == []


def test_it_stores_only_declared_fields():
    store = generate(5)
    for spec in SPECS:
        if spec.nested and spec.key.endswith("/notes"):
            parent = store.ids(spec.parent)[0]
            records = store.list(spec.key, parent_id=parent)
        else:
            records = store.list(spec.key)
        for record in records[:200]:
            assert set(record) <= set(spec.fields), (spec.key, set(record) - set(spec.fields))


def test_it_never_generates_a_last_updated_after_the_anchor():
    store = generate(5)
    anchor = ANCHOR.strftime("%Y-%m-%dT%H:%M:%SZ")
    for spec in SPECS:
        if spec.key.endswith("/notes"):
            records = [n for i in store.ids(spec.parent)[:100] for n in store.list(spec.key, parent_id=i)]
        else:
            records = store.list(spec.key)
        late = [r["id"] for r in records if r["_info"]["lastUpdated"] > anchor]
        assert late == [], spec.key


@pytest.mark.parametrize("days_after", range(8))
def test_it_anchors_the_test_data_on_a_wednesday_at_least_a_day_before_the_clock(days_after):
    now = FROZEN_NOW + timedelta(days=days_after, hours=days_after)
    anchor = last_wednesday_before(now)
    assert anchor.weekday() == 2 and anchor.time() == time(0, 0) and anchor.tzinfo == UTC
    assert timedelta(days=1) <= now - anchor < timedelta(days=8)
