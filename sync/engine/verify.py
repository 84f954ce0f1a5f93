"""Is a full listing complete enough to delete by? Cross-checks against the PSA's own counts.

A short or empty answer looks like a normal end of paging (an empty list, a last page without a
next link), and deleting "what the listing did not return" after one deleted whole scopes (every
board, status, team, type ...) or thousands of tickets. So before a deleting tier prunes, every
listing the run made is compared with the PSA's `/count` for the same path and conditions
(endpoints.tsv has a count path for every collection the engine lists, nested ones per parent):

- fewer records than the PSA counts → incomplete, nothing is deleted. More is fine (records
  deleted or gone out of scope after the listing passed them; pruning only removes rows the
  listing did NOT return, so extra rows never cause a delete).
- an empty answer for a scope the mirror holds rows of → a second, confirming read (listing and
  count again); any record found then means the first answer was wrong: nothing is deleted.

Counted records include those that could not be mapped or parsed: they are in the PSA.

A record that enters the scope after the listing passed its id (a ticket reopened mid-listing)
makes the count one higher than the listing: that run deletes nothing and says so, the next run
normally matches. Deletes wait one run; nothing is lost. Counts are asked after the listing, so
records created meanwhile (new, higher ids) are normally listed as well.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from psa.providers import PSAClient

logger = logging.getLogger("sync.engine")

CONFIRM_PAGE_SIZE = 1000


@dataclass
class Listing:
    path: str
    conditions: str | None
    parent_id: int | None  # the parent of a nested listing (None: flat, or the parent ids)
    received: int = 0
    parents_of_nested: bool = False  # the ids listing that drives a nested entity
    unusable: int = 0  # parent records without a usable id: their children were not listed


@dataclass
class ListingTally:
    """What each listing of one run returned; filled by the page producer (a helper thread)."""

    listings: list[Listing] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(
        self, path: str, conditions: str | None, parent_id: int | None = None, *, parents: bool = False
    ) -> Listing:
        listing = Listing(path, conditions, parent_id, parents_of_nested=parents)
        with self._lock:
            self.listings.append(listing)
        return listing


@dataclass
class Verdict:
    problems: list[str] = field(default_factory=list)  # why deleting is unsafe; [] = complete
    notes: list[str] = field(default_factory=list)  # worth telling the operator all the same


def _read_again(client: PSAClient, listing: Listing) -> tuple[int, int]:
    """(records listed, PSA count) of a second read of the listing."""
    listed = sum(
        len(page)
        for page in client.iter_pages(
            listing.path,
            conditions=listing.conditions,
            fields=["id"],
            page_size=CONFIRM_PAGE_SIZE,
            keep_unparsable=True,
        )
    )
    return listed, client.count(listing.path, conditions=listing.conditions)


def _check_one(client: PSAClient, listing: Listing, mirror_holds_rows: bool, verdict: Verdict) -> None:
    # Reference: endpoints.tsv GET /{path}/count (same conditions), e.g. /service/tickets/count,
    # /service/boards/{parentId}/statuses/count.
    if listing.unusable:
        verdict.problems.append(
            f"{listing.path}: {listing.unusable} parent record(s) without a usable id, "
            "so their children could not be listed"
        )
    expected = client.count(listing.path, conditions=listing.conditions)
    if listing.received < expected:
        verdict.problems.append(
            f"{listing.path}: the listing returned {listing.received} of the {expected} records "
            "the PSA counts (incomplete answer)"
        )
        return
    if listing.received or not mirror_holds_rows:
        return
    listed, counted = _read_again(client, listing)
    if listed or counted:
        verdict.problems.append(
            f"{listing.path}: answered empty, but a second read found {listed} records "
            f"(the PSA counts {counted})"
        )
    else:
        verdict.notes.append(f"{listing.path}: empty, confirmed by a second read and the PSA's count")


def listings_verify(
    *, client: PSAClient, tally: ListingTally, mirror_holds_rows: Callable[[Listing], bool]
) -> Verdict:
    """Compare every listing of a run with the PSA's counts; see the module docstring."""
    verdict = Verdict()
    for listing in tally.listings:
        _check_one(client, listing, mirror_holds_rows(listing), verdict)
    if verdict.problems:
        logger.warning("incomplete listing: %s", "; ".join(verdict.problems))
    return verdict
