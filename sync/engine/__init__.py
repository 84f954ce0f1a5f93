"""The tiered sync engine (tier table: sync/tiers.py; mapping: sync/mapping/; catalog:
psa/<provider>/catalog.py; Celery side: sync/tasks.py).

Public services (import from the modules, so this package imports before Django is ready):
- `sync.engine.services.sync_tier(*, connection_id, tier, entity=None, progress=None) -> list[SyncRun]`
  runs a tier under its (connection, tier) lease; [] when that tier is already running.
- `sync.engine.run.sync_entity(*, connection, entity, tier) -> SyncRun`
- `sync.engine.services.mirror_upsert_records(*, connection, entity, records) -> counts` and
  `mirror_delete_record(*, connection, entity, psa_id)` for the webhook refresh.
- `sync.engine.status.sync_status(*, connection) -> dict` (rows per entity, last run per tier).

Decisions worth knowing:
- One statement per page (upsert.py): on PostgreSQL the page travels as one jsonb document
  into INSERT ... ON CONFLICT DO UPDATE; stored rows with a newer server lastUpdated keep their
  values (a stale page never overwrites a webhook refresh), and the same statement counts
  created / changed rows. `updated` on a SyncRun = rows whose PSA lastUpdated changed.
- Deletes (prune.py): every row a listing returned gets `synced_at` stamped; after a complete
  listing the rows of the scope with an older stamp are the ones the PSA no longer returned.
  "Complete" is checked (verify.py): every listing of a full run is compared with the PSA's
  `/count` for the same path and conditions, and an empty answer for a non-empty scope needs a
  confirming second read; otherwise nothing is deleted and the run is `refused`. More than
  SYNC_MASS_DELETE_SHARE (50%) of any scope (one row excepted) → `refused` too, until an operator
  approves one mass delete (approvals.py: admin actions, `manage.py sync --allow-mass-delete`).
- Bad values (sync/mapping/coerce.py, ingest.py): out-of-range values are coerced and counted
  (`coerced`); records without a usable id, unparsable or too deeply nested are skipped and
  counted (`skipped`), and the rest of the page is mirrored.
- Watermarks (watermarks.py): min(newest lastUpdated seen, run start) - 2 min, only after a
  successful run, never backwards. The `changes` tier does nothing for an entity without a
  watermark (the full tier seeds it).
- Leases (sync/locks.py): conditional UPDATE + row count, kept alive by the holder's heartbeat
  thread and renewed after every page, expire after SYNC_LOCK_TTL_SECONDS (45 s) once a killed
  worker stops beating; the next run of the tier marks the dead worker's SyncRun rows `failed`
  ("abandoned").
- Resumable full runs (checkpoint.py): a core / reference run saves a checkpoint after every
  committed page; the next run of the entity resumes after its last committed id with the
  interrupted run's start and conditions, so deletes and the count cross-check stay exact.
- Pending edits (pending_edits.py): columns a user's undelivered write-back changed keep the
  user's value through every upsert until the PSA confirms or rejects the edit.
- One Celery task per connection runs the tier's entities one after another (sync/tasks.py);
  notes are planned per connection and fetched by chunk tasks on the `notes` queue.
"""
