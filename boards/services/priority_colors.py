"""The PSA's priority colour as a CSS colour for the card's stripe.

ConnectWise names a priority's colour ("Red", "Orange", ... in older versions) or gives a hex
value; Autotask's priorities have none, so a connection whose priorities carry no colour at all
gets one per priority from the PSA's own priority order (most urgent red, then orange, yellow,
blue, grey). Only a validated hex colour ever reaches the markup, so a PSA value can never inject
CSS.
"""

from __future__ import annotations

import re

from django.db.models import F

from boards.models import Priority

# Named colours as stripes that read well on a white card (WCAG 1.4.11: ≥ 3:1 against white for
# the saturated ones; yellow is a stripe next to the priority's name, never the only signal).
NAMED = {
    "red": "#c9372c",
    "orange": "#e56910",
    "yellow": "#e2b203",
    "green": "#22a06b",
    "blue": "#1d7afc",
    "purple": "#8270db",
    "pink": "#e774bb",
    "teal": "#1d9aaa",
    "gray": "#8590a2",
    "grey": "#8590a2",
    "black": "#172b4d",
    "brown": "#8b5a2b",
}
_HEX = re.compile(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")


def css_colour(value: str | None) -> str:
    """A hex colour for a PSA priority colour, or "" when it is empty or not understood."""
    text = (value or "").strip()
    if not text:
        return ""
    if (match := _HEX.fullmatch(text)) is not None:
        return "#" + match.group(1).lower()
    return NAMED.get(text.lower().replace(" ", ""), "")


# Stripes by rank in the PSA's priority order, for PSAs whose priorities have no colour.
BY_RANK = ("red", "orange", "yellow", "blue", "gray")


def priority_colours(*, connection_id: int) -> dict[int, str]:
    """psa_id → stripe colour of the connection's priorities that have one (or, when none has,
    of its active priorities by their order in the PSA)."""
    rows = Priority.objects.filter(connection_id=connection_id).values_list("psa_id", "color")
    colours = {psa_id: colour for psa_id, value in rows if (colour := css_colour(value))}
    if colours:
        return colours
    ranked = (
        Priority.objects.filter(connection_id=connection_id, inactive=False)
        .order_by(F("sort_order").asc(nulls_last=True), "psa_id")
        .values_list("psa_id", flat=True)
    )
    return {psa_id: NAMED[BY_RANK[min(n, len(BY_RANK) - 1)]] for n, psa_id in enumerate(ranked)}
