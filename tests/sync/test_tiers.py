"""The tier table matches the reference, and every path/field we use exists in ConnectWise."""

from __future__ import annotations

from psa.connectwise import spec as spec_catalog
from psa.connectwise.catalog import CATALOG
from sync.mapping.spec import PARENT
from sync.tiers import TIERS, build_beat_schedule, tier_entities

MAPPINGS = {name: entity.mapping for name, entity in CATALOG.mirrored().items()}


def _endpoints() -> frozenset[tuple[str, str]]:
    return spec_catalog.endpoints()


def _model_fields() -> dict[str, set[str]]:
    return {model: set(fields) for model, fields in spec_catalog.model_fields().items()}


def test_it_schedules_every_tier_at_the_reference_interval():
    assert {name: tier.every_seconds for name, tier in TIERS.items()} == {
        "changes": 300,
        "core": 1800,
        "reference": 4 * 3600,
        "notes": 24 * 3600,
    }
    schedule = build_beat_schedule()
    assert schedule.pop("sync-prune-runs")["task"] == "sync.tasks.prune_sync_runs"
    assert schedule.pop("outbox-sweep")["task"] == "sync.tasks_realtime.sweep_outbox"
    assert schedule.pop("beat-heartbeat")["task"] == "topleft.celery.beat_heartbeat"
    assert sorted(entry["args"][0] for entry in schedule.values()) == sorted(TIERS)
    for entry in schedule.values():
        assert entry["task"] == "sync.tasks.dispatch_tier"
        assert entry["schedule"].run_every.total_seconds() == TIERS[entry["args"][0]].every_seconds
    # the dispatchers run on the realtime pool; the tasks they fan out go to the tier's queue
    assert {entry["options"]["queue"] for entry in schedule.values()} == {"realtime"}
    assert {name: tier.queue for name, tier in TIERS.items()} == {
        "changes": "changes",
        "core": "sync",
        "reference": "sync",
        "notes": "notes",
    }


def test_it_deletes_in_every_tier_but_changes():
    assert {name: tier.deletes for name, tier in TIERS.items()} == {
        "changes": False,
        "core": True,
        "reference": True,
        "notes": True,
    }


def test_it_puts_the_reference_entities_in_the_right_tiers():
    assert set(tier_entities("core", CATALOG)) == {
        "members",
        "projects",
        "opportunities",
        "territories",
        "companies",
        "service_tickets",
        "project_tickets",
        "ticket_assignments",
    }
    assert {
        "boards",
        "board_statuses",
        "board_teams",
        "priorities",
        "company_statuses",
        "service_locations",
        "time_entries",
        "opportunity_statuses",
        "opportunity_types",
        "opportunity_stages",
        "project_statuses",
        "slas",
        "sla_priorities",
        "calendars",
        "holidays",
        "schedule_statuses",
        "schedule_types",
        "ticket_types",
        "ticket_subtypes",
        "ticket_items",
    } == set(tier_entities("reference", CATALOG))
    assert set(tier_entities("notes", CATALOG)) == {
        "service_notes",
        "project_ticket_notes",
        "opportunity_notes",
    }
    # changes: every flat listing of the full tiers that can filter on lastUpdated; no quotes ever
    changes = set(tier_entities("changes", CATALOG))
    assert "service_tickets" in changes and "opportunities" in changes and "board_statuses" not in changes
    assert not any("quote" in name for tier in TIERS for name in tier_entities(tier, CATALOG))


def test_it_maps_every_entity_of_every_tier():
    for tier in TIERS:
        for name in tier_entities(tier, CATALOG):
            assert name in CATALOG.entities and name in MAPPINGS, name


def test_it_only_calls_real_connectwise_paths():
    endpoints = _endpoints()
    for entity in CATALOG.entities.values():
        assert ("GET", "/" + entity.path) in endpoints, entity.path
    assert ("GET", "/schedule/holidayLists") in endpoints


def test_it_only_reads_real_connectwise_fields():
    fields = _model_fields()
    for name, mapping in MAPPINGS.items():
        model = CATALOG.entities[name].psa_model
        assert model in fields, model
        for path in mapping.api_fields:
            assert path.split("/")[0] in fields[model], f"{name}: {model}.{path}"
    # the scope conditions use real fields too
    assert {"closedFlag", "closedDate"} <= fields["Ticket"] and {"closedFlag", "closedDate"} <= fields[
        "ProjectTicket"
    ]
    assert {"type", "doneFlag", "objectId"} <= fields["ScheduleEntry"]
    assert "timeStart" in fields["TimeEntry"]


def test_it_maps_every_typed_column_of_each_model_it_fills():
    local_only = {
        "id",
        "connection",
        "psa_id",
        "psa_updated_at",
        "raw",
        "synced_at",
        "status_changed_at",
        "notes_synced_at",
        "writeback_error",
        "kind",
        # Opportunity.closed is derived from its status (enrich hook)
        "closed",
    }
    for mapping in MAPPINGS.values():
        columns = {f.name for f in mapping.model._meta.concrete_fields} - local_only
        unmapped = columns - set(mapping.columns) - set(mapping.derived) - set(mapping.fixed)
        # Ticket: service tickets have no project/phase, project tickets no team/SLA (their
        # ConnectWise models have none of these fields)
        if mapping.entity == "service_tickets":
            unmapped -= set(MAPPINGS["project_tickets"].columns)
        if mapping.entity == "project_tickets":
            unmapped -= set(MAPPINGS["service_tickets"].columns) | set(MAPPINGS["service_tickets"].derived)
        # reference rows without an inactive flag in ConnectWise keep the default; an
        # OpportunityNote has no internal flag
        unmapped -= {"inactive"} | ({"internal"} if mapping.entity == "opportunity_notes" else set())
        assert not unmapped, f"{mapping.entity}: {sorted(unmapped)}"
        if any(source == PARENT for source in mapping.columns.values()):
            assert CATALOG.entities[mapping.entity].parent is not None
