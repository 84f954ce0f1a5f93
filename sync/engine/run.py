"""One engine run: list (forward-only pages of 1000, only the mapped fields) → map + coerce →
one bulk upsert per page → (deleting tiers) prune what the PSA no longer returned → SyncRun.

A run never raises for bad data or a PSA failure: it records the outcome on its SyncRun
(failed / refused, with the error text) so the rest of the tier carries on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.utils import timezone

from boards.live import mirror_changed_on_commit
from psa.catalog import Catalog, MirrorEntity, ScopeContext
from psa.errors import PSAError
from psa.lenient import UnparsableRecord
from psa.providers import PSAClient, catalog_for
from sync import metrics
from sync.engine import clients
from sync.engine.approvals import mass_delete_approval_pending, mass_delete_approval_use
from sync.engine.checkpoint import Checkpointer, Resume, checkpoint_claim, checkpoint_clear
from sync.engine.deletion_log import DeletionLogIngest
from sync.engine.ingest import PageIngest
from sync.engine.prefetch import prefetched
from sync.engine.prune import prune_unseen
from sync.engine.verify import Listing, ListingTally, listings_verify
from sync.engine.watermarks import watermark_advance, watermark_get
from sync.locks import Lease, LockLost
from sync.mapping.spec import Mapping
from sync.models import Connection, SyncRun
from sync.tiers import CHANGES, tier_get
from topleft.logs import run_log_ids

logger = logging.getLogger("sync.engine")

Progress = Callable[[int], None]
PAGE_SIZE = 1000


def scope_context(connection: Connection, now: datetime | None = None) -> ScopeContext:
    return ScopeContext(
        now=now or timezone.now(),
        closed_ticket_retention_days=connection.closed_ticket_retention_days,
        time_entry_days=settings.SYNC_TIME_ENTRY_DAYS,
    )


def _parent_ids(client: PSAClient, parent: MirrorEntity, tally: ListingTally) -> Iterator[int]:
    # The parent collection's ids only (e.g. ConnectWise service/boards for board statuses).
    listing = tally.start(parent.path, None, parents=True)
    for page in client.iter_pages(parent.path, fields=["id"], page_size=PAGE_SIZE, keep_unparsable=True):
        listing.received += len(page)
        for record in page:
            psa_id = record.psa_id if isinstance(record, UnparsableRecord) else _whole_id(record)
            if psa_id is None:  # its children cannot be listed: verify.py refuses the deletes
                listing.unusable += 1
            else:
                yield psa_id


def _whole_id(record: object) -> int | None:
    value = record.get("id") if isinstance(record, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _listing(
    client: PSAClient,
    tally: ListingTally,
    resume: Resume | None,
    request: tuple[str, str | None, int | None],
    fields: list[str],
) -> Iterator[tuple[Listing, list]]:
    """(listing, page) of one listing; a resumed one continues after its checkpoint, one the
    interrupted run finished is not listed again (its tally came with the checkpoint)."""
    path, conditions, parent_id = request
    key = (path, parent_id, False)
    if resume and key in resume.done:
        return
    listing, after_id = resume.partial[key] if resume and key in resume.partial else (None, None)
    listing = listing or tally.start(path, conditions, parent_id)
    resumed: dict[str, Any] = {"after_id": after_id} if after_id else {}  # test doubles lack it
    for page in client.iter_pages(
        path, conditions=conditions, fields=fields, page_size=PAGE_SIZE, keep_unparsable=True, **resumed
    ):
        listing.received += len(page)
        yield listing, page


def _pages(
    client: PSAClient,
    spec: MirrorEntity,
    catalog: Catalog,
    *,
    conditions: str | None,
    fields: list[str],
    tally: ListingTally,
    resume: Resume | None = None,
) -> Iterator[tuple[Listing, list]]:
    """(listing, page) for a flat listing, or for every parent of a nested one; every listing
    is recorded in `tally` with what it returned (for verify.py)."""
    if spec.parent is None:
        yield from _listing(client, tally, resume, (spec.path, conditions, None), fields)
        return
    for parent_id in list(_parent_ids(client, catalog.entity(spec.parent), tally)):
        yield from _listing(client, tally, resume, (spec.path_for(parent_id), conditions, parent_id), fields)


def _finish(run: SyncRun, status: str, error: str = "") -> SyncRun:
    run.status = status
    if error:
        run.error = (run.error + "\n" + error).strip()[:4000]
    run.finished_at = timezone.now()
    run.save()
    metrics.sync_run_finished(run)
    announce_changes(run)
    return run


def announce_changes(run: SyncRun) -> None:
    """Tell open boards the mirror changed (they poll a per-connection counter)."""
    if run.created or run.updated or run.deleted:
        mirror_changed_on_commit(connection_id=run.connection_id)


def _mirror_holds_rows(mapping: Mapping, connection_id: int) -> Callable[[Listing], bool]:
    """Whether the mirror holds rows in the scope a listing covers (an empty answer for such a
    scope needs a confirming read)."""
    rows = mapping.model._default_manager.filter(connection_id=connection_id, **mapping.scope_filter)
    parent_column = mapping.parent_column

    def holds(listing: Listing) -> bool:
        if listing.parent_id is not None and parent_column:
            return rows.filter(**{parent_column: listing.parent_id}).exists()
        return rows.exists()

    return holds


def _verified_prune(
    run: SyncRun, *, client: PSAClient, tally: ListingTally, ingest: PageIngest, since: datetime
) -> tuple[str, list[str]]:
    """Prune after the listings proved complete; (why nothing was deleted or '', notes)."""
    mapping = ingest.mapping
    verdict = listings_verify(
        client=client, tally=tally, mirror_holds_rows=_mirror_holds_rows(mapping, run.connection_id)
    )
    if verdict.problems:
        refusal = "incomplete listing, nothing deleted:\n" + "\n".join(verdict.problems)
        return refusal, verdict.notes
    approval = mass_delete_approval_pending(connection_id=run.connection_id, entity=run.entity)
    pruned = prune_unseen(
        mapping=mapping,
        connection_id=run.connection_id,
        started_at=since,  # a resumed run: what the interrupted one saw since its start counts
        approved=approval is not None,
        unidentified=ingest.unidentified,
    )
    run.deleted = pruned.deleted
    notes = list(verdict.notes)
    # An approval is used up by a run that got to delete, never by one refused for other reasons.
    if approval is not None and not pruned.refused and mass_delete_approval_use(approval=approval, run=run):
        used = "used" if pruned.approval_used else "not needed (nothing over the limit), used up all the same"
        notes.append(f"mass delete approved by {approval.approved_by}: {used}; deleted {pruned.deleted}")
    return pruned.refused, notes


@dataclass
class _Listed:
    """A run's listing state: its scope's start and conditions (the interrupted run's when it
    resumes one), what each listing returned, and the checkpoint it saves page by page."""

    since: datetime
    conditions: str | None
    tally: ListingTally
    resume: Resume | None = None
    checkpointer: Checkpointer | None = None


def _listed(
    run: SyncRun,
    *,
    connection: Connection,
    spec: MirrorEntity,
    deletes: bool,
    tier_started_at: datetime | None,
) -> _Listed:
    def conditions_at(start: datetime) -> str | None:
        return spec.conditions(scope_context(connection, start))

    tally = ListingTally()
    if not deletes:  # only full (deleting) runs are long enough to be worth resuming
        return _Listed(run.started_at, conditions_at(run.started_at), tally)
    resume = checkpoint_claim(run=run, conditions_at=conditions_at)
    since = resume.started_at if resume else run.started_at
    listed = _Listed(since, conditions_at(since), tally, resume)
    listed.checkpointer = Checkpointer(
        run=run, started_at=since, conditions=listed.conditions, tally=tally, tier_started_at=tier_started_at
    )
    if resume:
        listed.checkpointer.restore(resume)
    return listed


def _resumed_note(listed: _Listed) -> str:
    if listed.resume is None:
        return ""
    return (
        f"resumed the listing of run #{listed.resume.from_run_id} (started {listed.since:%Y-%m-%d %H:%M:%S}), "
        f"which had committed {listed.resume.records_before()} records"
    )


def sync_entity(
    *,
    connection: Connection,
    entity: str,
    tier: str,
    client: PSAClient | None = None,
    lease: Lease | None = None,
    progress: Progress | None = None,
    tier_started_at: datetime | None = None,
) -> SyncRun:
    """Run one entity of one tier for one connection; always returns its SyncRun.

    `tier_started_at`: start of the tier run this belongs to (kept with its checkpoint)."""
    catalog = catalog_for(connection)
    tier_def, spec, mapping = tier_get(tier), catalog.entity(entity), catalog.mapping(entity)
    started_at = timezone.now()
    run = SyncRun.objects.create(connection=connection, tier=tier, entity=entity, started_at=started_at)
    watermark = None
    if tier == CHANGES:
        watermark = watermark_get(connection_id=connection.pk, entity=entity)
        if watermark is None and spec.removes:  # deletes before now are the full tiers' business
            watermark_advance(
                connection_id=connection.pk, entity=entity, newest_seen=started_at, started_at=started_at
            )
            return _finish(run, SyncRun.Status.SUCCEEDED, "deletion log: watching from now on")
        if watermark is None:
            # Documented choice: the `changes` tier never does a full fetch; the full tier seeds it.
            return _finish(run, SyncRun.Status.SUCCEEDED, "no watermark yet: waiting for the full tier")
    try:
        client = client or clients.client_for(connection)
    except PSAError as err:  # e.g. a connection without keys: nothing to list with
        return _finish(run, SyncRun.Status.FAILED, str(err))
    listed = _listed(
        run, connection=connection, spec=spec, deletes=tier_def.deletes, tier_started_at=tier_started_at
    )
    if watermark is not None:  # the changes tier: only what changed since the last run's newest
        listed.conditions = catalog.changed_query(entity, listed.conditions, watermark)
    requests_before = client.requests_made
    ingest = (
        DeletionLogIngest(run=run, mapping=mapping, connection_id=connection.pk, removes=spec.removes)
        if spec.removes
        else PageIngest(run=run, mapping=mapping, connection_id=connection.pk)
    )
    if listed.resume:
        ingest.newest_seen, ingest.unidentified = listed.resume.newest_seen, listed.resume.unidentified
    drop_checkpoint = True  # kept only for a run the next one should resume (see checkpoint.py)
    try:
        pages = _pages(
            client,
            spec,
            catalog,
            conditions=listed.conditions,
            fields=mapping.api_fields,
            tally=listed.tally,
            resume=listed.resume,
        )
        for listing, page in prefetched(pages):  # page n+1 is fetched while page n is written
            ingest.ingest(page, parent_id=listing.parent_id)
            run.requests = client.requests_made - requests_before
            run.save(update_fields=["fetched", "created", "updated", "skipped", "coerced", "requests"])
            if lease:
                lease.renew()
            if listed.checkpointer:
                listed.checkpointer.page_committed(
                    listing, page, newest_seen=ingest.newest_seen, unidentified=ingest.unidentified
                )
            if progress:
                progress(len(page))
        status, message = SyncRun.Status.SUCCEEDED, ingest.error_summary()
        if tier_def.deletes:
            if lease:
                lease.renew()  # a run that lost its lease must not delete
            refusal, notes = _verified_prune(
                run, client=client, tally=listed.tally, ingest=ingest, since=listed.since
            )
            if refusal:
                status = SyncRun.Status.REFUSED
                logger.warning(
                    "sync %s/%s/%s deleted nothing: %s",
                    connection.name,
                    tier,
                    entity,
                    refusal,
                    extra=run_log_ids(run),
                )
            message = "\n".join(filter(None, [_resumed_note(listed), refusal, *notes, message]))
        if status == SyncRun.Status.SUCCEEDED and spec.has_last_updated:
            watermark_advance(
                connection_id=connection.pk,
                entity=entity,
                newest_seen=ingest.newest_seen,
                started_at=listed.since,
            )
    except (PSAError, LockLost) as err:  # the checkpoint stays: the next run resumes ...
        status, message = SyncRun.Status.FAILED, "\n".join(filter(None, [str(err), ingest.error_summary()]))
        logger.warning("sync %s/%s/%s failed: %s", connection.name, tier, entity, err, extra=run_log_ids(run))
        # ... unless the PSA failed a resumed run: what the checkpoint lists may be the cause
        # (a parent deleted meanwhile), so the next run starts over rather than fail the same way.
        drop_checkpoint = isinstance(err, PSAError) and listed.resume is not None
    except SoftTimeLimitExceeded:  # the checkpoint stays: the next run resumes
        run.requests = client.requests_made - requests_before
        _finish(run, SyncRun.Status.FAILED, "time limit exceeded")
        raise
    except Exception as err:  # a bug or an unexpected answer: record it, the tier carries on
        logger.exception("sync %s/%s/%s crashed", connection.name, tier, entity, extra=run_log_ids(run))
        status, message = SyncRun.Status.FAILED, f"{type(err).__name__}: {err}"
    if drop_checkpoint and listed.checkpointer:
        checkpoint_clear(run=run)
    run.requests = client.requests_made - requests_before
    return _finish(run, status, message)
