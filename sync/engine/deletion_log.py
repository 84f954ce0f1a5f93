"""Pages of a deletion log (a catalog entity with `removes`): records that name records the PSA
deleted, e.g. Autotask's DeletedTicketLogs (`ticketID`, `deletedDateTime`). Listed by the changes
tier since its watermark like any entity, but each page removes mirror rows instead of writing
them, so a delete shows within minutes instead of at the next full run. The delete is the PSA's
own statement, one row at a time, so the mass-delete guard (which protects against incomplete
listings) does not apply."""

from __future__ import annotations

from psa.timestamps import parse_psa_time
from sync.engine.ingest import PageIngest
from sync.mapping.spec import Mapping, UnmappableRecord, parse_psa_id


class DeletionLogIngest(PageIngest):
    def __init__(self, *, run, mapping: Mapping, connection_id: int, removes: str) -> None:
        super().__init__(run=run, mapping=mapping, connection_id=connection_id)
        self.removes = removes

    def _deleted_id(self, record: object) -> int:
        if not isinstance(record, dict):
            raise UnmappableRecord(f"record is a {type(record).__name__}, not an object")
        return parse_psa_id(record.get(self.removes))

    def ingest(self, records: list, *, parent_id: int | None = None) -> list[int]:
        """Remove the rows of the records the page names; nothing is kept."""
        self.run.fetched += len(records)
        deleted_ids = []
        for record in records:
            try:
                deleted_ids.append(self._deleted_id(record))
            except UnmappableRecord as err:
                self.run.skipped += 1
                self._note_error(f"{self.mapping.entity}: {err}")
                continue
            self._note_seen(parse_psa_time(record.get(self.mapping.stamp)) if self.mapping.stamp else None)
        if deleted_ids:
            deleted, _ = self.mapping.model._default_manager.filter(
                connection_id=self.connection_id, psa_id__in=deleted_ids, **self.mapping.scope_filter
            ).delete()
            self.run.deleted += deleted
        return []
