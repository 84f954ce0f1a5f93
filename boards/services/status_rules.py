"""The statuses a ticket may take and a board may offer: the PSA's own rule, asked of its provider
(psa/providers.py BoardRules; ConnectWise: a status belongs to one service board)."""

from __future__ import annotations

from django.db.models import QuerySet

from boards.models import BoardStatus, Ticket
from psa.providers import BoardRules, provider_get
from sync.models import Connection


def _rules(connection_id: int) -> BoardRules:
    provider = Connection.objects.filter(pk=connection_id).values_list("provider", flat=True).get()
    return provider_get(provider).board_rules


def ticket_statuses(*, connection_id: int, ticket: Ticket) -> QuerySet[BoardStatus]:
    """The active statuses `ticket` may move to."""
    statuses = BoardStatus.objects.filter(connection_id=connection_id, inactive=False)
    return _rules(connection_id).ticket_statuses(statuses, ticket)


def board_statuses(*, connection_id: int, psa_board_ids: list[int]) -> QuerySet[BoardStatus]:
    """The statuses (active or not) a board over these PSA boards / queues can offer as columns."""
    statuses = BoardStatus.objects.filter(connection_id=connection_id)
    return _rules(connection_id).board_statuses(statuses, list(psa_board_ids))
