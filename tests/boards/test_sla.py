"""SLA remaining: estimated from the ticket's SLA + priority resolution hours (ConnectWise gives no deadline)."""

from datetime import timedelta

from django.utils import timezone

from boards.models import AutoRank, Indicator, SLAPriority, Ticket
from boards.services.cards import board_layout, humanize_duration


def _cards(board, now):
    return {card.psa_id: card for column in board_layout(board=board, now=now) for card in column.cards}


def _sla_labels(card) -> list[str]:
    return [label for kind, label, _ in card.indicators if kind == "sla"]


def test_it_estimates_the_deadline_from_the_sla_priority(tenant):
    board, first, second = tenant["board"], tenant["tickets"][0], tenant["tickets"][1]
    now = timezone.now()
    SLAPriority.objects.create(
        connection=tenant["connection"], psa_id=1, sla_psa_id=5, priority_psa_id=1, resolution_hours=8
    )
    Ticket.objects.filter(pk=first.pk).update(sla_psa_id=5, date_entered=now - timedelta(hours=2))
    Ticket.objects.filter(pk=second.pk).update(sla_psa_id=5, date_entered=now - timedelta(hours=30))
    board.indicators = [Indicator.SLA]
    board.save()

    cards = _cards(board, now)

    assert _sla_labels(cards[first.psa_id]) == [f"SLA {humanize_duration(6 * 3600)} left"]
    # The second ticket has priority 2, which this SLA does not cover: no estimate, no indicator.
    assert _sla_labels(cards[second.psa_id]) == []


def test_it_shows_overdue_and_orders_an_sla_board_by_deadline(tenant):
    board, tickets = tenant["board"], tenant["tickets"]
    now = timezone.now()
    SLAPriority.objects.create(
        connection=tenant["connection"], psa_id=1, sla_psa_id=5, priority_psa_id=1, resolution_hours=4
    )
    SLAPriority.objects.create(
        connection=tenant["connection"], psa_id=2, sla_psa_id=5, priority_psa_id=2, resolution_hours=48
    )
    Ticket.objects.filter(connection=tenant["connection"]).update(sla_psa_id=5)
    board.indicators = [Indicator.SLA]
    board.auto_rank = AutoRank.SLA
    board.save()

    columns = board_layout(board=board, now=now)
    ordered = [card.psa_id for column in columns for card in column.cards]
    deadlines = {
        t.psa_id: t.date_entered + timedelta(hours=4 if t.priority_psa_id == 1 else 48)
        for t in tickets
        if t.psa_id in ordered
    }
    assert ordered == sorted(ordered, key=lambda psa_id: (deadlines[psa_id], psa_id))
    oldest_p1 = max(
        (t for t in tickets if t.priority_psa_id == 1 and t.psa_id in ordered),
        key=lambda t: now - t.date_entered,
    )
    assert _sla_labels(_cards(board, now)[oldest_p1.psa_id])[0].startswith("SLA overdue")


def test_it_leaves_boards_without_the_sla_indicator_alone(tenant):
    board = tenant["board"]
    board.indicators = [Indicator.AGE]
    board.save()
    SLAPriority.objects.create(
        connection=tenant["connection"], psa_id=1, sla_psa_id=5, priority_psa_id=1, resolution_hours=4
    )
    Ticket.objects.filter(connection=tenant["connection"]).update(sla_psa_id=5)
    cards = _cards(board, timezone.now())
    assert all(_sla_labels(card) == [] for card in cards.values())
