"""Card markup built in Python: a 1,000-card board renders ~5x faster than a template loop.

The markup mirrors what `_columns.html` expects; every PSA-supplied string is escaped.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from html import escape

from django.utils.safestring import mark_safe

from boards.services.cards import Card, Column
from boards.services.psa_member import MyMember
from boards.services.write_state import WRITE_LABELS

# The card itself is the one tab stop (board.js moves it with the arrow keys): its buttons are
# for the pointer; from the keyboard, Enter opens the card and the shortcuts do the rest.
_ACTIONS = (
    '<div class="card-actions"><button type="button" tabindex="-1" data-action="open" title="Details and actions">Open</button>'
    '<button type="button" tabindex="-1" data-action="top" title="Send to top">Top</button>'
    '<button type="button" tabindex="-1" data-action="bottom" title="Send to bottom">Bottom</button></div>'
)


def card_html(card: Card, mine: MyMember | None = None) -> str:
    classes = "card"
    assigned_to_me = mine is not None and _assigned(card, mine.identifier)
    if assigned_to_me:
        classes += " mine"
    if card.customer_updated:
        classes += " customer-updated"
    if card.writeback_error:
        classes += " has-error"
    if card.write_kind:
        classes += f" write-{card.write_kind}"
    summary = escape(card.summary)
    # Company · people · PSA board (queue or project): only the parts the card has.
    meta = " · ".join(
        escape(part) for part in (card.company, ", ".join(card.people), card.psa_board_name) if part
    )
    if card.priority_color:
        classes += " has-prio"
    stripe = f' style="--prio:{card.priority_color}"' if card.priority_color else ""  # a validated hex colour
    priority = escape(card.priority)
    parts = [
        f'<li class="{classes}" data-psa-id="{card.psa_id}"{stripe} tabindex="-1" aria-label="{_name(card, assigned_to_me)}">',
        f'<div class="card-head"><span class="num">#{card.psa_id}</span>',
        f'<span class="prio" title="{priority}">{priority}</span>' if card.priority else "",
        f'<span class="my-initials" title="Assigned to you">{escape(mine.initials)}</span>'
        if assigned_to_me and mine is not None
        else "",
        f'</div><div class="summary">{summary}</div><div class="meta">{meta}</div>',
    ]
    if card.indicators:
        spans = "".join(
            f'<span class="ind {kind} {level}">{escape(text)}</span>' for kind, text, level in card.indicators
        )
        parts.append(f'<div class="indicators">{spans}</div>')
    if card.write_kind:
        parts.append(write_badge_html(card.write_kind, card.write_age))
    if card.writeback_error:
        parts.append(
            f'<div class="card-error" role="alert"><p>{escape(card.writeback_error)}</p>'
            '<button type="button" tabindex="-1" data-action="retry" title="Send the same change to the PSA again">'
            "Retry</button></div>"
        )
    parts.append(_ACTIONS)
    parts.append("</li>")
    return "".join(parts)


def _name(card: Card, assigned_to_me: bool) -> str:
    """The card's accessible name: what a dispatcher scans for, in the order they scan it."""
    words = [f"#{card.psa_id} {card.summary}"]
    words += [card.company] if card.company else []
    words += [f"priority {card.priority}"] if card.priority else []
    words += [card.sla] if card.sla else []
    words += ["assigned to you"] if assigned_to_me else []
    words += ["failed to save"] if card.writeback_error else []
    return escape(". ".join(words))


def _assigned(card: Card, identifier: str) -> bool:
    # `people` holds identifiers (resources, sales rep) or "owner x": an owner is not assigned.
    return identifier.lower() in (person.lower() for person in card.people)


def write_badge_html(kind: str, age_seconds: int) -> str:
    """The card's write state; board.js turns "pending" into "delayed" and hides "saved" as
    time passes (the age is in seconds at render time, so the browser's clock does not matter)."""
    delayed = escape(WRITE_LABELS["delayed"])
    return (
        f'<p class="card-write {kind}" data-write="{kind}" data-age="{age_seconds}"'
        f' data-delayed-label="{delayed}" role="status">{escape(WRITE_LABELS[kind])}</p>'
    )


def columns_with_html(layout: list[Column], mine: MyMember | None = None) -> list[Column]:
    """Attach each column's rendered cards as `cards_html` (safe markup); `mine` marks the
    cards of the user's PSA member with their initials."""
    for column in layout:
        column.card_markup = [card_html(card, mine) for card in column.cards]
        column.cards_html = mark_safe("".join(column.card_markup))  # noqa: S308 - every value escaped in card_html
    return layout


@contextmanager
def cycle_collector_paused() -> Iterator[None]:
    """Pause Python's cycle collector while a board is built and rendered.

    A 1,000-card board allocates ~10k short-lived containers, all freed by reference counting
    when the response is done. Collections in the middle of the render promote them to the
    old generation and, every few requests, trigger a full collection of the whole process
    (60-110 ms here), which is what dominated the p95. Nothing leaks: the collector resumes
    right after and catches any real cycles on its next run.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
