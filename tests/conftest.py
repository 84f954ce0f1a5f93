"""Shared fixtures. Tests touching the database run on PostgreSQL (make test sets DATABASE_URL)."""

import pytest
import time_machine

from tests.support.clock import FROZEN_NOW


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
def frozen_now():
    """Freeze the wall clock (time.time, datetime.now, timezone.now) at FROZEN_NOW for the test and
    yield that instant. time.monotonic keeps running, so deadlines and timeouts still work; other
    processes (a sandbox server, a Celery worker) keep the real clock."""
    with time_machine.travel(FROZEN_NOW, tick=False):
        yield FROZEN_NOW
