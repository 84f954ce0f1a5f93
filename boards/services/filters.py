"""A user's own board filters: remembered per user and board, and the pickers' server search."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from boards.models import Board, Company, Member, SavedFilters
from boards.services.cards import UserFilters

FILTER_KEYS = ("member", "company", "priority", "q")
PICK_LIMIT = 20


def filters_in_query(query) -> bool:
    """Whether a request names any filter (even empty: `?q=` is "no filters", chosen)."""
    return any(key in query for key in FILTER_KEYS)


def saved_filters_get(*, user, board: Board) -> str:
    """The query string this user last filtered this board with ("" for none)."""
    row = SavedFilters.objects.filter(user=user, board=board).values_list("query", flat=True).first()
    return row or ""


def saved_filters_set(*, user, board: Board, filters: UserFilters) -> None:
    """Remember the filters (forget them when none is set); writes only when they changed."""
    query = filters.as_query()
    if saved_filters_get(user=user, board=board) == query:
        return
    if query:
        SavedFilters.objects.update_or_create(user=user, board=board, defaults={"query": query})
    else:
        SavedFilters.objects.filter(user=user, board=board).delete()


def _words(text: str) -> list[str]:
    return text.replace("\x00", "").split()[:5]


def companies_matching(*, board: Board, text: str) -> list[dict]:
    """Up to PICK_LIMIT companies of the board's connection whose name or identifier has every
    word of `text`, names starting with the text first."""
    qs: QuerySet[Company] = Company.objects.filter(connection_id=board.connection_id)
    for word in _words(text):
        qs = qs.filter(Q(name__icontains=word) | Q(identifier__icontains=word))
    rows = qs.order_by("name", "psa_id").values_list("psa_id", "name", "identifier")[: PICK_LIMIT * 5]
    prefix = text.strip().lower()
    ordered = sorted(rows, key=lambda r: not (r[1].lower().startswith(prefix) or r[2].lower() == prefix))
    return [
        {"value": str(psa_id), "text": name, "identifier": identifier}
        for psa_id, name, identifier in ordered[:PICK_LIMIT]
    ]


def members_matching(*, board: Board, text: str) -> list[dict]:
    """Up to PICK_LIMIT active members of the board's connection by name or identifier."""
    qs: QuerySet[Member] = Member.objects.filter(connection_id=board.connection_id, inactive=False)
    for word in _words(text):
        qs = qs.filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(identifier__icontains=word)
        )
    return [
        {"value": m.identifier, "text": m.full_name, "identifier": m.identifier}
        for m in qs.exclude(identifier="").order_by("first_name", "last_name", "identifier")[:PICK_LIMIT]
    ]


def picked_company(*, board: Board, psa_id: int | None) -> Company | None:
    if psa_id is None:
        return None
    return (
        Company.objects.filter(connection_id=board.connection_id, psa_id=psa_id)
        .only("psa_id", "name")
        .first()
    )


def picked_member(*, board: Board, identifier: str) -> Member | None:
    if not identifier:
        return None
    return Member.objects.filter(connection_id=board.connection_id, identifier__iexact=identifier).first()
