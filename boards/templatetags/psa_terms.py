"""`{% psa_terms board as terms %}`: the board's PSA's own words (psa.providers.Terms), so an
Autotask board says "resource" and "queue" where a ConnectWise board says "member" and "PSA board"."""

from __future__ import annotations

from django import template

from psa.providers import Terms, UnknownProvider, provider_get

register = template.Library()


@register.simple_tag
def psa_terms(board) -> Terms:
    # The views load boards with their connection (board_get_for_user): no query per use.
    try:
        return provider_get(board.connection.provider).terms
    except UnknownProvider:
        return Terms()
