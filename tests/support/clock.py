"""The one fixed "now" of the suite (the `frozen_now` fixture freezes the clock there) and PSA
timestamps built relative to it, so no test compares a hard-coded date with the wall clock."""

from datetime import UTC, datetime, timedelta

# A Wednesday, mid-morning UTC, far from any weekday-dependent default (the notes tier sweeps fully
# on Sundays) and from month or year ends.
FROZEN_NOW = datetime(2030, 5, 15, 10, 30, tzinfo=UTC)


def psa_time(now: datetime, **delta: float) -> str:
    """A PSA timestamp (`2030-05-15T09:30:00Z`) `delta` away from `now`, e.g. psa_time(now, hours=-1)."""
    return (now + timedelta(**delta)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
