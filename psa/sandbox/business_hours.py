"""Business-time arithmetic for SLA clocks: pure functions over a work calendar, no store.

A WorkCalendar says, per weekday, which hours of the day count (ConnectWise `schedule/calendars`:
`mondayStartTime`/`mondayEndTime`, ...) and which dates do not count at all (all-day holidays of
its `schedule/holidayLists/{id}/holidays`). Times are wall-clock times of the site; the sandbox
keeps its site in UTC, so the datetimes given here must be timezone-aware and are read as UTC.

Everything is in whole minutes, like ConnectWise's `respondMinutes` & co. An end time of 23:59
means "until midnight": ConnectWise's time pickers cannot say 24:00.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

MINUTES_PER_DAY = 24 * 60
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# add_minutes gives up after this many calendar days: a calendar without any working hour left
# (every day a holiday, no hours set) has no deadline rather than an endless loop.
SEARCH_DAYS = 366 * 12


@dataclass(frozen=True)
class WorkCalendar:
    # weekday (0 = Monday) → (start, end) minute of the day; weekdays absent do not count
    hours: Mapping[int, tuple[int, int]]
    holidays: tuple[date, ...] = field(default=())  # sorted, all-day

    @property
    def week_minutes(self) -> int:
        return sum(end - start for start, end in self.hours.values())

    def is_holiday(self, day: date) -> bool:
        index = bisect.bisect_left(self.holidays, day)
        return index < len(self.holidays) and self.holidays[index] == day

    def day_window(self, day: date) -> tuple[int, int] | None:
        """The working minutes of `day` as (start, end) minute of the day; None if it has none."""
        window = self.hours.get(day.weekday())
        if window is None or window[0] >= window[1] or self.is_holiday(day):
            return None
        return window

    def holidays_between(self, first: date, last: date) -> tuple[date, ...]:
        """Holidays in [first, last)."""
        return self.holidays[
            bisect.bisect_left(self.holidays, first) : bisect.bisect_left(self.holidays, last)
        ]


ALL_HOURS = WorkCalendar(hours={day: (0, MINUTES_PER_DAY) for day in range(7)})


def parse_clock(text: object) -> int | None:
    """`"08:00:00"` / `"8:00"` → minute of the day; 23:59 counts as midnight; None if unreadable."""
    if not isinstance(text, str):
        return None
    try:
        parsed = time.fromisoformat(text.strip() if text.count(":") > 1 else text.strip().zfill(5))
    except ValueError:
        return None
    minute = parsed.hour * 60 + parsed.minute
    return MINUTES_PER_DAY if minute == MINUTES_PER_DAY - 1 else minute


def calendar_from_records(calendar: Mapping, holidays: Iterable[Mapping] = ()) -> WorkCalendar:
    """A WorkCalendar from a ConnectWise Calendar record and the Holiday records of its list."""
    hours: dict[int, tuple[int, int]] = {}
    for index, name in enumerate(WEEKDAYS):
        start, end = (
            parse_clock(calendar.get(f"{name}StartTime")),
            parse_clock(calendar.get(f"{name}EndTime")),
        )
        if start is not None and end is not None and start < end:
            hours[index] = (start, end)
    days = set()
    for holiday in holidays:
        # Only all-day holidays stop the clock; a part-day one (timeStart/timeEnd) is rare and
        # ConnectWise counts it against the calendar the same way at day granularity.
        try:
            days.add(date.fromisoformat(str(holiday.get("date", ""))[:10]))
        except ValueError:
            continue
    return WorkCalendar(hours=hours, holidays=tuple(sorted(days)))


def _minute_of_day(moment: datetime) -> int:
    return moment.hour * 60 + moment.minute


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("business-time arithmetic needs timezone-aware datetimes")
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def _overlap(window: tuple[int, int] | None, start: int, end: int) -> int:
    if window is None:
        return 0
    return max(0, min(window[1], end) - max(window[0], start))


def business_minutes(calendar: WorkCalendar, start: datetime, end: datetime) -> int:
    """Working minutes in [start, end) (0 if end is not after start)."""
    start, end = _utc(start), _utc(end)
    if end <= start:
        return 0
    first, last = start.date(), end.date()
    if first == last:
        return _overlap(calendar.day_window(first), _minute_of_day(start), _minute_of_day(end))
    total = _overlap(calendar.day_window(first), _minute_of_day(start), MINUTES_PER_DAY)
    total += _overlap(calendar.day_window(last), 0, _minute_of_day(end))
    return total + _whole_days(calendar, first + timedelta(days=1), last)


def _whole_days(calendar: WorkCalendar, first: date, last: date) -> int:
    """Working minutes of the whole days [first, last), whole weeks at once (tickets span years)."""
    days = (last - first).days
    if days <= 0:
        return 0
    weeks, rest = divmod(days, 7)
    total = weeks * calendar.week_minutes
    for offset in range(rest):
        window = calendar.hours.get((first + timedelta(days=weeks * 7 + offset)).weekday())
        total += _overlap(window, 0, MINUTES_PER_DAY)
    for holiday in calendar.holidays_between(first, last):
        total -= _overlap(calendar.hours.get(holiday.weekday()), 0, MINUTES_PER_DAY)
    return total


def add_minutes(calendar: WorkCalendar, start: datetime, minutes: int) -> datetime | None:
    """The moment `minutes` working minutes after `start` have passed; with 0 minutes, the first
    working moment at or after `start` (when an SLA clock starts). None if never."""
    moment = _utc(start)
    remaining = max(int(minutes), 0)
    day, offset = moment.date(), _minute_of_day(moment)
    week = calendar.week_minutes
    for _ in range(SEARCH_DAYS):
        window = calendar.day_window(day)
        if window is not None and offset < window[1]:
            begin = max(window[0], offset)
            available = window[1] - begin
            if remaining <= available:  # a deadline may fall on the closing minute (5:00 PM)
                return _midnight(day) + timedelta(minutes=begin + remaining)
            remaining -= available
        day, offset = day + timedelta(days=1), 0
        # A long wait (weeks "waiting on client") would walk day by day: skip holiday-free weeks.
        while week and remaining > week and not calendar.holidays_between(day, day + timedelta(days=7)):
            remaining -= week
            day += timedelta(days=7)
    return None


def clock_start(calendar: WorkCalendar, entered: datetime) -> datetime | None:
    """When the SLA clock of a ticket entered at `entered` starts: the next working minute."""
    return add_minutes(calendar, entered, 0)


# --- an SLA clock that pauses: waits are counted in working minutes, then skipped -----------


def paused_minutes(calendar: WorkCalendar, pauses: Iterable[tuple[datetime, datetime]]) -> int:
    """Working minutes spent in the pauses (waiting statuses), each [begin, end)."""
    return sum(business_minutes(calendar, begin, end) for begin, end in pauses)


def clock_minutes(calendar: WorkCalendar, start: datetime, now: datetime, paused: int) -> int:
    """Working minutes an SLA clock started at `start` has run by `now`, `paused` of them waited."""
    return max(business_minutes(calendar, start, now) - paused, 0)


def deadline(calendar: WorkCalendar, start: datetime, goal_minutes: int, paused: int) -> datetime | None:
    """When a clock started at `start` reaches `goal_minutes`, pushed back by the `paused` minutes."""
    return add_minutes(calendar, start, goal_minutes + paused)
