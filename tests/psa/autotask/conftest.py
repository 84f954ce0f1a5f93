import pytest
import responses

from tests.psa.autotask.mock import threshold_answer, zone_answer

pytestmark = pytest.mark.usefixtures("fresh_cache")


@pytest.fixture
def autotask(fresh_cache):
    """A `responses` mock with zone discovery answered (database 4242)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        zone_answer(rsps)
        threshold_answer(rsps)
        yield rsps
