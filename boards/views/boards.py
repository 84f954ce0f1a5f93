"""Board pages: list, create, configure, the board itself and its live-polled columns."""

from __future__ import annotations

import hashlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from boards.live import mirror_version
from boards.models import Board, Priority
from boards.services.access import board_get_for_user, boards_for_user, user_connection_ids
from boards.services.cards import Column, UserFilters, board_layout, int_or_none
from boards.services.config import board_column_problems, board_columns_set, board_create
from boards.services.filters import (
    filters_in_query,
    picked_company,
    picked_member,
    saved_filters_get,
    saved_filters_set,
)
from boards.services.psa_member import MyMember, user_my_member
from boards.services.write_state import DELAYED_AFTER, SAVED_SHOWN_FOR
from boards.views.forms import BoardCreateForm, BoardSettingsForm, ColumnFormSet, column_status_offer
from boards.views.live_diff import (
    SINCE_HEADER,
    SNAPSHOT_HEADER,
    board_diff,
    board_snapshot,
    snapshot_load,
    snapshot_save,
)
from boards.views.rendering import columns_with_html, cycle_collector_paused

POLL_INTERVAL_MS = 1000  # well inside the 2 s budget; a 304 costs one cache read


@login_required
def board_list(request: HttpRequest) -> HttpResponse:
    boards = boards_for_user(request.user).order_by("connection__name", "name")
    return render(
        request,
        "boards/board_list.html",
        {"boards": boards, "has_connections": bool(user_connection_ids(request.user))},
    )


@login_required
def board_switcher(request: HttpRequest) -> HttpResponse:
    """The header's board menu (loaded when it is first opened, on every page)."""
    boards = (
        boards_for_user(request.user)
        .order_by("connection__name", "name")
        .only("id", "name", "kind", "connection__name")
    )
    return render(
        request,
        "boards/_switcher.html",
        {"boards": boards, "current": int_or_none(request.GET.get("current"))},
    )


@login_required
@require_http_methods(["GET", "POST"])
def board_new(request: HttpRequest) -> HttpResponse:
    form = BoardCreateForm(request.POST or None, connection_ids=user_connection_ids(request.user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        board = board_create(
            connection_id=data["connection"].id,
            name=data["name"],
            user=request.user,
            kind=data["kind"],
            column_source=data["column_source"],
        )
        messages.success(request, "Board created with one column per PSA status; adjust it below.")
        return redirect("boards:edit", board_id=board.id)
    return render(request, "boards/board_new.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def board_edit(request: HttpRequest, board_id: int) -> HttpResponse:
    """The column mapper: settings and filters, then columns dragged into order, each with its
    statuses and an optional WIP limit. Nothing is saved while any part is wrong."""
    board = board_get_for_user(user=request.user, board_id=board_id)
    settings_form = BoardSettingsForm(request.POST or None, instance=board)
    columns = ColumnFormSet(
        request.POST or None,
        initial=[
            {"name": c.name, "psa_ids": c.psa_ids, "wip_limit": c.wip_limit, "ORDER": c.position + 1}
            for c in board.columns.all()
        ],
        prefix="col",
        form_kwargs={"offer": column_status_offer(board), "stages": board.column_field == "stage_psa_id"},
    )
    problems: list[str] = []
    if request.method == "POST" and settings_form.is_valid() and columns.is_valid():
        specs = [
            (f.cleaned_data["name"], f.cleaned_data["psa_ids"], f.cleaned_data.get("wip_limit"))
            for f in columns.ordered_forms
        ]
        problems = board_column_problems(
            connection_id=board.connection_id,
            kind=board.kind,
            column_source=board.column_source,
            psa_board_ids=settings_form.cleaned_data.get("psa_board_ids") or [],
            columns=specs,
        )
        if not problems:
            with transaction.atomic():
                settings_form.save()
                board_columns_set(board=board, columns=specs)
            messages.success(request, "Board saved.")
            return redirect("boards:board", board_id=board.id)
    return render(
        request,
        "boards/board_edit.html",
        {
            "board": board,
            "form": settings_form,
            "columns": columns,
            "problems": problems + _form_problems(settings_form, columns),
        },
    )


def _form_problems(settings_form, columns) -> list[str]:
    """Every error of the page in one list, shown at the top (each is also shown at its field)."""
    if not settings_form.is_bound:
        return []
    found = [str(e) for errors in settings_form.errors.values() for e in errors]
    found += [str(e) for e in columns.non_form_errors()]
    for form in columns.forms:
        found += [str(e) for errors in form.errors.values() for e in errors]
    return list(dict.fromkeys(found))


@login_required
def board_page(request: HttpRequest, board_id: int) -> HttpResponse:
    board = board_get_for_user(user=request.user, board_id=board_id)
    if filters_in_query(request.GET):
        saved_filters_set(user=request.user, board=board, filters=UserFilters.from_query(request.GET))
    elif not request.GET and (saved := saved_filters_get(user=request.user, board=board)):
        return redirect(f"{request.path}?{saved}")  # the filters this user left the board with
    filters = UserFilters.from_query(request.GET)
    etag = board_etag(request, board)  # read before the layout: a change during rendering re-polls
    with cycle_collector_paused():
        context = _board_context(board, filters, etag, request.user)
        snapshot = board_snapshot(context["layout"], no_matches=context["no_matches"])
        context["snapshot"] = snapshot_save(board_id=board.id, user_id=request.user.pk, snapshot=snapshot)
        return render(request, "boards/board.html", context)


def _marked_layout(board: Board, filters: UserFilters, user) -> tuple[MyMember | None, list[Column]]:
    """The board's columns with their cards rendered, the user's own cards marked."""
    me = user_my_member(user=user, connection_id=board.connection_id)
    return me, columns_with_html(board_layout(board=board, filters=filters), me)


def _board_context(board: Board, filters: UserFilters, etag: str, user) -> dict:
    me, layout = _marked_layout(board, filters, user)
    return {
        "board": board,
        "me": me,
        "my_cards": me is not None and filters.member.lower() == me.identifier.lower(),
        "filters": filters,
        "etag": etag,
        "poll_ms": POLL_INTERVAL_MS,
        "delayed_after": int(DELAYED_AFTER.total_seconds()),
        "saved_for": int(SAVED_SHOWN_FOR.total_seconds()),
        "layout": layout,
        "no_matches": no_matches(layout, filters),
        # The pickers search the server (boards/views/filters.py); only the chosen ones are here.
        "member": picked_member(board=board, identifier=filters.member),
        "company": picked_company(board=board, psa_id=filters.company),
        "priorities": Priority.objects.filter(connection_id=board.connection_id).only("psa_id", "name"),
    }


def no_matches(layout: list, filters: UserFilters) -> bool:
    """The user's filters hide every card of the board: the page says so and offers to clear them."""
    return filters.active and bool(layout) and not any(column.cards for column in layout)


def board_etag(request: HttpRequest, board: Board) -> str:
    """Changes when the mirror of the board's connection, the board, or the user's filters change.

    With the cache down the version is "offline": polls then get 304 (nothing to compare with),
    and the first poll after the cache returns sees a new ETag and redraws the board."""
    version = mirror_version(connection_id=board.connection_id)
    if version is None:
        version = "offline"
    filters = hashlib.sha1(request.GET.urlencode().encode()).hexdigest()[:10]
    return f'"{version}-{int(board.updated_at.timestamp() * 1000)}-{filters}"'


@login_required
def board_columns(request: HttpRequest, board_id: int) -> HttpResponse:
    """The columns, polled with If-None-Match: 304 from the cache counter alone. A browser that
    names the snapshot it shows (X-Board-Since) gets a JSON diff against it (boards/views/live_diff.py)
    instead of every card again, when one will do."""
    board = board_get_for_user(user=request.user, board_id=board_id)
    etag = board_etag(request, board)
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponseNotModified()
    else:
        filters = UserFilters.from_query(request.GET)
        if filters_in_query(request.GET):  # chosen on the page without a reload: remember them
            saved_filters_set(user=request.user, board=board, filters=filters)
        with cycle_collector_paused():
            _, layout = _marked_layout(board, filters, request.user)
            matches = no_matches(layout, filters)
            snapshot = board_snapshot(layout, no_matches=matches)
            shown = snapshot_load(
                board_id=board.id, user_id=request.user.pk, name=request.headers.get(SINCE_HEADER, "")
            )
            diff = board_diff(shown, snapshot, layout) if shown is not None else None
            if diff is not None:
                response = JsonResponse({"diff": diff})
            else:
                response = render(
                    request,
                    "boards/_columns.html",
                    {"board": board, "layout": layout, "no_matches": matches},
                )
            response[SNAPSHOT_HEADER] = snapshot_save(
                board_id=board.id, user_id=request.user.pk, snapshot=snapshot
            )
    response["ETag"] = etag
    response["Cache-Control"] = "no-store"
    return response
