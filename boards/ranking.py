"""One manual card order per connection, kept as fractional-indexing keys.

Order of a kind (tickets, or opportunities) within a connection: cards with a CardRank row
by key (byte order), then cards without one by PSA id (PSA ids grow, so new cards start at the
bottom). A move writes exactly one row: the moved card's key, placed immediately after the
card above it in the *global* order (or immediately before the card below it), so the card
lands between its visible neighbours on this board and every other board of the connection
agrees. Moves of one (connection, kind) are serialised by a transaction-scoped advisory lock
on PostgreSQL; the unique constraint on the key is the backstop (retried).
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterable

from django.db import IntegrityError, connection, transaction
from fractional_indexing import generate_key_between, generate_n_keys_between

from boards.models import CardRank, Opportunity, Ticket

logger = logging.getLogger(__name__)

# Keys grow by about one character per repeated insert at the same spot; past this length the
# kind's keys are rewritten evenly (rare, and still one statement pair).
MAX_KEY_LENGTH = 48
_LOCK_NAMESPACE = zlib.crc32(b"topleft.cardrank") & 0x7FFFFFFF
_ATTEMPTS = 3


class RankError(ValueError):
    """A move that cannot be applied (unknown neighbour, card placed next to itself)."""


def kind_model(kind: str):
    return Opportunity if kind == CardRank.Kind.OPPORTUNITY else Ticket


def rank_keys(*, connection_id: int, kind: str, psa_ids: Iterable[int]) -> dict[int, str]:
    """The rank key of each ranked card among `psa_ids` (unranked cards are absent)."""
    return dict(
        CardRank.objects.filter(connection_id=connection_id, kind=kind, psa_id__in=list(psa_ids)).values_list(
            "psa_id", "key"
        )
    )


def rank_sort_key(keys: dict[int, str]):
    """A sort key for card psa ids: ranked by key (Python compares code points = bytes), then by id."""

    def sort_key(psa_id: int):
        key = keys.get(psa_id)
        return (0, key, psa_id) if key is not None else (1, "", psa_id)

    return sort_key


def card_rank_place(
    *,
    connection_id: int,
    kind: str,
    psa_id: int,
    above_psa_id: int | None = None,
    below_psa_id: int | None = None,
) -> str:
    """Put a card right after `above_psa_id` (or right before `below_psa_id`); returns its key.

    Give the visible neighbours after the drop: `above` wins when both are given, since the
    card goes immediately after it globally, which is also before `below`.
    """
    if psa_id in (above_psa_id, below_psa_id):
        raise RankError("a card cannot be placed next to itself")
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            with transaction.atomic():
                _lock_kind(connection_id, kind)
                return _place_locked(connection_id, kind, psa_id, above_psa_id, below_psa_id)
        except IntegrityError:
            # Only reachable without the advisory lock (SQLite) or if someone writes ranks
            # outside this module: re-read the neighbours and try again.
            logger.warning("rank key collision for %s %s (attempt %d)", kind, psa_id, attempt)
            if attempt == _ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _lock_kind(connection_id: int, kind: str) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite serialises writers on its own
    kind_code = 1 if kind == CardRank.Kind.OPPORTUNITY else 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, connection_id * 2 + kind_code]
        )


def _place_locked(connection_id, kind, psa_id, above_psa_id, below_psa_id) -> str:
    ranks = CardRank.objects.filter(connection_id=connection_id, kind=kind).exclude(psa_id=psa_id)
    if above_psa_id is not None:
        lo = _key_of(ranks, above_psa_id) or _materialize_through(connection_id, kind, above_psa_id)
        hi = ranks.filter(key__gt=lo).order_by("key").values_list("key", flat=True).first()
    else:
        hi = _key_of(ranks, below_psa_id) if below_psa_id is not None else None
        if hi is not None:
            lo = ranks.filter(key__lt=hi).order_by("-key").values_list("key", flat=True).first()
        else:
            # Top of a column whose cards are all unranked (or an empty column): the card goes
            # to the end of the ranked cards, which is above every unranked card.
            lo = ranks.order_by("-key").values_list("key", flat=True).first()
    key = generate_key_between(lo, hi)
    if len(key) > MAX_KEY_LENGTH:
        return _rebalance(connection_id, kind, psa_id, after_key=lo)
    _write_key(connection_id, kind, psa_id, key)
    return key


def _key_of(ranks, psa_id: int) -> str | None:
    return ranks.filter(psa_id=psa_id).values_list("key", flat=True).first()


def _write_key(connection_id: int, kind: str, psa_id: int, key: str) -> None:
    """The single row a move writes."""
    updated = CardRank.objects.filter(connection_id=connection_id, kind=kind, psa_id=psa_id).update(key=key)
    if not updated:
        CardRank.objects.create(connection_id=connection_id, kind=kind, psa_id=psa_id, key=key)


def _materialize_through(connection_id: int, kind: str, psa_id: int) -> str:
    """Rank every unranked card up to `psa_id` (in id order, after the ranked ones); return its key.

    Needed once when a card is dropped below a card that has never been ranked, so that the
    unranked cards keep their relative order.
    """
    model = kind_model(kind)
    ranked = CardRank.objects.filter(connection_id=connection_id, kind=kind)
    ranked_ids = ranked.values("psa_id")
    pending = list(
        model.objects.filter(connection_id=connection_id, psa_id__lte=psa_id)
        .exclude(psa_id__in=ranked_ids)
        .order_by("psa_id")
        .values_list("psa_id", flat=True)
    )
    if not pending or pending[-1] != psa_id:
        raise RankError(f"unknown card {psa_id}")
    last = ranked.order_by("-key").values_list("key", flat=True).first()
    keys = generate_n_keys_between(last, None, len(pending))
    CardRank.objects.bulk_create(
        [
            CardRank(connection_id=connection_id, kind=kind, psa_id=p, key=k)
            for p, k in zip(pending, keys, strict=True)
        ]
    )
    return keys[-1]


def _rebalance(connection_id: int, kind: str, psa_id: int, *, after_key: str | None) -> str:
    """Rewrite all keys of the kind evenly, with `psa_id` placed right after `after_key`."""
    rows = CardRank.objects.filter(connection_id=connection_id, kind=kind)
    ranked = [(p, k) for p, k in rows.order_by("key").values_list("psa_id", "key") if p != psa_id]
    order = [p for p, _ in ranked]
    position = sum(1 for _, k in ranked if after_key is not None and k <= after_key)
    order.insert(position, psa_id)
    keys = generate_n_keys_between(None, None, len(order))
    # Delete + insert: an in-place rewrite would trip the unique key constraint midway.
    rows.delete()
    CardRank.objects.bulk_create(
        [
            CardRank(connection_id=connection_id, kind=kind, psa_id=p, key=k)
            for p, k in zip(order, keys, strict=True)
        ]
    )
    logger.info("rebalanced %d %s ranks for connection %s", len(order), kind, connection_id)
    return keys[position]
