"""The tiered sync engine. Public services:

- `sync_tier(*, connection_id, tier, entity=None, progress=None) -> list[SyncRun]`
- `sync_entity(*, connection, entity, tier) -> SyncRun`
- `mirror_upsert_records(*, connection, entity, records) -> counts` (webhook refresh)
- `mirror_delete_record(*, connection, entity, psa_id)`
Import them from `sync.engine.services` / `sync.engine.run` (kept out of this package's
import so the package stays importable before Django's app registry is ready).
"""
