"""Business-time arithmetic of SLA clocks: calendar hours, holidays, weekends, long spans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from psa.sandbox.business_hours import (
    ALL_HOURS,
    WorkCalendar,
    add_minutes,
    business_minutes,
    calendar_from_records,
    clock_minutes,
    clock_start,
    deadline,
    parse_clock,
    paused_minutes,
)

# 2030-05-13 is a Monday.
MONDAY = datetime(2030, 5, 13, tzinfo=UTC)
OFFICE = calendar_from_records(
    {
        **{f"{d}StartTime": "08:00:00" for d in ("monday", "tuesday", "wednesday", "thursday", "friday")},
        **{f"{d}EndTime": "17:00:00" for d in ("monday", "tuesday", "wednesday", "thursday")},
        "fridayEndTime": "16:00:00",
    },
    [{"date": "2030-05-15", "allDayFlag": True}, {"date": "not a date"}],
)


def at(day_offset: int, hour: int, minute: int = 0) -> datetime:
    return MONDAY + timedelta(days=day_offset, hours=hour, minutes=minute)


def test_it_reads_a_connectwise_calendar_record():
    assert OFFICE.hours == {0: (480, 1020), 1: (480, 1020), 2: (480, 1020), 3: (480, 1020), 4: (480, 960)}
    assert OFFICE.holidays == (datetime(2030, 5, 15).date(),)
    assert OFFICE.week_minutes == 4 * 540 + 480


def test_it_reads_clock_times_and_counts_2359_as_midnight():
    assert parse_clock("08:30:00") == 510
    assert parse_clock("8:30") == 510
    assert parse_clock("23:59:00") == 24 * 60
    assert parse_clock("late") is None and parse_clock(None) is None


def test_it_counts_only_the_hours_inside_the_calendar_on_one_day():
    assert business_minutes(OFFICE, at(0, 6), at(0, 9, 30)) == 90
    assert business_minutes(OFFICE, at(0, 16), at(0, 20)) == 60
    assert business_minutes(OFFICE, at(0, 10), at(0, 9)) == 0


def test_it_skips_holidays_and_weekends():
    # Tuesday 16:00 → Thursday 09:00: one hour Tuesday, Wednesday is a holiday, one hour Thursday.
    assert business_minutes(OFFICE, at(1, 16), at(3, 9)) == 120
    # Friday 15:00 → Monday 09:00 crosses a weekend with no hours: 60 + 60.
    assert business_minutes(OFFICE, at(4, 15), at(7, 9)) == 120


def test_it_counts_long_spans_by_whole_weeks_minus_holidays():
    weeks = 52
    assert business_minutes(OFFICE, at(0, 0), at(7 * weeks, 0)) == weeks * OFFICE.week_minutes - 540
    assert business_minutes(ALL_HOURS, at(0, 0), at(10, 0)) == 10 * 24 * 60


def test_it_adds_working_minutes_across_a_weekend():
    # Friday 15:00 + 2 h: one hour Friday (closes at 16:00), one hour from Monday 08:00.
    assert add_minutes(OFFICE, at(4, 15), 120) == at(7, 9)


def test_it_adds_working_minutes_across_a_holiday():
    # Tuesday 16:30 + 1 h: 30 minutes Tuesday, Wednesday is a holiday, 30 minutes Thursday.
    assert add_minutes(OFFICE, at(1, 16, 30), 60) == at(3, 8, 30)


def test_it_lets_a_deadline_fall_on_closing_time():
    assert add_minutes(OFFICE, at(0, 8), 9 * 60) == at(0, 17)


def test_it_starts_the_clock_at_the_next_working_minute():
    assert clock_start(OFFICE, at(5, 4, 20)) == at(7, 8)  # entered on a Saturday
    assert clock_start(OFFICE, at(0, 10, 15)) == at(0, 10, 15)
    assert clock_start(OFFICE, at(1, 17)) == at(3, 8)  # after hours before a holiday


def test_it_adds_long_waits_by_whole_weeks():
    minutes = 30 * OFFICE.week_minutes + 60
    result = add_minutes(OFFICE, at(0, 8), minutes)
    assert result is not None
    assert business_minutes(OFFICE, at(0, 8), result) == minutes


@pytest.mark.parametrize("minutes", [0, 1, 59, 540, 541, 2000, 9000])
def test_it_adds_and_counts_consistently(minutes: int):
    start = at(1, 16, 45)
    result = add_minutes(OFFICE, start, minutes)
    assert result is not None and business_minutes(OFFICE, start, result) == minutes


def test_it_has_no_deadline_on_a_calendar_without_hours():
    assert add_minutes(WorkCalendar(hours={}), at(0, 8), 60) is None


def test_it_refuses_naive_datetimes():
    with pytest.raises(ValueError):
        business_minutes(OFFICE, datetime(2030, 5, 13), datetime(2030, 5, 14))


def test_it_pauses_the_clock_for_the_working_minutes_of_a_wait():
    # Waiting Friday 15:00 → Monday 10:00 pauses one hour Friday and two Monday, not the weekend.
    paused = paused_minutes(OFFICE, [(at(4, 15), at(7, 10))])
    assert paused == 180
    # Started Friday 14:00: by Monday 11:00 the clock ran 1 h Friday + 1 h Monday.
    assert clock_minutes(OFFICE, at(4, 14), at(7, 11), paused) == 120


def test_it_pushes_a_deadline_back_by_the_time_waited():
    # A 4-hour goal from Monday 14:00: 3 h Monday, 1 h Tuesday → Tuesday 09:00; 30 minutes
    # waited push it to 09:30.
    assert deadline(OFFICE, at(0, 14), 240, 0) == at(1, 9)
    assert deadline(OFFICE, at(0, 14), 240, 30) == at(1, 9, 30)
    # From Tuesday 14:00 with 2 h waited: 3 h Tuesday, Wednesday is a holiday, 3 h Thursday.
    assert deadline(OFFICE, at(1, 14), 240, 120) == at(3, 11)
