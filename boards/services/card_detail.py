"""The whole ticket in the card dialog: its description, notes thread and time entries, and
fetching the notes of a card opened before the notes tier reached it."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cache

from boards.models import Opportunity, OpportunityNote, ServiceNote, Ticket, TimeEntry
from boards.services.actions import card_notes
from psa.catalog import NOTES
from psa.providers import provider_get
from sync.models import Connection

logger = logging.getLogger(__name__)

THREAD_LIMIT = 50
TIME_ENTRY_LIMIT = 30
_TICKET_CHARGES = ("ServiceTicket", "ProjectTicket")


@dataclass
class CardThread:
    """What the dialog shows below the card's header. `fetching`: the card's notes were never
    mirrored and a refresh has been asked for; the dialog polls until they arrive."""

    description: ServiceNote | None = None
    notes: list = field(default_factory=list)  # newest first, without the description
    time_entries: list[TimeEntry] = field(default_factory=list)
    fetching: bool = False

    @property
    def hours(self) -> float:
        return round(sum(entry.actual_hours or 0 for entry in self.time_entries), 2)


@cache
def _notes_fanned_out(provider: str, note_model: type) -> bool:
    """Whether this PSA's notes of such cards come by the per-card notes fan-out (ConnectWise):
    then a card may be mirrored before its notes. Otherwise (Autotask) they ride the same tiered
    runs and webhooks as the card itself, and a mirrored card's notes are already here."""
    catalog = provider_get(provider).catalog
    return any(e.tier == NOTES and e.mapping.model is note_model for e in catalog.entities.values())


def _fetching(connection_id: int, card: Ticket | Opportunity, note_model: type) -> bool:
    if card.notes_synced_at is not None:
        return False
    provider = Connection.objects.filter(pk=connection_id).values_list("provider", flat=True).get()
    return _notes_fanned_out(provider, note_model)


def _record_description(card: Ticket) -> ServiceNote | None:
    """Autotask keeps a ticket's (and a task's) description on the record itself: shown like
    ConnectWise's first note, dated when the ticket was entered (never saved as a note)."""
    text = str((card.raw or {}).get("description") or "").strip()
    if not text:
        return None
    return ServiceNote(ticket_psa_id=card.psa_id, text=text, date_created=card.date_entered)


def card_thread(*, connection_id: int, card: Ticket | Opportunity) -> CardThread:
    if isinstance(card, Opportunity):
        return CardThread(
            notes=card_notes(connection_id=connection_id, card=card, limit=THREAD_LIMIT),
            fetching=_fetching(connection_id, card, OpportunityNote),
        )
    notes = list(
        ServiceNote.objects.filter(connection_id=connection_id, ticket_psa_id=card.psa_id).order_by(
            "date_created", "psa_id"
        )
    )
    # ConnectWise: the ticket's initial description is its first "Discussion" note
    # (detailDescriptionFlag); everything after it is the thread.
    description = next((n for n in notes if n.detail_description and n.psa_id > 0), None)
    thread = [n for n in reversed(notes) if n is not description][:THREAD_LIMIT]
    description = description or _record_description(card)
    entries = TimeEntry.objects.filter(
        connection_id=connection_id, charge_to_psa_id=card.psa_id, charge_to_type__in=_TICKET_CHARGES
    ).order_by("-time_start", "-psa_id")[:TIME_ENTRY_LIMIT]
    return CardThread(
        description=description,
        notes=thread,
        time_entries=list(entries),
        fetching=_fetching(connection_id, card, ServiceNote),
    )


def card_notes_request(*, connection_id: int, card: Ticket | Opportunity) -> bool:
    """Ask the realtime queue for a single-record refresh of the card with its notes (coalesced
    with any other refresh of the same record). True when asked; False when nothing could be
    queued (the notes tier fetches them later)."""
    from sync.refresh_fallback import refresh_request_durably
    from sync.refresh_queue import NOTES_HINT
    from sync.tasks_realtime import enqueue_refresh

    kind = "opportunity" if isinstance(card, Opportunity) else "ticket"
    try:
        refresh_request_durably(
            connection_id=connection_id,
            kind=kind,
            psa_id=card.psa_id,
            hint=NOTES_HINT,
            enqueue=enqueue_refresh,
        )
    except Exception:  # the dialog must open even with the queue and its fallback down
        logger.warning("could not ask for the notes of %s %s", kind, card.psa_id, exc_info=True)
        return False
    return True
