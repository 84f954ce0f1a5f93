"""The deadline inside a ConnectWise slaStatus."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from psa.connectwise.sla_status import deadline_columns, sla_deadline

NEAR = datetime(2030, 5, 15, 10, 30, tzinfo=UTC)  # a Wednesday


@pytest.mark.parametrize(
    ("text", "stage", "deadline"),
    [
        ("Respond by Thu 05/16 9:00 AM UTC+00", "respond", datetime(2030, 5, 16, 9, 0, tzinfo=UTC)),
        ("Plan by Thu 05/16 1:30 PM UTC-04", "plan", datetime(2030, 5, 16, 17, 30, tzinfo=UTC)),
        ("Resolve by Mon 05/13 12:05 AM UTC+05:30", "resolve", datetime(2030, 5, 12, 18, 35, tzinfo=UTC)),
        ("Resolve by Thu 05/16 12:00 PM", "resolve", datetime(2030, 5, 16, 12, 0, tzinfo=UTC)),
        ("respond by 05/16/2030 14:00", "respond", datetime(2030, 5, 16, 14, 0, tzinfo=UTC)),
        ("Respond by 2030-05-16 10:00", "respond", datetime(2030, 5, 16, 10, 0, tzinfo=UTC)),
    ],
)
def test_it_reads_the_deadline_forms(text, stage, deadline):
    assert sla_deadline(text, NEAR) == (stage, deadline)


def test_it_picks_the_year_whose_weekday_matches_nearest_the_update():
    # 01/02 is a Wednesday in 2030 and a Thursday in 2031: the weekday decides across New Year.
    assert sla_deadline("Respond by Thu 01/02 9:00 AM UTC+00", datetime(2030, 12, 30, tzinfo=UTC)) == (
        "respond",
        datetime(2031, 1, 2, 9, 0, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    "text", ["Waiting", "Resolved", "", None, "Respond by someday", "Plan by Thu 02/30 9:00 AM"]
)
def test_it_gives_no_deadline_when_none_is_stated(text):
    assert sla_deadline(text, NEAR) is None
    assert deadline_columns(text, NEAR) == {"respond_by": None, "plan_by": None, "resolve_by": None}


def test_it_fills_only_the_stated_stage():
    assert deadline_columns("Plan by Thu 05/16 9:00 AM UTC+00", NEAR) == {
        "respond_by": None,
        "plan_by": datetime(2030, 5, 16, 9, 0, tzinfo=UTC),
        "resolve_by": None,
    }
