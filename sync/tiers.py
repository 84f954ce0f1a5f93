"""The sync tiers: ONE table, the Celery beat schedule is built from it.

Matches the reference (topleft-data-sync-*.txt):
  changes    every 5 min  records added/updated since the entity's watermark, never deletes
  core       every 30 min members, projects, opportunities, territories, companies, open tickets
                          (+ closed within retention), ticket assignments; deletes
  reference  every 4 h    boards + statuses, teams, priorities, company statuses, locations,
                          time entries, opportunity statuses/types/stages, project statuses,
                          SLAs + SLA priorities, calendars, holidays, schedule statuses/types,
                          ticket types/subtypes/items; deletes
  notes      every 24 h   service notes of mirrored tickets, notes of mirrored opportunities
                          (ConnectWise only); deletes per parent
Entity names are the keys of psa/connectwise/entities.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from celery.schedules import schedule


@dataclass(frozen=True)
class Tier:
    name: str
    every_seconds: int
    entities: tuple[str, ...]
    deletes: bool
    queue: str
    # Celery hard time limit of one task of this tier (a connection's run; for notes, one chunk).
    # Full runs resume from their last committed page (sync/engine/checkpoint.py), so a run cut
    # short by it loses nothing; it also sizes the broker's visibility timeout (settings.py),
    # i.e. how soon a killed worker's task is delivered again.
    time_limit_seconds: int


CORE_ENTITIES = (
    "members",
    "territories",
    "companies",
    "projects",
    "opportunities",
    "service_tickets",
    "project_tickets",
    "ticket_assignments",
)

# Parents before children only for readability: rows refer to each other by PSA id, so the
# order never matters for correctness.
REFERENCE_ENTITIES = (
    "boards",
    "board_statuses",
    "board_teams",
    "ticket_types",
    "ticket_subtypes",
    "ticket_items",
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
)

NOTES_ENTITIES = ("service_notes", "project_ticket_notes", "opportunity_notes")


def _changes_entities() -> tuple[str, ...]:
    # Every mirrored type that can be filtered on lastUpdated with one listing (nested
    # collections such as board statuses need one request per parent; their full tier is cheap).
    from psa.connectwise.entities import ENTITIES

    return tuple(
        name
        for name in CORE_ENTITIES + REFERENCE_ENTITIES
        if ENTITIES[name].has_last_updated and ENTITIES[name].parent is None
    )


# Every sync task's hard time limit: a tier's run for one connection, a notes chunk, the
# fallback of a manual enqueue. Short enough that a killed task is delivered again soon.
TASK_TIME_LIMIT_SECONDS = 20 * 60

CHANGES = "changes"
CORE = "core"
REFERENCE = "reference"
NOTES = "notes"

TIERS: dict[str, Tier] = {
    CHANGES: Tier(
        CHANGES, 5 * 60, (), deletes=False, queue="sync", time_limit_seconds=TASK_TIME_LIMIT_SECONDS
    ),
    CORE: Tier(
        CORE, 30 * 60, CORE_ENTITIES, deletes=True, queue="sync", time_limit_seconds=TASK_TIME_LIMIT_SECONDS
    ),
    REFERENCE: Tier(
        REFERENCE,
        4 * 3600,
        REFERENCE_ENTITIES,
        deletes=True,
        queue="sync",
        time_limit_seconds=TASK_TIME_LIMIT_SECONDS,
    ),
    NOTES: Tier(
        NOTES,
        24 * 3600,
        NOTES_ENTITIES,
        deletes=True,
        queue="notes",
        time_limit_seconds=TASK_TIME_LIMIT_SECONDS,
    ),
}
# The broker re-delivers a task whose worker died (acks late) after its visibility timeout; it
# must outlast the longest task, or a live one is delivered twice (the lease would turn the
# second away, but not for free). Read by topleft/settings.py.
BROKER_VISIBILITY_TIMEOUT_SECONDS = max(tier.time_limit_seconds for tier in TIERS.values()) + 5 * 60


def tier_get(name: str) -> Tier:
    try:
        return TIERS[name]
    except KeyError:
        raise ValueError(f"unknown tier {name!r}; choose from {', '.join(TIERS)}") from None


def tier_entities(name: str) -> tuple[str, ...]:
    if name == CHANGES:
        return _changes_entities()
    return tier_get(name).entities


def build_beat_schedule() -> dict:
    """The whole beat schedule: one dispatcher per tier (it fans out per enabled connection), the
    outbox sweeper, beat's heartbeat and the daily pruning of old SyncRun rows."""
    schedule_entries = {
        f"sync-{tier.name}": {
            "task": "sync.tasks.dispatch_tier",
            "schedule": schedule(run_every=tier.every_seconds),
            "args": (tier.name,),
            # A dispatch that sat in the queue longer than its period is superseded by the next.
            "options": {"queue": tier.queue, "expires": tier.every_seconds},
        }
        for tier in TIERS.values()
    }
    # Write-back outbox sweeper (sync/outbox.py): re-sends edits stuck for more than a minute.
    schedule_entries["outbox-sweep"] = {
        "task": "sync.tasks_realtime.sweep_outbox",
        "schedule": schedule(run_every=30),
        "options": {"queue": "realtime", "expires": 30},
    }
    # Beat's heartbeat (topleft/health.py): /readyz and /metrics report how long ago it ran.
    schedule_entries["beat-heartbeat"] = {
        "task": "topleft.celery.beat_heartbeat",
        "schedule": schedule(run_every=30),
        "options": {"queue": "realtime", "expires": 30},
    }
    schedule_entries["sync-prune-runs"] = {
        "task": "sync.tasks.prune_sync_runs",
        "schedule": schedule(run_every=24 * 3600),
        "options": {"queue": "sync", "expires": 24 * 3600},
    }
    return schedule_entries
