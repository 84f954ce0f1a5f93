"""Map, coerce and upsert pages of PSA records; count what had to be coerced or skipped.

Shared by the tiered runs, the notes fan-out and the single-record helpers the webhook refresh
uses, so a record lands in the mirror the same way whichever path brought it.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from psa.lenient import UnparsableRecord
from sync.engine.pending_edits import held_columns, without_pending_removals
from sync.engine.upsert import upsert_rows
from sync.mapping.spec import Mapping, UnmappableRecord, map_record, parse_psa_id

MAX_ERRORS_KEPT = 5


def _record_id(record: object) -> int | None:
    """The record's PSA id when it has a usable one (to protect its row), else None."""
    if isinstance(record, UnparsableRecord):
        return record.psa_id
    try:
        return parse_psa_id(record.get("id")) if isinstance(record, dict) else None
    except UnmappableRecord:
        return None


def _map(mapping: Mapping, record: object, *, connection_id: int, parent_id: int | None) -> tuple[dict, bool]:
    if isinstance(record, UnparsableRecord):
        raise UnmappableRecord(f"unparsable record in the PSA's answer ({record.error})")
    try:
        return map_record(mapping, record, connection_id=connection_id, parent_id=parent_id)
    except RecursionError:  # nested too deep to clean for jsonb, though the parser still read it
        raise UnmappableRecord("nested too deeply to store") from None


class PageIngest:
    """Accumulates counts on a SyncRun-like object (fetched/created/updated/skipped/coerced)."""

    def __init__(self, *, run, mapping: Mapping, connection_id: int, confirming_entry_id: int | None = None):
        self.run = run
        self.mapping = mapping
        self.connection_id = connection_id
        # The outbox entry whose PSA answer this is: its own pending edit does not hold the row.
        self.confirming_entry_id = confirming_entry_id
        self.newest_seen: datetime | None = None
        self.errors: list[str] = []
        self.error_count = 0
        self.unidentified = 0  # skipped records without a usable id (their rows cannot be protected)

    def _note_error(self, text: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(text)

    def error_summary(self) -> str:
        if not self.errors:
            return ""
        more = self.error_count - len(self.errors)
        suffix = f"\n... and {more} more" if more > 0 else ""
        return "skipped records:\n" + "\n".join(self.errors) + suffix

    def ingest(self, records: list, *, parent_id: int | None = None) -> list[int]:
        """Upsert one page; returns the PSA ids it kept (written or protected from pruning)."""
        rows, keep_ids = [], []
        self.run.fetched += len(records)
        for record in records:
            try:
                row, coerced = _map(
                    self.mapping, record, connection_id=self.connection_id, parent_id=parent_id
                )
            except UnmappableRecord as err:
                self.run.skipped += 1
                psa_id = _record_id(record)
                self._note_error(f"{self.mapping.entity} {psa_id or '?'}: {err}")
                if psa_id is not None:
                    keep_ids.append(psa_id)
                else:
                    self.unidentified += 1
                continue
            rows.append(row)
            self.run.coerced += int(coerced)
            self._note_seen(row.get("psa_updated_at"))
        if rows and self.mapping.enrich:
            self.mapping.enrich(self.connection_id, rows)
        counts = self._upsert(rows)
        self.run.created += counts.created
        self.run.updated += counts.updated
        self.run.skipped += counts.failed
        if counts.first_error:
            self._note_error(counts.first_error)
        keep_ids.extend(counts.failed_ids)
        self._protect(keep_ids)
        return [row["psa_id"] for row in rows] + keep_ids

    def _note_seen(self, seen: datetime | None) -> None:
        """Keep the newest change stamp of the run (the watermark it advances to)."""
        if seen and (self.newest_seen is None or seen > self.newest_seen):
            self.newest_seen = seen

    def _upsert(self, rows: list[dict]):
        # Users' edits not delivered yet keep their values (pending_edits.py).
        rows = without_pending_removals(
            mapping=self.mapping,
            connection_id=self.connection_id,
            rows=rows,
            confirming_entry_id=self.confirming_entry_id,
        )
        held = held_columns(
            mapping=self.mapping,
            connection_id=self.connection_id,
            psa_ids=[row["psa_id"] for row in rows],
            confirming_entry_id=self.confirming_entry_id,
        )
        return upsert_rows(self.mapping, rows, held=held)

    def _protect(self, psa_ids: list[int]) -> None:
        # A record the listing returned but we could not store is still in the PSA: stamp the
        # existing row as seen so the prune step never deletes it for our own failure.
        if psa_ids:
            self.mapping.model._default_manager.filter(
                connection_id=self.connection_id, psa_id__in=psa_ids, **self.mapping.scope_filter
            ).update(synced_at=timezone.now())
