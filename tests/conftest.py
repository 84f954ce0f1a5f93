"""Shared fixtures. Tests touching the database run on PostgreSQL and tests of Celery or the
cache's atomicity on Redis (make test sets DATABASE_URL and REDIS_URL); a plain `pytest` without
them skips those tests with a one-line reason instead of failing them on the SQLite defaults."""

import pytest
import time_machine

from tests.support.clock import FROZEN_NOW

_DATABASE_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "live_server"}


def _touches_database(item: pytest.Item) -> bool:
    return item.get_closest_marker("django_db") is not None or bool(
        _DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from django.conf import settings

    on_postgresql = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    no_postgresql = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL (make test does)")
    no_redis = pytest.mark.skip(reason="needs Redis: set REDIS_URL (make test does)")
    for item in items:
        if not on_postgresql and _touches_database(item):
            item.add_marker(no_postgresql)
        elif not settings.REDIS_URL and item.get_closest_marker("redis"):
            item.add_marker(no_redis)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Start from an empty cache: keys of an earlier run (replay marks, refresh queues, zone
    caches) name connection ids that the new test database hands out again."""
    from django.conf import settings
    from django.core.cache import cache

    if settings.REDIS_URL:
        try:
            cache.clear()
        except Exception as err:  # Redis down: the tests that need it say so themselves
            print(f"cache not cleared at session start: {err}")


@pytest.fixture
def fresh_cache():
    """An empty cache before and after the test (discovery, signing keys and refresh queues live
    there). Modules opt in with `pytestmark = pytest.mark.usefixtures("fresh_cache")`."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def cloud_psa():
    """A `responses` mock of the cloud site in tests.support.cloud_psa, companyinfo answered;
    the test adds the API answers it needs."""
    import responses

    from tests.support.cloud_psa import COMPANY_INFO, INFO_URL

    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(INFO_URL, json=COMPANY_INFO)
        yield rsps


@pytest.fixture
def frozen_now(frozen_clock):
    """Freeze the wall clock (time.time, datetime.now, timezone.now) at FROZEN_NOW for the test and
    return that instant. time.monotonic keeps running, so deadlines and timeouts still work; other
    processes (a sandbox server, a Celery worker) keep the real clock."""
    return FROZEN_NOW


@pytest.fixture
def frozen_clock():
    """The time-machine coordinates behind `frozen_now`, for a test that needs time to pass:
    `frozen_clock.shift(60)` moves it a minute on, `frozen_clock.move_to(FROZEN_NOW, tick=True)`
    lets it run from FROZEN_NOW."""
    with time_machine.travel(FROZEN_NOW, tick=False) as clock:
        yield clock
