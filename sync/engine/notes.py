"""Notes (24 h, ConnectWise only): one request per mirrored ticket / opportunity.

ConnectWise has no listing of all notes, only `service/tickets/{id}/notes`,
`project/tickets/{id}/notes` and `sales/opportunities/{id}/notes`. The Celery side cuts the
parents into chunks on the `notes` queue (sync/tasks.py); every request draws from the
connection's background rate budget inside the client. Deletion is per parent: the notes of a
parent that the PSA no longer returns are removed once that parent's listing completed.

`changed_only` (the daily default) skips parents not updated since their last notes fetch; a
full sweep (weekly) visits every parent.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.apps import apps
from django.db.models import F, Q
from django.utils import timezone

from boards.models import Opportunity, OpportunityNote, ServiceNote, Ticket
from psa.catalog import Catalog
from psa.errors import NotFound, PSAError
from psa.providers import PSAClient, catalog_for
from sync import metrics
from sync.engine import clients
from sync.engine.ingest import PageIngest
from sync.engine.prune import prune_unseen, unseen_count
from sync.engine.run import announce_changes
from sync.engine.verify import ListingTally, listings_verify
from sync.locks import Lease, LockLost
from sync.models import Connection, SyncRun
from sync.tiers import NOTES
from topleft.logs import run_log_ids

logger = logging.getLogger("sync.notes")

FULL_SWEEP_WEEKDAY = 6  # Sunday: the daily run visits every parent once a week
CLOCK_SLACK = timedelta(minutes=2)  # parent lastUpdated is server time, notes_synced_at ours


def _parents(catalog: Catalog, entity: str, connection_id: int):
    """The mirrored rows whose notes `entity` holds (the catalog names the model and filter)."""
    parent = catalog.entity(entity).notes_parent
    if parent is None:
        raise ValueError(f"{entity!r} is not a notes entity")
    model = apps.get_model(parent.model)
    return model._default_manager.filter(connection_id=connection_id, **parent.filter)


def notes_full_sweep_due(now=None) -> bool:
    return (now or timezone.now()).weekday() == FULL_SWEEP_WEEKDAY


def notes_parent_ids(*, connection_id: int, entity: str, changed_only: bool = True) -> list[int]:
    """PSA ids of the mirrored parents whose notes should be fetched now."""
    catalog = catalog_for(_connection(connection_id))
    parents = _parents(catalog, entity, connection_id)
    if changed_only:
        parents = parents.filter(
            Q(notes_synced_at__isnull=True) | Q(psa_updated_at__gt=F("notes_synced_at") - CLOCK_SLACK)
        )
    return list(parents.order_by("psa_id").values_list("psa_id", flat=True))


def notes_prune_orphans(*, connection_id: int) -> int:
    """Delete notes whose ticket / opportunity left the mirror (deleted, or closed and aged out):
    their parent is gone, so no per-parent listing will ever visit them again."""
    deleted = 0
    for model, parent_model, column in (
        (ServiceNote, Ticket, "ticket_psa_id"),
        (OpportunityNote, Opportunity, "opportunity_psa_id"),
    ):
        parents = parent_model.objects.filter(connection_id=connection_id).values("psa_id")
        count, _ = (
            model.objects.filter(connection_id=connection_id).exclude(**{f"{column}__in": parents}).delete()
        )
        deleted += count
    return deleted


def notes_plan(
    *, connection_id: int, entities: tuple[str, ...], changed_only: bool | None = None
) -> dict[str, list[int]]:
    """Prune orphaned notes, then per notes entity the parents due now (the beat's plan task
    and the foreground tier share it). `changed_only` None: the weekday decides."""
    notes_prune_orphans(connection_id=connection_id)
    if changed_only is None:
        changed_only = not notes_full_sweep_due()
    return {
        entity: notes_parent_ids(connection_id=connection_id, entity=entity, changed_only=changed_only)
        for entity in entities
    }


def _connection(connection_id: int) -> Connection:
    return Connection.objects.get(pk=connection_id)


def _sync_one_parent(
    client: PSAClient, catalog: Catalog, entity: str, parent_id: int, ingest: PageIngest, connection_id: int
) -> str:
    """Fetch, upsert and prune the notes of one parent; returns a refusal reason or ''."""
    spec, mapping = catalog.entity(entity), catalog.mapping(entity)
    started_at = timezone.now()
    unidentified_before = ingest.unidentified
    tally = ListingTally()
    listing = tally.start(spec.path_for(parent_id), None, parent_id)
    for page in client.iter_pages(listing.path, fields=mapping.api_fields, keep_unparsable=True):
        listing.received += len(page)
        ingest.ingest(page, parent_id=parent_id)
    parent_column = mapping.parent_column
    assert parent_column is not None  # notes are nested collections: their rows name the parent
    parent_scope = {parent_column: parent_id}
    if unseen_count(mapping=mapping, connection_id=connection_id, started_at=started_at, scope=parent_scope):
        # Something would be deleted: only after the PSA's count (GET .../notes/count) agrees. Asked
        # only then, so the daily sweep does not pay a second request per parent.
        verdict = listings_verify(client=client, tally=tally, mirror_holds_rows=lambda _listing: True)
        if verdict.problems:
            return "incomplete listing, nothing deleted: " + "; ".join(verdict.problems)
    pruned = prune_unseen(
        mapping=mapping,
        connection_id=connection_id,
        started_at=started_at,
        scope=parent_scope,
        unidentified=ingest.unidentified - unidentified_before,
    )
    ingest.run.deleted += pruned.deleted
    _parents(catalog, entity, connection_id).filter(psa_id=parent_id).update(notes_synced_at=timezone.now())
    return pruned.refused


def sync_notes_parents(
    *,
    connection: Connection,
    entity: str,
    parent_ids: list[int],
    client: PSAClient | None = None,
    lease: Lease | None = None,
    progress=None,
) -> SyncRun:
    """One SyncRun for the notes of a chunk of parents; one parent failing never stops the rest."""
    run = SyncRun.objects.create(connection=connection, tier=NOTES, entity=entity, started_at=timezone.now())
    failures: list[str] = []
    refusals: list[str] = []
    try:
        client = client or clients.client_for(connection)
    except PSAError as err:  # e.g. a connection without keys
        client, parent_ids = None, []
        failures.append(str(err))
    requests_before = client.requests_made if client else 0
    catalog = catalog_for(connection)
    ingest = PageIngest(run=run, mapping=catalog.mapping(entity), connection_id=connection.pk)
    for parent_id in parent_ids:
        assert client is not None  # parent_ids is emptied when no client could be made
        try:
            if refused := _sync_one_parent(client, catalog, entity, parent_id, ingest, connection.pk):
                refusals.append(f"parent {parent_id}: {refused}")
            if lease:
                lease.renew()
        except NotFound:
            pass  # the parent was deleted in the PSA; the next core run removes it and its notes
        except LockLost as err:
            failures.append(str(err))
            break
        except SoftTimeLimitExceeded:
            failures.append("time limit exceeded: the remaining parents wait for the next run")
            break
        except PSAError as err:
            failures.append(f"parent {parent_id}: {err}")
            logger.warning("notes of %s %s failed: %s", entity, parent_id, err, extra=run_log_ids(run))
        except Exception as err:  # a bug or an unexpected answer: record it, the other parents carry on
            failures.append(f"parent {parent_id}: {type(err).__name__}: {err}")
            logger.exception("notes of %s %s crashed", entity, parent_id, extra=run_log_ids(run))
        if progress:
            progress(1)
    run.requests = (client.requests_made - requests_before) if client else 0
    run.status = (
        SyncRun.Status.FAILED
        if failures
        else (SyncRun.Status.REFUSED if refusals else SyncRun.Status.SUCCEEDED)
    )
    summary = [f"{len(failures)} of {len(parent_ids)} parents failed"] + failures[:5] if failures else []
    run.error = "\n".join(summary + refusals[:5] + [ingest.error_summary()]).strip()[:4000]
    run.finished_at = timezone.now()
    run.save()
    metrics.sync_run_finished(run)
    announce_changes(run)
    return run
