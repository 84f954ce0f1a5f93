"""`{% psa_terms board as terms %}`: the board's PSA's own words (psa.providers.Terms), so an
Autotask board says "resource" and "queue" where a ConnectWise board says "member" and "PSA board"."""

from __future__ import annotations

from django import template

from psa.providers import Terms, UnknownProvider, provider_get
from sync.models import Connection

register = template.Library()


@register.simple_tag
def psa_terms(board) -> Terms:
    provider = Connection.objects.filter(pk=board.connection_id).values_list("provider", flat=True).first()
    try:
        return provider_get(provider or "").terms
    except UnknownProvider:
        return Terms()
