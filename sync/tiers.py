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
Which entities a tier syncs is each provider's own fact: every entry of its catalog
(psa/<provider>/catalog.py) names its tier, and the changes tier takes the core and reference
entities that can be listed "changed since" (psa/catalog.py Catalog.tier_entities).

This module is also the one place of the routing: which Celery queue each task and each tier
takes (QUEUES, TASK_ROUTES), and which worker pool serves which queues (WORKER_POOLS, started
per pool by the Procfile and `make run`). See docs/fleet.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from celery.schedules import schedule

from psa.catalog import CHANGES, CORE, NOTES, REFERENCE, Catalog

# --- queues and worker pools ------------------------------------------------------------------
# Each queue is served by workers reserved for it, so a long full run or a notes sweep never
# holds a slot the changes tier or the realtime work needs:
# webhook refreshes and write-back pushes (a person is waiting for them), the beat dispatchers,
# beat's heartbeat and the outbox sweeper
REALTIME = "realtime"
CHANGES_QUEUE = "changes"  # the 5-minute tier of connections whose PSA answers promptly
SLOW = "slow"  # the 5-minute tier of connections that were slow or failing lately (sync/tasks_lanes.py)
FULL = "sync"  # the deleting full tiers (core, reference) and housekeeping
NOTES_QUEUE = "notes"  # the notes fan-out (one chunk of a connection at a time)
QUEUES = (REALTIME, CHANGES_QUEUE, SLOW, FULL, NOTES_QUEUE)

# Worker pool → the queues its processes consume. One pool per kind of work; `celery worker -Q`
# of a pool lists exactly these. A pool can run on any machine with DATABASE_URL and REDIS_URL.
WORKER_POOLS: dict[str, tuple[str, ...]] = {
    "realtime": (REALTIME,),
    "changes": (CHANGES_QUEUE,),
    "bulk": (FULL, NOTES_QUEUE, SLOW),
}

# Task → queue for tasks sent without an explicit queue (the tier tasks are sent to their tier's
# queue, or the slow lane, by sync/tasks.py).
TASK_ROUTES: dict[str, dict[str, str]] = {
    "sync.tasks.dispatch_tier": {"queue": REALTIME},
    "sync.tasks.sync_connection_tier": {"queue": FULL},
    "sync.tasks.plan_notes": {"queue": NOTES_QUEUE},
    "sync.tasks.sync_notes_chunk": {"queue": NOTES_QUEUE},
    "sync.tasks.prune_sync_runs": {"queue": FULL},
    "sync.tasks_realtime.refresh_connection": {"queue": REALTIME},
    "sync.tasks_realtime.push_outbox_entry": {"queue": REALTIME},
    "sync.tasks_realtime.sweep_outbox": {"queue": REALTIME},
    "sync.callbacks_health.callbacks_reensure": {"queue": REALTIME},
    "topleft.celery.beat_heartbeat": {"queue": REALTIME},
}


@dataclass(frozen=True)
class Tier:
    name: str
    every_seconds: int
    deletes: bool
    queue: str
    # Celery hard time limit of one task of this tier (a connection's run; for notes, one chunk).
    # Full runs resume from their last committed page (sync/engine/checkpoint.py), so a run cut
    # short by it loses nothing; it also sizes the broker's visibility timeout (settings.py),
    # i.e. how soon a killed worker's task is delivered again.
    time_limit_seconds: int

    @property
    def soft_time_limit_seconds(self) -> int:
        """When the run is told to stop (SoftTimeLimitExceeded), a margin before the hard kill."""
        return self.time_limit_seconds - min(60, self.time_limit_seconds // 5)


# The hard time limit of a full run (a tier's run for one connection) and the fallback of a
# manual enqueue. Short enough that a killed task is delivered again soon.
TASK_TIME_LIMIT_SECONDS = 20 * 60
# A changes run lists only what changed in the last five minutes: one that needs longer than its
# own interval is cut (its entities' watermarks keep what each finished; the next run goes on).
CHANGES_TIME_LIMIT_SECONDS = 5 * 60
# A notes chunk is NOTES_CHUNK requests (sync/tasks.py): ~10 s at the default budget, under
# four minutes even at 2 s per answer.
NOTES_CHUNK_TIME_LIMIT_SECONDS = 10 * 60

TIERS: dict[str, Tier] = {
    CHANGES: Tier(
        CHANGES, 5 * 60, deletes=False, queue=CHANGES_QUEUE, time_limit_seconds=CHANGES_TIME_LIMIT_SECONDS
    ),
    CORE: Tier(CORE, 30 * 60, deletes=True, queue=FULL, time_limit_seconds=TASK_TIME_LIMIT_SECONDS),
    REFERENCE: Tier(
        REFERENCE,
        4 * 3600,
        deletes=True,
        queue=FULL,
        time_limit_seconds=TASK_TIME_LIMIT_SECONDS,
    ),
    NOTES: Tier(
        NOTES,
        24 * 3600,
        deletes=True,
        queue=NOTES_QUEUE,
        time_limit_seconds=NOTES_CHUNK_TIME_LIMIT_SECONDS,
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


def tier_entities(name: str, catalog: Catalog) -> tuple[str, ...]:
    """The entities of a provider's catalog the tier syncs."""
    tier_get(name)  # an unknown tier fails here
    return catalog.tier_entities(name)


def build_beat_schedule() -> dict:
    """The whole beat schedule: one dispatcher per tier (it fans out per enabled connection), the
    outbox sweeper, beat's heartbeat and the daily pruning of old SyncRun rows."""
    schedule_entries = {
        f"sync-{tier.name}": {
            "task": "sync.tasks.dispatch_tier",
            "schedule": schedule(run_every=tier.every_seconds),
            "args": (tier.name,),
            # The dispatchers run on the realtime pool (a second each for 1,000 connections), so
            # a backlog on a tier's own queue never delays the next fan-out; a dispatch that sat
            # in the queue longer than its period is superseded by the next.
            "options": {"queue": REALTIME, "expires": tier.every_seconds},
        }
        for tier in TIERS.values()
    }
    # Write-back outbox sweeper (sync/outbox.py): re-sends edits stuck for more than a minute.
    schedule_entries["outbox-sweep"] = {
        "task": "sync.tasks_realtime.sweep_outbox",
        "schedule": schedule(run_every=30),
        "options": {"queue": REALTIME, "expires": 30},
    }
    # Beat's heartbeat (topleft/health.py): /readyz and /metrics report how long ago it ran.
    schedule_entries["beat-heartbeat"] = {
        "task": "topleft.celery.beat_heartbeat",
        "schedule": schedule(run_every=30),
        "options": {"queue": REALTIME, "expires": 30},
    }
    schedule_entries["sync-prune-runs"] = {
        "task": "sync.tasks.prune_sync_runs",
        "schedule": schedule(run_every=24 * 3600),
        "options": {"queue": FULL, "expires": 24 * 3600},
    }
    return schedule_entries
