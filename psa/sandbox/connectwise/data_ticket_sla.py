"""A plausible SLA history for each seeded service ticket, consistent with psa.sandbox.connectwise.sla.

Relative to the generator's anchor: most open tickets are within their SLA, some are close to
their deadline, a few are over; most closed ones were resolved within it. The stages a ticket
has met follow its status's escalationStatus (a closed status resolves). Stages are met at a
share of their goal; the rest of a ticket's working time was spent waiting (customers answer
late), which is what keeps old open tickets within their SLA, as on a real site.
"""

from __future__ import annotations

import random
from datetime import datetime

from psa.sandbox.connectwise.sla import (
    ESCALATION_STAGE,
    STAGE_FIELDS,
    STAGES,
    WAITING,
    WAITING_ESCALATION,
    Clock,
    SlaBook,
    parse_time,
)
from psa.sandbox.connectwise.store import record_time

# Shares of open tickets: within the SLA with room to spare, close to the deadline, over it.
IN_SLA, NEAR = 0.72, 0.14


def seeded_sla(
    book: SlaBook, ticket: dict, anchor: datetime, rng: random.Random, member: str
) -> tuple[dict, datetime | None]:
    """The computed SLA fields of a generated service ticket as of `anchor`, and when its last
    wait ended if that is after its lastUpdated (leaving a waiting status updates a ticket)."""
    clock = Clock(book, ticket)
    escalation = book.escalation((ticket.get("status") or {}).get("id"))
    closed = bool(ticket.get("closedFlag")) or escalation == "Resolved"
    end = parse_time(ticket.get("closedDate")) or parse_time(ticket["_info"]["lastUpdated"]) or anchor
    available = clock.origin.minutes_until(end)
    met: tuple[str, ...]
    if closed:
        met = STAGES
    elif escalation == WAITING_ESCALATION:
        met = STAGES[:1] if rng.random() < 0.75 else ()
    else:
        stage = ESCALATION_STAGE.get(escalation or "")
        met = STAGES[: STAGES.index(stage) + 1] if stage else ()
    minutes = _met_minutes(clock, met, available, rng)
    fields: dict = {}
    resumed = None
    for stage, on_clock in zip(met, minutes, strict=True):
        date_field, minutes_field, member_field, _ = STAGE_FIELDS[stage]
        # Never after the ticket's last update (or its closing): a ticket entered and closed on a
        # weekend met its stages before its clock could start.
        reached = clock.origin.after(on_clock) or end
        when = end if stage == "resolve" else min(reached, end)
        fields.update({date_field: record_time(when), minutes_field: on_clock, member_field: member})
    last = minutes[-1] if minutes else 0
    if closed:
        fields["minutesWaiting"] = max(available - last, 0)
    elif escalation == WAITING_ESCALATION:
        fields.update(slaStatus=WAITING, minutesBeforeWaiting=_wait_began(clock, met, last, available, rng))
    else:
        until_now = clock.origin.minutes_until(anchor)
        waited = _waited(clock, STAGES[len(met)], last, until_now, rng)
        fields["minutesWaiting"] = waited
        resumed = clock.origin.after(last + waited) if waited else None
    # Rendered as a later write would read the fields back; the clock keeps the start worked
    # out here (escalationStartDateUTC: the clock is not started twice).
    clock.restore({**ticket, **fields})
    return clock.render(anchor), resumed


def _share(rng: random.Random) -> float:
    """A stage met at this share of its goal: mostly in time, sometimes late."""
    return rng.uniform(0.15, 0.95) if rng.random() < 0.93 else rng.uniform(1.05, 1.6)


def _met_minutes(clock: Clock, met: tuple[str, ...], available: int, rng: random.Random) -> list[int]:
    """Minutes on the clock when each met stage was met: rising, and fitting in the ticket's life."""
    minutes, previous = [], 0
    for stage in met:
        goal = clock.goals.minutes(stage) or 60
        previous = max(previous, round(goal * _share(rng)))
        minutes.append(previous)
    if minutes and minutes[-1] > available:
        minutes = [value * available // minutes[-1] for value in minutes]
    return minutes


def _waited(clock: Clock, stage: str, last: int, until_now: int, rng: random.Random) -> int:
    """Waited minutes so the current stage's deadline lands where the wanted mix puts it; the
    wait follows the last met stage and ended before the anchor."""
    goal = clock.goals.minutes(stage) or 60
    draw = rng.random()
    if draw < IN_SLA:
        remaining = goal * rng.uniform(0.15, 0.9)
    elif draw < IN_SLA + NEAR:
        remaining = rng.uniform(5, 90)
    else:
        remaining = -rng.uniform(30, 3 * goal)
    on_clock_now = goal - round(remaining)
    return min(max(until_now - on_clock_now, 0), max(until_now - last, 0))


def _wait_began(clock: Clock, met: tuple[str, ...], last: int, available: int, rng: random.Random) -> int:
    """Minutes on the clock when the current wait began (mostly within the stage's goal)."""
    stage = STAGES[len(met)]
    goal = clock.goals.minutes(stage) or 60
    return min(max(round(goal * _share(rng)), last), max(available, last))
