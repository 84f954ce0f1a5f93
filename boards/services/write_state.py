"""What a card shows about its own edits on their way to the PSA (the write-back outbox).

- pending: an outbox entry of the card is not done yet;
- delayed: the oldest unfinished entry is older than DELAYED_AFTER (the PSA or the broker is
  slow; the sweeper will still deliver it, so the user need not do anything);
- saved: an entry reached the PSA within the last SAVED_SHOWN_FOR (a brief confirmation);
- failed: the PSA rejected the card's last edit (the card's `writeback_error`); the entry is
  named so that Retry can re-queue that same change.

Ages are sent to the browser as seconds at render time, not as timestamps, so the browser's own
clock (possibly wrong) never decides when "pending" turns into "delayed".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q

from sync.models import OutboxEntry

DELAYED_AFTER = timedelta(seconds=30)
SAVED_SHOWN_FOR = timedelta(seconds=6)
# "Saved" is looked up among entries created this recently (created_at is indexed, done_at is
# not): an edit delivered more than a day late simply does not flash "saved".
_SAVED_LOOKBACK = timedelta(days=1)

State = OutboxEntry.State


@dataclass(frozen=True)
class WriteState:
    kind: str  # pending | delayed | saved
    age_seconds: int  # since the edit was made (pending, delayed) or reached the PSA (saved)

    @property
    def label(self) -> str:
        return WRITE_LABELS[self.kind]


WRITE_LABELS = {
    "pending": "Sending to the PSA…",
    "delayed": "Delivery delayed: the PSA is slow, it will be sent",
    "saved": "Saved to the PSA",
}


def outbox_kind(*, is_opportunity: bool) -> str:
    return OutboxEntry.Kind.OPPORTUNITY if is_opportunity else OutboxEntry.Kind.TICKET


def card_write_states(*, connection_id: int, kind: str, now: datetime) -> dict[int, WriteState]:
    """The in-flight or just-saved state of every card of the connection that has one.

    One indexed query whatever the board's size (it runs on every board render): unfinished
    entries are few, and only today's entries are looked at for "saved"."""
    rows = (
        OutboxEntry.objects.filter(connection_id=connection_id, kind=kind)
        .filter(
            Q(state__in=[State.PENDING, State.SENDING])
            | Q(state=State.DONE, created_at__gte=now - _SAVED_LOOKBACK, done_at__gte=now - SAVED_SHOWN_FOR)
        )
        .values_list("psa_id", "state", "created_at", "done_at")
    )
    oldest_unfinished: dict[int, datetime] = {}
    last_saved: dict[int, datetime] = {}
    for psa_id, state, created_at, done_at in rows:
        if state == State.DONE:
            last_saved[psa_id] = max(done_at, last_saved.get(psa_id, done_at))
        else:
            oldest_unfinished[psa_id] = min(created_at, oldest_unfinished.get(psa_id, created_at))
    states = {psa_id: WriteState("saved", _seconds(now - done)) for psa_id, done in last_saved.items()}
    for psa_id, oldest in oldest_unfinished.items():  # an edit on its way wins over a saved one
        age = now - oldest
        states[psa_id] = WriteState("delayed" if age >= DELAYED_AFTER else "pending", _seconds(age))
    return states


def card_failed_entry(*, connection_id: int, kind: str, psa_id: int) -> OutboxEntry | None:
    """The card's most recent edit the PSA rejected (what its `writeback_error` is about)."""
    return (
        OutboxEntry.objects.filter(connection_id=connection_id, kind=kind, psa_id=psa_id, state=State.FAILED)
        .order_by("-id")
        .first()
    )


def _seconds(delta: timedelta) -> int:
    return max(0, int(delta.total_seconds()))
