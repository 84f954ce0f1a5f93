"""The filter pickers' server search: a few matches by name or identifier, as JSON."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from boards.services.access import board_get_for_user
from boards.services.filters import companies_matching, members_matching

PICKERS = {"companies": companies_matching, "members": members_matching}


@login_required
@require_GET
def board_pick(request: HttpRequest, board_id: int, kind: str) -> JsonResponse:
    """Companies or members of the board's connection matching `q` (404 for another tenant's board)."""
    board = board_get_for_user(user=request.user, board_id=board_id)
    matching = PICKERS.get(kind)
    if matching is None:
        raise Http404("No such picker")
    text = (request.GET.get("q") or "")[:100]
    return JsonResponse({"results": matching(board=board, text=text)})
