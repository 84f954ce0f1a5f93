"""Seeded data: deterministic, in Autotask's shape, with consistent links and SLA due dates."""

from __future__ import annotations

from datetime import timedelta

import pytest

from psa.sandbox.autotask.data import generate
from psa.sandbox.autotask.schema import entities
from psa.sandbox.autotask.store import AutotaskStore
from psa.sandbox.autotask.wire import wire_time
from tests.psa.sandbox.autotask.conftest import ANCHOR


def _snapshot(seed: int, anchor=ANCHOR) -> dict[str, list[dict]]:
    store = AutotaskStore()
    generate(store, scale="small", seed=seed, anchor=anchor)
    return {spec.name: store.list(spec.name) for spec in entities().values()}


def test_it_is_deterministic_for_a_seed_and_anchor():
    first, second = _snapshot(1), _snapshot(1)
    assert first == second
    assert _snapshot(2)["Tickets"] != first["Tickets"]
    moved = _snapshot(1, ANCHOR + timedelta(days=1))["Tickets"]
    assert [t["title"] for t in moved] == [t["title"] for t in first["Tickets"]]
    assert moved[0]["createDate"] != first["Tickets"][0]["createDate"]


STAMPS = ("create", "lastactivity", "lastmodified", "lasttracked", "completed", "deleted", "resolveddatetime",
          "firstresponsedatetime")  # fmt: skip


def test_every_generated_field_is_an_autotask_field_and_stamps_lie_before_the_anchor(shared_sandbox):
    before = wire_time(ANCHOR)
    for spec in entities().values():
        stamps = [
            f.name for f in spec.fields.values() if f.type == "datetime" and f.name.lower().startswith(STAMPS)
        ]
        for record in shared_sandbox.store.list(spec.name):
            assert {k for k in record if k != "_udf"} <= {f.name for f in spec.fields.values()}, spec.name
            assert all(record[name] <= before for name in stamps if name in record), spec.name


@pytest.mark.parametrize(
    ("child", "parent_field", "parent"),
    [("TicketSecondaryResources", "ticketID", "Tickets"), ("Tasks", "projectID", "Projects"),
     ("ServiceCallTickets", "ticketID", "Tickets"), ("TimeEntries", "resourceID", "Resources"),
     ("Tickets", "companyID", "Companies"), ("ResourceServiceDeskRoles", "roleID", "Roles")],
)  # fmt: skip
def test_links_point_at_existing_records(shared_sandbox, child, parent_field, parent):
    store = shared_sandbox.store
    children = store.list(child)
    assert children
    assert all(
        store.get(parent, record[parent_field]) is not None for record in children if parent_field in record
    )


def test_tickets_carry_autotask_shape_and_sla_fields(shared_sandbox):
    tickets = shared_sandbox.store.list("Tickets")
    with_sla = [t for t in tickets if "serviceLevelAgreementID" in t]
    assert 0.6 < len(with_sla) / len(tickets) < 0.95
    for ticket in with_sla:
        assert (
            ticket["createDate"]
            < ticket["firstResponseDueDateTime"]
            <= ticket["resolutionPlanDueDateTime"]
            <= ticket["resolvedDueDateTime"]
        )
    complete = [t for t in with_sla if t["status"] == 5]
    assert {t["serviceLevelAgreementHasBeenMet"] for t in complete} == {True, False}
    assigned = [t for t in tickets if "assignedResourceID" in t]
    assert all("assignedResourceRoleID" in t for t in assigned)
    assert len({t["queueID"] for t in tickets}) >= 5
    assert shared_sandbox.store.list("DeletedTicketLogs")
    assert (
        shared_sandbox.store.get("Tickets", shared_sandbox.store.list("DeletedTicketLogs")[0]["ticketID"])
        is None
    )


def test_it_offers_every_scale_the_connectwise_half_offers():
    from psa.sandbox.autotask.data import SCALES
    from psa.sandbox.connectwise.data import SCALES as CONNECTWISE_SCALES

    assert set(SCALES) == set(CONNECTWISE_SCALES)
    assert all(SCALES[name].tickets == CONNECTWISE_SCALES[name].tickets for name in SCALES)
    store = AutotaskStore()
    generate(store, scale="tiny", seed=1, anchor=ANCHOR)
    assert store.count("Tickets") == 30
