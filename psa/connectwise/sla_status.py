"""The deadline inside a ConnectWise ticket's `slaStatus`.

ConnectWise exposes no SLA due date field on a ticket; it states the current stage's deadline in
`slaStatus`, in the site's time zone and without a year: "Respond by Mon 07/04 1:00 PM UTC-04",
"Plan by ...", "Resolve by ...", or just "Waiting" / "Resolved". The year is the one nearest to
the ticket's last update whose date falls on the stated weekday. An ISO form
("Respond by 2026-12-02 10:00", UTC) is read too. Anything else gives no deadline.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

STAGE_COLUMNS = {"respond": "respond_by", "plan": "plan_by", "resolve": "resolve_by"}
_US_FORM = re.compile(
    r"^(?P<stage>respond|plan|resolve) by\s+(?:(?P<weekday>[a-z]{3})\w*\s+)?"
    r"(?P<month>\d{1,2})/(?P<day>\d{1,2})(?:/(?P<year>\d{2,4}))?\s+"
    r"(?P<hour>\d{1,2}):(?P<minute>\d{2})\s*(?P<half>[ap]m)?"
    r"(?:\s*(?:utc|gmt)?\s*(?P<sign>[+-])(?P<oh>\d{1,2})(?::?(?P<om>\d{2}))?|\s*(?:utc|gmt))?\s*$",
    re.IGNORECASE,
)
_ISO_FORM = re.compile(
    r"^(?P<stage>respond|plan|resolve) by\s+(?P<stamp>\d{4}-\d{2}-\d{2}[ t]\d{2}:\d{2}(?::\d{2})?)\s*(?:z|utc)?\s*$",
    re.IGNORECASE,
)


def sla_deadline(text: object, near: datetime | None) -> tuple[str, datetime] | None:
    """(stage, deadline as aware UTC) from a slaStatus, or None when it states no deadline."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    iso = _ISO_FORM.match(text)
    if iso:
        stamp = datetime.fromisoformat(iso["stamp"].replace(" ", "T")).replace(tzinfo=UTC)
        return iso["stage"].lower(), stamp
    found = _US_FORM.match(text)
    if found is None:
        return None
    try:
        zone = _zone(found)
        hour = _hour(int(found["hour"]), found["half"])
        candidates = [
            datetime(year, int(found["month"]), int(found["day"]), hour, int(found["minute"]), tzinfo=zone)
            for year in _years(found["year"], near)
        ]
    except ValueError:  # 02/30, 25:00, ...
        return None
    weekday = (found["weekday"] or "").lower()
    matching = [c for c in candidates if not weekday or c.strftime("%a").lower() == weekday] or candidates
    reference = near or datetime.now(UTC)
    best = min(matching, key=lambda c: abs(c - reference))
    return found["stage"].lower(), best.astimezone(UTC)


def deadline_columns(text: object, near: datetime | None) -> dict[str, datetime | None]:
    """respond_by / plan_by / resolve_by: the stated stage's deadline, the others None."""
    columns: dict[str, datetime | None] = dict.fromkeys(STAGE_COLUMNS.values())
    parsed = sla_deadline(text, near)
    if parsed is not None:
        columns[STAGE_COLUMNS[parsed[0]]] = parsed[1]
    return columns


def _zone(found: re.Match) -> timezone:
    if not found["sign"]:
        return UTC
    offset = timedelta(hours=int(found["oh"]), minutes=int(found["om"] or 0))
    return timezone(-offset if found["sign"] == "-" else offset)


def _hour(hour: int, half: str | None) -> int:
    if half is None:
        return hour
    if not 1 <= hour <= 12:
        raise ValueError(f"{hour} is not a 12-hour clock hour")
    return hour % 12 + (12 if half.lower() == "pm" else 0)


def _years(stated: str | None, near: datetime | None) -> list[int]:
    if stated:
        year = int(stated)
        return [year + 2000 if year < 100 else year]
    base = (near or datetime.now(UTC)).year
    return [base - 1, base, base + 1]
