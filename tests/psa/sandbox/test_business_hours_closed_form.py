"""The closed-form business-time arithmetic (business_hours._Schedule) answers exactly what the
day-by-day walk answers, for calendars with and without holidays, odd weekly hours, starts inside
and outside working hours, in other time zones, and spans from a minute to years."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from psa.sandbox.business_hours import (
    ALL_HOURS,
    MINUTES_PER_DAY,
    Origin,
    WorkCalendar,
    _walk_add_minutes,
    _walk_business_minutes,
    add_minutes,
    business_minutes,
    calendar_from_records,
    clock_start,
)

BASE = datetime(2028, 12, 20, 9, 30, tzinfo=UTC)
HOLIDAYS = tuple(
    sorted(
        {
            date(year, month, day)
            for year in (2028, 2029, 2030)
            for month, day in ((1, 1), (7, 4), (12, 25), (12, 26))
        }
        | {date(2029, 3, 5) + timedelta(days=n) for n in range(9)}  # a run of days off across a weekend
    )
)
OFFICE_HOURS = {0: (480, 1020), 1: (480, 1020), 2: (480, 1020), 3: (480, 1020), 4: (480, 960)}
CALENDARS = {
    "office": WorkCalendar(hours=OFFICE_HOURS),
    "office with holidays": WorkCalendar(hours=OFFICE_HOURS, holidays=HOLIDAYS),
    "all hours": ALL_HOURS,
    "all hours with holidays": WorkCalendar(hours=ALL_HOURS.hours, holidays=HOLIDAYS),
    "weekends only": WorkCalendar(hours={5: (600, 840), 6: (0, MINUTES_PER_DAY)}, holidays=HOLIDAYS),
    "one short day": WorkCalendar(hours={2: (1439, 1440)}, holidays=HOLIDAYS),
    "from records": calendar_from_records(
        {"mondayStartTime": "07:15:00", "mondayEndTime": "23:59:00", "thursdayStartTime": "00:00:00"}
        | {"thursdayEndTime": "12:00:00", "sundayStartTime": "10:00:00", "sundayEndTime": "11:00:00"},
        [{"date": str(day)} for day in HOLIDAYS],
    ),
}


def moments(rng: random.Random, count: int) -> list[datetime]:
    """Starts over three years, at any minute (some with seconds, some in another time zone)."""
    out = []
    for _ in range(count):
        moment = BASE + timedelta(minutes=rng.randint(-400 * MINUTES_PER_DAY, 800 * MINUTES_PER_DAY))
        if rng.random() < 0.2:
            moment += timedelta(seconds=rng.randint(1, 59), microseconds=rng.randint(0, 999))
        if rng.random() < 0.2:
            moment = moment.astimezone(timezone(timedelta(hours=rng.choice((-7, 2, 5.5)))))
        out.append(moment)
    return out


def outcome(function, *args):
    """The answer, or the kind of error (a deadline past year 9999 overflows in both)."""
    try:
        return function(*args)
    except OverflowError as error:
        return type(error)


def spans(rng: random.Random, calendar: WorkCalendar) -> list[int]:
    """Working minutes from none to about three years of the calendar's weeks."""
    years = 150 * calendar.week_minutes
    return [0, 1, 59, 60, 479, 480, 481, rng.randint(1, 10_000), rng.randint(1, years), rng.randint(1, years)]


@pytest.mark.parametrize("name", CALENDARS)
def test_it_counts_working_minutes_like_the_walk(name):
    calendar, rng = CALENDARS[name], random.Random(f"count:{name}")
    assert calendar.schedule is not None
    for start in moments(rng, 300):
        for end in [start + timedelta(minutes=m) for m in spans(rng, calendar)] + moments(rng, 2):
            assert business_minutes(calendar, start, end) == _walk_business_minutes(calendar, start, end)


@pytest.mark.parametrize("name", CALENDARS)
def test_it_adds_working_minutes_like_the_walk(name):
    calendar, rng = CALENDARS[name], random.Random(f"add:{name}")
    for start in moments(rng, 100):  # the walk takes a while on the one-minute week
        for minutes in [*spans(rng, calendar), -5]:
            assert outcome(add_minutes, calendar, start, minutes) == outcome(
                _walk_add_minutes, calendar, start, minutes
            )


@pytest.mark.parametrize("name", CALENDARS)
def test_a_started_origin_counts_like_one_made_at_the_clock_start(name):
    calendar, rng = CALENDARS[name], random.Random(f"started:{name}")
    for entered in moments(rng, 100):
        started = Origin(calendar, entered).started()
        assert started is not None and started.start == clock_start(calendar, entered)
        fresh, later = Origin(calendar, started.start), entered + timedelta(minutes=rng.randint(0, 90_000))
        assert started.minutes_until(later) == fresh.minutes_until(later)
        minutes = rng.randint(0, 5_000)
        assert started.after(minutes) == fresh.after(minutes)


def test_it_starts_at_opening_time_on_the_edges_of_a_day():
    calendar = CALENDARS["office with holidays"]
    for minute in (0, 479, 480, 1019, 1020, 1439):
        start = datetime(2029, 3, 2, tzinfo=UTC) + timedelta(minutes=minute)  # a Friday before the run off
        for minutes in (0, 1, 60, 480, 481):
            assert add_minutes(calendar, start, minutes) == _walk_add_minutes(calendar, start, minutes)


def test_it_leaves_a_deadline_past_the_search_horizon_to_the_walk():
    calendar = CALENDARS["one short day"]  # one working minute a week: 20 years are ~1040 minutes
    for minutes in (600, 1040, 5000):
        assert outcome(add_minutes, calendar, BASE, minutes) == outcome(
            _walk_add_minutes, calendar, BASE, minutes
        )
    assert add_minutes(ALL_HOURS, BASE, 20 * 366 * MINUTES_PER_DAY) == _walk_add_minutes(
        ALL_HOURS, BASE, 20 * 366 * MINUTES_PER_DAY
    )


def test_a_calendar_without_working_time_has_no_deadline():
    assert add_minutes(WorkCalendar(hours={}), BASE, 0) is None
    assert (
        WorkCalendar(hours={}).schedule is not None
        and business_minutes(WorkCalendar(hours={}), BASE, BASE + timedelta(days=9)) == 0
    )


def test_an_irregular_calendar_keeps_the_walk():
    odd = WorkCalendar(hours={0: (600, 500), 1: (480, 1020)}, holidays=(date(2029, 1, 2), date(2029, 1, 2)))
    assert odd.schedule is None
    start = datetime(2029, 1, 1, 8, tzinfo=UTC)
    assert add_minutes(odd, start, 600) == _walk_add_minutes(odd, start, 600)
    assert business_minutes(odd, start, start + timedelta(days=30)) == _walk_business_minutes(
        odd, start, start + timedelta(days=30)
    )
