"""A card's SLA as the PSA sees it: the PSA's own SLA state mirrored on the ticket.

ConnectWise counts SLA time in the business hours of the SLA's calendar and pauses it while the
ticket waits; it states the current stage's deadline in `slaStatus` ("Respond by ...", "Plan by
...", "Resolve by ...", or "Waiting"), which the mirror keeps as respond_by / plan_by / resolve_by
and `is_in_sla`. Autotask states every stage's due date from the start (firstResponseDueDateTime,
resolutionPlanDueDateTime, resolvedDueDateTime) beside when each stage was met, mirrored into the
same columns plus date_responded / date_resplan / date_resolved: a met stage (or one a later
stage's completion made moot) is no longer a deadline. The card shows that state, and colours it
only when it means something: amber when the next deadline is near, red when it has passed (or
the PSA says the ticket is out of SLA).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

NEAR = timedelta(hours=2)  # amber from this long before the deadline
# (deadline column, stage, the column saying when the stage was met), in the SLA's order
STAGES = (
    ("respond_by", "Respond", "date_responded"),
    ("plan_by", "Plan", "date_resplan"),
    ("resolve_by", "Resolve", "date_resolved"),
)
SLA_FIELDS = (
    "sla_status",
    "is_in_sla",
    "respond_by",
    "plan_by",
    "resolve_by",
    "date_responded",
    "date_resplan",
    "date_resolved",
)


@dataclass(frozen=True)
class SlaState:
    label: str
    tone: str  # "" (nothing to act on), "warn" (near), "bad" (past or out of SLA)
    deadline: datetime | None  # the next deadline, for ordering an SLA board


def next_deadline(row) -> tuple[str, datetime] | None:
    """(stage, when) of the earliest deadline the PSA states for a stage not met yet, if any.
    A stage counts as met once it or any later stage was (resolved implies responded)."""
    stated = []
    for index, (field, name, _met) in enumerate(STAGES):
        if any(getattr(row, met, None) is not None for _f, _n, met in STAGES[index:]):
            continue
        if (when := getattr(row, field, None)) is not None:
            stated.append((name, when))
    return min(stated, key=lambda pair: pair[1]) if stated else None


def sla_state(row, now: datetime, humanize) -> SlaState | None:
    """The card's SLA label, or None for a ticket without PSA SLA state."""
    status = (getattr(row, "sla_status", "") or "").strip()
    if status.lower().startswith("waiting"):
        return SlaState("SLA paused: waiting", "", None)
    due = next_deadline(row)
    if due is None:
        if getattr(row, "is_in_sla", None) is False:
            return SlaState("Out of SLA", "bad", None)
        return None
    stage, when = due
    left = (when - now).total_seconds()
    if left < 0:
        return SlaState(f"{stage} overdue {humanize(-left)}", "bad", when)
    tone = "warn" if left <= NEAR.total_seconds() else ""
    return SlaState(f"{stage} in {humanize(left)}", tone, when)
