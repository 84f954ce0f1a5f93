"""Resumable full runs: a checkpoint per committed page, so a killed run resumes where it died.

A deleting (core / reference) run saves, after every page it upserted, where each of its
listings stands: done (with what it returned) or the id of the last record it committed. The
next run of that entity (a Celery redelivery, the next beat, `manage.py sync`) takes the
checkpoint over and carries on after that id (forward-only paging is ordered by id: `pageId`
= "id greater than"), instead of listing the whole scope again.

Deletes stay exact: the resumed run keeps the interrupted run's start and conditions, so the
rows the interrupted run stamped (and anything a webhook or the `changes` tier wrote since)
count as seen, and the scope it prunes in is the one it listed. The PSA count cross-check
(verify.py) compares each listing's records, both runs' pages together, with the PSA's count
asked at the end, as for a run that was never interrupted. The watermark candidate keeps the
newest lastUpdated of both runs, capped at the original start.

A checkpoint is dropped when its run succeeds or is refused, or when it crashed on something
unexpected; a failed run (PSA outage, lost lease, time limit) keeps it for the next run.
Checkpoints older than RESUME_WITHIN, or listed under other conditions (the retention setting
changed), are dropped and the run starts over.

A tier run (one Celery task: the tier's entities one after another) that died is resumed the
same way: the rerun skips the entities the interrupted tier run had finished (succeeded or
refused since its start) and resumes the one it was listing (`tier_resume_plan`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from psa.lenient import UnparsableRecord
from sync.engine.verify import Listing, ListingTally
from sync.locks import LockLost
from sync.models import SyncCheckpoint, SyncRun

RESUME_WITHIN = timedelta(hours=12)
ListingKey = tuple[str, int | None, bool]  # path, parent id, parents-of-nested listing


def _key(listing: Listing) -> ListingKey:
    return listing.path, listing.parent_id, listing.parents_of_nested


def _last_id(page: list) -> int | None:
    """The id of the page's last record (pages are ordered by id), when it has a usable one."""
    last = page[-1] if page else None
    value = last.psa_id if isinstance(last, UnparsableRecord) else (last or {}).get("id")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


@dataclass
class Resume:
    """What an interrupted run left: its start, its listings, and where the unfinished one stopped."""

    started_at: datetime
    from_run_id: int
    done: dict[ListingKey, Listing] = field(default_factory=dict)
    partial: dict[ListingKey, tuple[Listing, int]] = field(default_factory=dict)  # → (listing, after id)
    newest_seen: datetime | None = None
    unidentified: int = 0

    def records_before(self) -> int:
        listings = [*self.done.values(), *(listing for listing, _ in self.partial.values())]
        return sum(listing.received for listing in listings if not listing.parents_of_nested)


def checkpoint_claim(*, run: SyncRun, conditions_at: Callable[[datetime], str | None]) -> Resume | None:
    """Take over the entity's checkpoint for `run`; None (and no checkpoint) to start afresh.

    `conditions_at(start)`: the listing conditions of a run started then; a checkpoint whose
    own differ (e.g. the retention setting changed since) is not resumed."""
    key = {"connection_id": run.connection_id, "tier": run.tier, "entity": run.entity}
    stored = SyncCheckpoint.objects.filter(**key).first()
    if stored is None:
        return None
    recent = stored.started_at >= timezone.now() - RESUME_WITHIN
    fresh = recent and stored.conditions == (conditions_at(stored.started_at) or "")
    claimed = fresh and SyncCheckpoint.objects.filter(pk=stored.pk, run_id=stored.run_id).update(
        run_id=run.pk
    )
    if not claimed:
        SyncCheckpoint.objects.filter(pk=stored.pk, run_id=stored.run_id).delete()
        return None
    resume = Resume(
        started_at=stored.started_at,
        from_run_id=stored.run_id,
        newest_seen=stored.newest_seen,
        unidentified=stored.unidentified,
    )
    for item in stored.listings:
        listing = Listing(
            item["path"],
            item["conditions"],
            item["parent_id"],
            received=item["received"],
            parents_of_nested=item["parents"],
            unusable=item["unusable"],
        )
        if item["after_id"] is None:
            resume.done[_key(listing)] = listing
        else:
            resume.partial[_key(listing)] = (listing, item["after_id"])
    return resume


def checkpoint_clear(*, run: SyncRun) -> None:
    SyncCheckpoint.objects.filter(
        connection_id=run.connection_id, tier=run.tier, entity=run.entity, run_id=run.pk
    ).delete()


class Checkpointer:
    """Saves the run's checkpoint after each committed page (called by the page consumer).

    The tally is filled ahead by the prefetching producer: only listings up to the one of the
    page just committed are saved, the earlier ones as done, that one with its committed count."""

    def __init__(
        self,
        *,
        run: SyncRun,
        started_at: datetime,
        conditions: str | None,
        tally: ListingTally,
        tier_started_at: datetime | None = None,
    ):
        self.run, self.started_at, self.conditions, self.tally = run, started_at, conditions or "", tally
        self.tier_started_at = tier_started_at or started_at
        self.committed: dict[int, int] = {}  # id(listing) → records committed so far
        self.after_id: int | None = None
        self.created = False
        self._lock = getattr(tally, "_lock", threading.Lock())

    def restore(self, resume: Resume) -> None:
        self.created = True  # claimed: the row exists and is ours
        with self._lock:  # a nested entity lists its parents' ids again (one cheap request)
            self.tally.listings.extend(item for item in resume.done.values() if not item.parents_of_nested)
            self.tally.listings.extend(listing for listing, _ in resume.partial.values())
        for listing, _ in resume.partial.values():
            self.committed[id(listing)] = listing.received

    def page_committed(
        self, listing: Listing, page: list, *, newest_seen: datetime | None, unidentified: int
    ) -> None:
        self.committed[id(listing)] = self.committed.get(id(listing), 0) + len(page)
        last = _last_id(page)
        if last is None:  # nowhere safe to resume after: keep the previous checkpoint
            return
        self._save(listing, last, newest_seen=newest_seen, unidentified=unidentified)

    def _listings(self, current: Listing, after_id: int) -> list[dict]:
        with self._lock:
            listings = list(self.tally.listings)
        saved = []
        position = next(i for i, listing in enumerate(listings) if listing is current)
        for listing in listings[: position + 1]:
            is_current = listing is current
            saved.append(
                {
                    "path": listing.path,
                    "conditions": listing.conditions,
                    "parent_id": listing.parent_id,
                    "parents": listing.parents_of_nested,
                    "received": self.committed[id(listing)] if is_current else listing.received,
                    "unusable": listing.unusable,
                    "after_id": after_id if is_current else None,
                }
            )
        return saved

    def _save(
        self, current: Listing, after_id: int, *, newest_seen: datetime | None, unidentified: int
    ) -> None:
        values = {
            "listings": self._listings(current, after_id),
            "newest_seen": newest_seen,
            "unidentified": unidentified,
            "updated_at": timezone.now(),
        }
        key = {"connection_id": self.run.connection_id, "tier": self.run.tier, "entity": self.run.entity}
        if SyncCheckpoint.objects.filter(**key, run_id=self.run.pk).update(**values):
            return
        if self.created:
            raise LockLost(f"the checkpoint of {self.run.entity} was taken over by another run")
        try:
            with transaction.atomic():  # a savepoint: a failed insert leaves the caller's transaction usable
                SyncCheckpoint.objects.create(
                    **key,
                    run_id=self.run.pk,
                    started_at=self.started_at,
                    tier_started_at=self.tier_started_at,
                    conditions=self.conditions,
                    **values,
                )
        except IntegrityError:
            raise LockLost(f"another run saved a checkpoint of {self.run.entity}") from None
        self.created = True


def tier_resume_plan(
    *, connection_id: int, tier: str, entities: tuple[str, ...]
) -> tuple[datetime | None, tuple[str, ...]]:
    """(start of the interrupted tier run or None, the entities still to run) for a rerun of a
    whole tier: the entities before the checkpointed one that the interrupted tier run finished
    are skipped (the tier's next scheduled run covers them again)."""
    stored = (
        SyncCheckpoint.objects.filter(
            connection_id=connection_id,
            tier=tier,
            entity__in=entities,
            tier_started_at__isnull=False,
            started_at__gte=timezone.now() - RESUME_WITHIN,
        )
        .order_by("-updated_at")
        .first()
    )
    if stored is None or stored.tier_started_at is None:
        return None, entities
    before = entities[: entities.index(stored.entity)]
    finished = SyncRun.objects.filter(
        connection_id=connection_id,
        tier=tier,
        entity__in=before,
        status__in=[SyncRun.Status.SUCCEEDED, SyncRun.Status.REFUSED],
        started_at__gte=stored.tier_started_at,
    ).values_list("entity", flat=True)
    done = set(finished)
    return stored.tier_started_at, tuple(entity for entity in entities if entity not in done)
