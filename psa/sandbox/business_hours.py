"""Business-time arithmetic for SLA clocks: pure functions over a work calendar, no store.

A WorkCalendar says, per weekday, which hours of the day count (ConnectWise `schedule/calendars`:
`mondayStartTime`/`mondayEndTime`, ...) and which dates do not count at all (all-day holidays of
its `schedule/holidayLists/{id}/holidays`). Times are wall-clock times of the site; the sandbox
keeps its site in UTC, so the datetimes given here must be timezone-aware and are read as UTC.

Everything is in whole minutes, like ConnectWise's `respondMinutes` & co. An end time of 23:59
means "until midnight": ConnectWise's time pickers cannot say 24:00.

Speed: seeding 100k tickets asks for a few hundred thousand spans and deadlines, many years
long. A calendar read from records is regular (each day's hours within the day, holidays sorted
and distinct), so its working minutes before any moment have a closed form (whole weeks, the
weekday's share of a week, minus the holidays before it: `_Schedule`): a span is a difference
of two such counts and a deadline is found by inverting the count. Irregular calendars (hours
built by hand, not from records) keep the plain day-by-day walk, which is also the reference
the closed form is tested against.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from itertools import accumulate

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

    @cached_property
    def schedule(self) -> _Schedule | None:
        """The closed form of this calendar's working time; None for an irregular calendar.
        (Cached on the instance: the calendar is immutable, and an SLA book keeps one per SLA.)"""
        return _Schedule(self) if _regular(self) else None


def _regular(calendar: WorkCalendar) -> bool:
    """Hours within the day on known weekdays and distinct sorted holidays, as
    calendar_from_records makes them: what the closed form assumes."""
    windows_ok = all(
        weekday in range(7) and 0 <= start < end <= MINUTES_PER_DAY
        for weekday, (start, end) in calendar.hours.items()
    )
    holidays = calendar.holidays
    return windows_ok and all(earlier < later for earlier, later in zip(holidays, holidays[1:], strict=False))


class _Schedule:
    """A regular calendar's working minutes counted from day 1 (date.toordinal(): 0001-01-01,
    a Monday, so a day's weekday is (day - 1) % 7): whole weeks, plus the weekdays before the
    day in its week, minus the holidays before it. Counting a span or finding a deadline is then
    a few divisions and bisections whatever its length, instead of a walk over its days."""

    def __init__(self, calendar: WorkCalendar) -> None:
        self.windows = tuple(calendar.hours.get(weekday) for weekday in range(7))
        self.openings = tuple(window[0] if window else 0 for window in self.windows)
        day_minutes = [window[1] - window[0] if window else 0 for window in self.windows]
        self.week = sum(day_minutes)
        # working minutes of a week before each weekday (and the whole week last)
        self.week_before = (0, *accumulate(day_minutes))
        # only holidays on working weekdays cost minutes; lost[i]: the minutes of holidays[:i]
        costly = [(day.toordinal(), day_minutes[day.weekday()]) for day in calendar.holidays]
        costly = [(day, minutes) for day, minutes in costly if minutes]
        self.holidays = [day for day, _ in costly]
        self.holiday_set = frozenset(self.holidays)
        self.lost = [0, *accumulate(minutes for _, minutes in costly)]

    def minutes_before_day(self, day: int) -> int:
        weeks, weekday = divmod(day - 1, 7)
        holidays_before = bisect.bisect_left(self.holidays, day)
        return weeks * self.week + self.week_before[weekday] - self.lost[holidays_before]

    def minutes_before(self, day: int, minute: int) -> int:
        """Working minutes before minute `minute` of `day`."""
        total = self.minutes_before_day(day)
        window = self.windows[(day - 1) % 7]
        if window is None or day in self.holiday_set:
            return total
        start, end = window
        return total + min(max(minute, start), end) - start

    def day_of(self, position: int, first_day: int) -> tuple[int, int]:
        """The day holding the `position`-th working minute (1-based, on or after `first_day`)
        and the working minutes before that day.

        Found on the week without holidays, pushed on by the holiday minutes before the day
        found until they no longer move it: `skipped` never exceeds the holiday minutes before
        the answer, so each round lands on or before it, and a round that moves lands later."""
        week_before, holidays, lost = self.week_before, self.holidays, self.lost
        skipped = lost[bisect.bisect_left(holidays, first_day)]
        while True:
            weeks, rest = divmod(position + skipped - 1, self.week)
            weekday = bisect.bisect_right(week_before, rest) - 1
            day = weeks * 7 + weekday + 1
            index = bisect.bisect_left(holidays, day)
            through = index + 1 if index < len(holidays) and holidays[index] == day else index
            if lost[through] == skipped:  # no holiday on or before the day left uncounted
                return day, weeks * self.week + week_before[weekday] - skipped
            skipped = lost[through]


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


_DAY_ONE = datetime(1, 1, 1, tzinfo=UTC)  # midnight of day 1 (date.toordinal() == 1)


def _day_and_minute(moment: datetime) -> tuple[int, int]:
    """(date ordinal, minute of the day) of an aware datetime in UTC; seconds are dropped."""
    if moment.tzinfo is not UTC:
        if moment.tzinfo is None:
            raise ValueError("business-time arithmetic needs timezone-aware datetimes")
        moment = moment.astimezone(UTC)
    return moment.toordinal(), moment.hour * 60 + moment.minute


def _overlap(window: tuple[int, int] | None, start: int, end: int) -> int:
    if window is None:
        return 0
    return max(0, min(window[1], end) - max(window[0], start))


class Origin:
    """Working time counted from one moment (an SLA clock's start) on one calendar: what
    business_minutes and add_minutes answer from `start`, with the start's place in the calendar
    worked out once (a clock asks both several times from its start)."""

    def __init__(self, calendar: WorkCalendar, start: datetime, *, count: int | None = None) -> None:
        """`count`: the working minutes before `start`, when the caller knows them already."""
        self.calendar, self.start = calendar, start
        self._schedule = calendar.schedule
        if self._schedule is not None:
            self._day, self._minute = _day_and_minute(start)
            self._position = (
                self._schedule.minutes_before(self._day, self._minute) if count is None else count
            )

    def started(self) -> Origin | None:
        """This origin moved on to the first working moment at or after it (where an SLA clock
        starts: after(0)); None if there is none. No working minute lies in between, so the
        count before it is the same."""
        start = self.after(0)
        if start is None:
            return None
        return Origin(self.calendar, start, count=self._position if self._schedule is not None else None)

    def minutes_until(self, end: datetime) -> int:
        """Working minutes in [start, end) (0 if end is not after start)."""
        schedule = self._schedule
        if schedule is None:
            return _walk_business_minutes(self.calendar, self.start, end)
        day, minute = _day_and_minute(end)
        if (day, minute) <= (self._day, self._minute):
            return 0
        return schedule.minutes_before(day, minute) - self._position

    def after(self, minutes: int) -> datetime | None:
        """The moment `minutes` working minutes after start have passed; with 0 minutes, the
        first working moment at or after start (when an SLA clock starts). None if never."""
        schedule = self._schedule
        if schedule is None:
            return _walk_add_minutes(self.calendar, self.start, minutes)
        if not schedule.week:
            return None  # no working minute in any week
        remaining = max(int(minutes), 0)
        reached = self._position + remaining
        # The earliest moment the count reaches `reached`: on the day of that minute (a deadline
        # may fall on closing time); with 0 minutes, where the next working minute begins.
        day, before = schedule.day_of(reached + (remaining == 0), self._day)
        if day - self._day >= SEARCH_DAYS:  # as far off as the walk gives up: let it decide
            return _walk_add_minutes(self.calendar, self.start, minutes)
        opening = schedule.openings[(day - 1) % 7]
        return _DAY_ONE + timedelta(days=day - 1, minutes=opening + reached - before)


def business_minutes(calendar: WorkCalendar, start: datetime, end: datetime) -> int:
    """Working minutes in [start, end) (0 if end is not after start)."""
    return Origin(calendar, start).minutes_until(end)


def _walk_business_minutes(calendar: WorkCalendar, start: datetime, end: datetime) -> int:
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
    return Origin(calendar, start).after(minutes)


def _walk_add_minutes(calendar: WorkCalendar, start: datetime, minutes: int) -> datetime | None:
    """add_minutes day by day (whole holiday-free weeks at once): for irregular calendars, and
    the reference the closed form is tested against."""
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
