"""Sync status pages for operators: `/sync/` lists the connections, `/sync/connections/<id>/`
shows one connection's tiers, failures, mirror counts and the last day's runs, and a POST to
`/sync/connections/<id>/run/` queues a tier now ("sync now").

Who may look: staff users see every connection; other users only the connections where their
membership has the admin role (boards.models.Membership). Anyone else gets a 404, so the page
does not reveal which connections exist.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from boards.models import Membership
from psa.providers import provider_names
from sync.locks import tier_running_until
from sync.models import Connection
from sync.tiers import TIERS, tier_get
from sync.views.chart import runs_chart
from sync.views.status_data import psa_header, status_page_context


def operable_connections(user):
    """The connections `user` may operate: all for staff, else those where they are an admin."""
    connections = Connection.objects.order_by("name")
    if user.is_staff:
        return connections
    admin_of = Membership.objects.filter(user=user, role=Membership.Role.ADMIN).values("connection_id")
    return connections.filter(pk__in=admin_of)


def _connection_for(request: HttpRequest, connection_id: int) -> Connection:
    return get_object_or_404(operable_connections(request.user), pk=connection_id)


@login_required
def status_index(request: HttpRequest) -> HttpResponse:
    connections = list(operable_connections(request.user))
    if not connections and not request.user.is_staff:
        raise Http404("No connection to operate")
    rows = [{"connection": c, "psa": psa_header(c)} for c in connections]
    return render(request, "sync/status_index.html", {"rows": rows})


@login_required
def connection_status(request: HttpRequest, connection_id: int) -> HttpResponse:
    connection = _connection_for(request, connection_id)
    context = status_page_context(connection=connection)
    context["chart"] = runs_chart(connection=connection, now=context["now"])
    return render(request, "sync/connection_status.html", context)


def tier_enqueue(*, connection: Connection, tier: str) -> None:
    """Queue one run of `tier` for the connection once the current transaction commits; the
    same Celery task and queue the beat dispatcher uses (sync/tasks.py)."""
    from sync.tasks import connection_tier_enqueue

    transaction.on_commit(lambda: connection_tier_enqueue(connection_id=connection.pk, tier=tier))


def _refusal(connection: Connection, tier: str) -> str:
    """Why a manual run cannot be queued now, or ''."""
    if not connection.enabled:
        return f"{connection.name} is disabled: enable it before syncing."
    if connection.provider not in provider_names():
        return f"{connection.name} uses {connection.provider!r}, a PSA this installation does not know."
    running_until = tier_running_until(connection_id=connection.pk, tier=tier)
    if running_until:
        return f"The {tier} tier is already running for {connection.name}; not queued again."
    return ""


@login_required
@require_POST
def tier_sync_now(request: HttpRequest, connection_id: int) -> HttpResponse:
    connection = _connection_for(request, connection_id)
    tier = request.POST.get("tier", "")
    if tier not in TIERS:
        messages.error(request, f"Unknown tier {tier!r}.")
    elif refusal := _refusal(connection, tier):
        messages.warning(request, refusal)
    else:
        tier_enqueue(connection=connection, tier=tier)
        messages.success(
            request,
            f"Queued the {tier} tier for {connection.name} on the "
            f"{tier_get(tier).queue} queue; this page shows it once it has run.",
        )
    return redirect("sync:connection-status", connection_id=connection.pk)
