"""Seeded reference data: boards (+ statuses, teams, types, subtypes, items), priorities, SLAs,
calendars, holidays, locations, company/opportunity/project/schedule statuses and types."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from functools import cache

from psa.connectwise.spec import model_fields
from psa.sandbox.connectwise.refs import RefBuilder
from psa.sandbox.connectwise.schema import spec_for
from psa.sandbox.connectwise.store import SandboxStore, record_time

BOARD_NAMES = (
    "Help Desk",
    "Service Desk — Tier 2",
    "Projects",
    "Alerts 🚨",
    "Onboarding",
    "Field Services",
    "Réseau & Sécurité",
    "Escalations",
    "Managed Services",
    "Procurement",
)
# (name, closedStatus, defaultFlag, inactive, escalationStatus: the SLA stage a ticket moved there
# has met; NoEscalation = waiting, the SLA clock pauses — see psa.sandbox.connectwise.sla)
STATUS_ROWS = (
    ("New", False, True, False, "NotResponded"),
    ("In Progress", False, False, False, "Responded"),
    ("Waiting on Client", False, False, False, "NoEscalation"),
    ("Scheduled", False, False, False, "ResolutionPlan"),
    ("Escalated ⚠", False, False, False, "Responded"),
    ("Completed", True, False, False, "Resolved"),
    ("Closed", True, False, False, "Resolved"),
    ("Cancelled (old)", True, False, True, "Resolved"),
)
TEAM_NAMES = ("Tier 1", "Tier 2", "Network Ops", "Dispatch")
TYPE_NAMES = ("Incident", "Request", "Problem", "Change")
SUBTYPE_NAMES = ("Hardware", "Software", "Network", "Email", "Account")
ITEM_NAMES = ("Laptop", "Printer", "Firewall", "Mailbox")
PRIORITIES = (
    ("Priority 1 - Emergency Response", "Red", 1),
    ("Priority 2 - Quick Response", "Orange", 2),
    ("Priority 3 - Normal Response", "Yellow", 3),
    ("Priority 4 - Schedule Maintenance", "Green", 4),
    ("Do Not Respond", "Blue", 5),
)
TERRITORIES = ("Tampa Office", "Chicago", "São Paulo", "Zürich", "London", "Remote")
SERVICE_LOCATIONS = (("On-Site", "OnSite"), ("Remote", "Remote"), ("In-house", "InHouse"))  # (name, where)
COMPANY_STATUSES = (
    ("Active", True, False),
    ("Inactive", False, True),
    ("Credit Hold", False, False),
    ("Not-Approved", False, False),
)
OPPORTUNITY_STATUSES = (
    ("Open", False, False, False, True),
    ("Won", True, True, False, False),
    ("Lost", True, False, True, False),
    ("No Decision", True, False, False, False),
    ("On Hold", False, False, False, False),
)
OPPORTUNITY_TYPES = ("New Business", "Renewal", "Upsell", "Managed Services ✨")
STAGES = ("Prospect", "Qualification", "Proposal", "Negotiation", "Closing")
PROJECT_STATUSES = (
    ("Open", False, True),
    ("In Progress", False, False),
    ("On Hold", False, False),
    ("Closed", True, False),
    ("Cancelled", True, False),
)
SCHEDULE_TYPES = (("S", "Service"), ("P", "Project"), ("C", "Activity"), ("O", "Out of Office"))
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
HOLIDAYS = (
    ("New Year's Day", 1, 1),
    ("Independence Day", 7, 4),
    ("Labour Day 🛠", 9, 1),
    ("Thanksgiving", 11, 26),
    ("Christmas Day", 12, 25),
    ("Boxing Day", 12, 26),
)


def _info(anchor: datetime, rng: random.Random) -> dict:
    entered = anchor - timedelta(days=rng.randint(400, 2000))
    updated = entered + timedelta(days=rng.randint(0, 380))
    return {
        "lastUpdated": record_time(updated),
        "dateEntered": record_time(entered),
        "updatedBy": "admin1",
        "enteredBy": "admin1",
    }


def complete(entity: str, record: dict) -> dict:
    """The record as ConnectWise sends it: null fields omitted, every boolean flag of the model
    present (ConnectWise answers false for a flag nobody set)."""
    out = {k: v for k, v in record.items() if v is not None} if None in record.values() else dict(record)
    for name in _flags(spec_for(entity).model):
        if name not in out:
            out[name] = False
    return out


@cache
def _flags(model: str) -> tuple[str, ...]:
    return tuple(
        name for name, kind in model_fields()[model].items() if kind.lstrip("*") in ("bool", "NullableBool")
    )


def load_rows(
    store: SandboxStore,
    entity: str,
    rows: list[dict],
    anchor: datetime,
    rng: random.Random,
    first_id: int = 1,
) -> list[dict]:
    """Records made from `rows` (ids from first_id, `_info`, flags completed), loaded into the store."""
    records = [
        complete(entity, {"id": first_id + offset, **row, "_info": _info(anchor, rng)})
        for offset, row in enumerate(rows)
    ]
    store.load(entity, records)
    return records


_simple = load_rows


def generate_reference(
    store: SandboxStore, refs: RefBuilder, *, board_count: int, seed: int, anchor: datetime
) -> None:
    rng = random.Random(f"{seed}:reference")
    territories = _simple(
        store,
        "system/locations",
        [{"name": n, "locationFlag": True, "clientFlag": False} for n in TERRITORIES],
        anchor,
        rng,
    )
    _simple(
        store,
        "service/locations",
        [{"name": n, "where": w, "defaultFlag": i == 0} for i, (n, w) in enumerate(SERVICE_LOCATIONS)],
        anchor,
        rng,
    )
    _simple(
        store,
        "company/companies/statuses",
        [{"name": n, "defaultFlag": d, "inactiveFlag": i} for n, d, i in COMPANY_STATUSES],
        anchor,
        rng,
    )
    priorities = _simple(
        store,
        "service/priorities",
        [
            {"name": n, "color": c, "sortOrder": s, "defaultFlag": s == 3, "level": f"Level{s}"}
            for n, c, s in PRIORITIES
        ],
        anchor,
        rng,
    )
    _slas(store, refs, priorities, anchor, rng)
    _calendars(store, refs, anchor, rng)
    _simple(
        store,
        "schedule/statuses",
        [
            {"name": "Firm", "defaultFlag": True, "showAsTentativeFlag": False},
            {"name": "Tentative", "defaultFlag": False, "showAsTentativeFlag": True},
        ],
        anchor,
        rng,
    )
    _simple(
        store,
        "schedule/types",
        [{"identifier": i, "name": n, "systemFlag": True} for i, n in SCHEDULE_TYPES],
        anchor,
        rng,
    )
    _simple(
        store,
        "sales/opportunities/statuses",
        [
            {
                "name": n,
                "closedFlag": c,
                "wonFlag": w,
                "lostFlag": lo,
                "defaultFlag": d,
                "inactiveFlag": False,
            }
            for n, c, w, lo, d in OPPORTUNITY_STATUSES
        ],
        anchor,
        rng,
    )
    _simple(
        store,
        "sales/opportunities/types",
        [{"description": n, "inactiveFlag": False} for n in OPPORTUNITY_TYPES],
        anchor,
        rng,
    )
    _simple(
        store,
        "sales/stages",
        [
            {
                "name": n,
                "sequenceNumber": i + 1,
                "probability": refs.ref(
                    "sales/probabilities", store.get("sales/probabilities", (i + 1) * 2) or {}, "probability"
                ),
                "color": "#1f77b4",
            }
            for i, n in enumerate(STAGES)
        ],
        anchor,
        rng,
    )
    _simple(
        store,
        "project/statuses",
        [
            {"name": n, "closedFlag": c, "defaultFlag": d, "inactiveFlag": False}
            for n, c, d in PROJECT_STATUSES
        ],
        anchor,
        rng,
    )
    _boards(store, refs, board_count, territories, anchor, rng)


def _slas(
    store: SandboxStore, refs: RefBuilder, priorities: list[dict], anchor: datetime, rng: random.Random
) -> None:
    slas = _simple(
        store,
        "service/SLAs",
        [
            {
                "name": "Standard SLA",
                "basedOn": "MyCalendar",
                "defaultFlag": True,
                "respondHours": 4,
                "planWithin": 8,
                "resolutionHours": 24,
            },
            {
                "name": "Premium SLA 24×7",
                "basedOn": "AllHours",
                "defaultFlag": False,
                "respondHours": 1,
                "planWithin": 2,
                "resolutionHours": 8,
            },
        ],
        anchor,
        rng,
    )
    rows = []
    for sla in slas:
        factor = 1 if sla["defaultFlag"] else 0.25
        for priority in priorities:
            rows.append(
                {
                    "sla": refs.ref("service/SLAs", sla, "sla"),
                    "priority": refs.ref("service/priorities", priority, "priority"),
                    "respondHours": priority["sortOrder"] * 2 * factor,
                    "planWithin": priority["sortOrder"] * 4 * factor,
                    "resolutionHours": priority["sortOrder"] * 12 * factor,
                }
            )
    _simple(store, "service/SLAs/{parentId}/priorities", rows, anchor, rng)


def _calendars(store: SandboxStore, refs: RefBuilder, anchor: datetime, rng: random.Random) -> None:
    lists = _simple(
        store, "schedule/holidayLists", [{"name": "US Holidays"}, {"name": "UK Holidays 🇬🇧"}], anchor, rng
    )
    holidays = []
    for holiday_list in lists:
        for year in (anchor.year - 1, anchor.year, anchor.year + 1):
            for name, month, day in HOLIDAYS:
                holidays.append(
                    {
                        "name": name,
                        "allDayFlag": True,
                        "date": f"{year:04d}-{month:02d}-{day:02d}",
                        "holidayList": refs.ref("schedule/holidayLists", holiday_list, "holidayList"),
                    }
                )
    _simple(store, "schedule/holidayLists/{parentId}/holidays", holidays, anchor, rng)
    _simple(
        store,
        "schedule/calendars",
        [
            {
                "name": "Standard Hours",
                "holidayList": refs.ref("schedule/holidayLists", lists[0], "holidayList"),
                **_week_hours(("monday", "tuesday", "wednesday", "thursday"), "08:00:00", "17:00:00"),
                **_week_hours(("friday",), "08:00:00", "16:00:00"),
            },
            {"name": "24×7", **_week_hours(WEEKDAYS, "00:00:00", "23:59:00")},
        ],
        anchor,
        rng,
    )


def _week_hours(days: tuple[str, ...], start: str, end: str) -> dict[str, str]:
    return {**{f"{day}StartTime": start for day in days}, **{f"{day}EndTime": end for day in days}}


def _boards(
    store: SandboxStore,
    refs: RefBuilder,
    board_count: int,
    territories: list[dict],
    anchor: datetime,
    rng: random.Random,
) -> None:
    boards = _simple(
        store,
        "service/boards",
        [
            {
                "name": BOARD_NAMES[i % len(BOARD_NAMES)] + ("" if i < len(BOARD_NAMES) else f" {i}"),
                "location": refs.ref("system/locations", territories[i % len(territories)], "location"),
                "inactiveFlag": False,
                "projectFlag": BOARD_NAMES[i % len(BOARD_NAMES)] == "Projects",
            }
            for i in range(board_count)
        ],
        anchor,
        rng,
    )
    statuses, teams, types, subtypes, items = [], [], [], [], []
    for board in boards:
        board_ref = refs.ref("service/boards", board, "board")
        for order, (name, closed, default, inactive, escalation) in enumerate(STATUS_ROWS):
            statuses.append(
                {
                    "name": name,
                    "board": board_ref,
                    "sortOrder": order,
                    "displayOnBoard": not closed,
                    "inactive": inactive,
                    "closedStatus": closed,
                    "defaultFlag": default,
                    "timeEntryNotAllowed": closed,
                    "escalationStatus": escalation,
                }
            )
        for name in TEAM_NAMES[: rng.randint(2, len(TEAM_NAMES))]:
            teams.append({"name": name, "boardId": board["id"], "defaultFlag": name == "Tier 1"})
        for name in TYPE_NAMES:
            types.append(
                {
                    "name": name,
                    "board": board_ref,
                    "category": "Reactive",
                    "defaultFlag": False,
                    "inactiveFlag": name == "Change" and rng.random() < 0.5,
                }
            )
        for name in SUBTYPE_NAMES:
            subtypes.append({"name": name, "board": board_ref, "inactiveFlag": False})
        for name in ITEM_NAMES:
            items.append({"name": name, "board": board_ref, "inactiveFlag": False})
    _simple(store, "service/boards/{parentId}/statuses", statuses, anchor, rng)
    _simple(store, "service/boards/{parentId}/teams", teams, anchor, rng)
    _simple(store, "service/boards/{parentId}/types", types, anchor, rng)
    _simple(store, "service/boards/{parentId}/subtypes", subtypes, anchor, rng)
    _simple(store, "service/boards/{parentId}/items", items, anchor, rng)
