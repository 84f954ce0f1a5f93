"""The SLA indicator shows the PSA's own SLA state (mirrored from the ticket), coloured only when
the next deadline is near (amber) or past (red); an SLA board orders cards by that deadline."""

from datetime import timedelta

import pytest

from boards.models import AutoRank, Indicator, Ticket
from boards.services.cards import board_layout

pytestmark = pytest.mark.usefixtures("frozen_now")


def _cards(board, now):
    return {card.psa_id: card for column in board_layout(board=board, now=now) for card in column.cards}


def _sla(card) -> list[tuple[str, str]]:
    return [(label, tone) for kind, label, tone in card.indicators if kind == "sla"]


@pytest.fixture
def sla_board(tenant):
    board = tenant["board"]
    board.indicators = [Indicator.SLA]
    board.save()
    return board


def _set(ticket, **values):
    Ticket.objects.filter(pk=ticket.pk).update(**values)


def test_it_shows_the_stage_and_deadline_the_psa_states(tenant, sla_board, frozen_now):
    far, near, past = tenant["tickets"][:3]
    _set(far, sla_status="Respond by ...", respond_by=frozen_now + timedelta(hours=5), is_in_sla=True)
    _set(near, sla_status="Resolve by ...", resolve_by=frozen_now + timedelta(minutes=90), is_in_sla=True)
    _set(past, sla_status="Plan by ...", plan_by=frozen_now - timedelta(hours=3), is_in_sla=False)
    cards = _cards(sla_board, frozen_now)
    assert _sla(cards[far.psa_id]) == [("Respond in 5h", "")]  # nothing to act on: no colour
    assert _sla(cards[near.psa_id]) == [("Resolve in 1h", "warn")]
    assert _sla(cards[past.psa_id]) == [("Plan overdue 3h", "bad")]


def test_it_shows_a_paused_clock_while_the_ticket_waits(tenant, sla_board, frozen_now):
    waiting = tenant["tickets"][0]
    _set(waiting, sla_status="Waiting", resolve_by=None, is_in_sla=True)
    assert _sla(_cards(sla_board, frozen_now)[waiting.psa_id]) == [("SLA paused: waiting", "")]


def test_it_says_out_of_sla_when_the_psa_does_and_nothing_without_sla_state(tenant, sla_board, frozen_now):
    missed, plain = tenant["tickets"][:2]
    _set(missed, sla_status="", is_in_sla=False)
    _set(plain, sla_status="", is_in_sla=None)
    cards = _cards(sla_board, frozen_now)
    assert _sla(cards[missed.psa_id]) == [("Out of SLA", "bad")]
    assert _sla(cards[plain.psa_id]) == []  # no wall-clock estimate: the PSA's state or nothing


def test_it_orders_an_sla_board_by_the_next_deadline(tenant, sla_board, frozen_now):
    tickets = tenant["tickets"]
    for offset, ticket in enumerate(tickets):
        _set(ticket, resolve_by=frozen_now + timedelta(hours=len(tickets) - offset))
    sla_board.auto_rank = AutoRank.SLA
    sla_board.save()
    ordered = [
        card.psa_id for column in board_layout(board=sla_board, now=frozen_now) for card in column.cards
    ]
    deadlines = {t.psa_id: len(tickets) - i for i, t in enumerate(tickets)}
    assert ordered == sorted(ordered, key=lambda psa_id: deadlines[psa_id])


def test_it_leaves_boards_without_the_sla_indicator_alone(tenant, frozen_now):
    board = tenant["board"]
    board.indicators = [Indicator.AGE]
    board.save()
    Ticket.objects.filter(connection=tenant["connection"]).update(resolve_by=frozen_now - timedelta(hours=1))
    assert all(_sla(card) == [] for card in _cards(board, frozen_now).values())


def test_it_skips_the_stages_autotask_says_are_met(tenant, sla_board, frozen_now):
    """Autotask states all three due dates from the start and when each stage was met: a met
    stage (or one a later stage made moot) is no deadline any more."""
    responded, resolved, fresh = tenant["tickets"][:3]
    due = {
        "respond_by": frozen_now - timedelta(days=3),
        "plan_by": frozen_now + timedelta(minutes=30),
        "resolve_by": frozen_now + timedelta(hours=20),
    }
    _set(responded, **due, date_responded=frozen_now - timedelta(days=4))
    _set(resolved, **due, date_resolved=frozen_now - timedelta(hours=1), is_in_sla=True)
    _set(fresh, **due)
    cards = _cards(sla_board, frozen_now)
    assert _sla(cards[responded.psa_id]) == [("Plan in 30m", "warn")]  # not "Respond overdue 3d"
    assert _sla(cards[resolved.psa_id]) == []  # resolved in time: nothing left to act on
    assert _sla(cards[fresh.psa_id]) == [("Respond overdue 3d", "bad")]
    _set(resolved, is_in_sla=False)  # serviceLevelAgreementHasBeenMet: false
    assert _sla(_cards(sla_board, frozen_now)[resolved.psa_id]) == [("Out of SLA", "bad")]
