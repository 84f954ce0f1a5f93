import logging
import uuid

import pytest
import requests
import responses
import urllib3.exceptions
from django.conf import settings

from psa.errors import (
    AuthError,
    BadRequest,
    ConfigurationError,
    NotFound,
    RateLimited,
    ServerError,
    TransportError,
)
from psa.http import (
    BACKGROUND,
    INTERACTIVE,
    RateBudget,
    RetryingHttp,
    RetryPolicy,
    budget_for_connection,
)
from sync.models import Connection

URL = "https://api-na.myconnectwise.net/v2025_1/apis/3.0/service/tickets"


class CountingBudget:
    def __init__(self):
        self.acquired = 0

    def acquire(self):
        self.acquired += 1
        return 0.0


@pytest.fixture
def sleeps():
    return []


def _http(sleeps, policy=BACKGROUND, budget=None):
    return RetryingHttp(policy=policy, budget=budget, sleep=sleeps.append)


def _connection_refused():
    reason = urllib3.exceptions.NewConnectionError(None, "Connection refused")
    return requests.exceptions.ConnectionError(urllib3.exceptions.MaxRetryError(None, URL, reason))


@responses.activate
def test_it_waits_exactly_retry_after_on_429(sleeps):
    responses.get(URL, status=429, headers={"Retry-After": "7"}, json={"message": "Too many requests"})
    responses.get(URL, status=200, json=[{"id": 1}])
    http = _http(sleeps)
    assert http.send("GET", URL).json() == [{"id": 1}]
    assert sleeps == [7.0]
    assert http.requests_made == 2


@responses.activate
def test_it_caps_retry_after_by_the_policy_and_has_a_default_when_missing(sleeps):
    responses.get(URL, status=429, headers={"Retry-After": "30"})
    responses.get(URL, status=429)
    responses.get(URL, status=200, json=[])
    _http(sleeps, policy=INTERACTIVE).send("GET", URL)
    assert sleeps == [INTERACTIVE.cap, INTERACTIVE.default_retry_after]


@responses.activate
def test_it_backs_off_exponentially_with_jitter_on_5xx(sleeps):
    policy = RetryPolicy("t", attempts=6, base=0.5, cap=3.0, connect_timeout=1, read_timeout=2)
    for status in (500, 502, 503, 504, 500):
        responses.get(URL, status=status)
    responses.get(URL, status=200, json=[])
    _http(sleeps, policy=policy).send("GET", URL)
    assert len(sleeps) == 5
    for attempt, wait in enumerate(sleeps):
        floor = min(0.5 * 2**attempt, 3.0)
        assert floor <= wait <= min(floor + 0.5, 3.0)
    assert sleeps[-1] == 3.0  # capped


@pytest.mark.parametrize(
    "failure",
    [
        requests.exceptions.ReadTimeout("read timed out"),
        requests.exceptions.ConnectTimeout("connect"),
        requests.exceptions.ConnectionError("reset by peer"),
    ],
)
@responses.activate
def test_it_retries_timeouts_and_connection_errors(sleeps, failure):
    responses.get(URL, body=failure)
    responses.get(URL, json={"ok": True})
    http = _http(sleeps)
    assert http.send("GET", URL).json() == {"ok": True}
    assert len(sleeps) == 1 and http.requests_made == 2


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequest),
        (401, AuthError),
        (403, AuthError),
        (404, NotFound),
        (409, BadRequest),
        (422, BadRequest),
    ],
)
@responses.activate
def test_it_never_retries_other_4xx(sleeps, status, cls):
    responses.get(URL, status=status, json={"code": "X", "message": "nope"})
    http = _http(sleeps)
    with pytest.raises(cls):
        http.send("GET", URL)
    assert sleeps == [] and http.requests_made == 1


@pytest.mark.parametrize(
    ("register", "cls"),
    [
        ({"status": 503}, ServerError),
        ({"status": 429, "headers": {"Retry-After": "1"}}, RateLimited),
        ({"body": requests.exceptions.ReadTimeout("slow")}, TransportError),
    ],
)
@responses.activate
def test_it_raises_the_last_error_when_attempts_run_out(sleeps, register, cls):
    responses.get(URL, **register)
    http = _http(sleeps, policy=BACKGROUND)
    with pytest.raises(cls) as caught:
        http.send("GET", URL)
    assert http.requests_made == BACKGROUND.attempts
    assert len(sleeps) == BACKGROUND.attempts - 1
    assert caught.value.url == URL and caught.value.method == "GET"


@responses.activate
def test_it_does_not_repeat_a_post_the_psa_may_have_processed(sleeps):
    responses.post(URL, body=requests.exceptions.ReadTimeout("slow"))
    http = _http(sleeps)
    with pytest.raises(TransportError):
        http.send("POST", URL, json={"summary": "x"})
    assert http.requests_made == 1
    responses.replace(responses.POST, URL, status=500)
    with pytest.raises(ServerError):
        http.send("POST", URL, json={"summary": "x"})
    assert http.requests_made == 2


@responses.activate
def test_it_repeats_a_post_the_psa_certainly_did_not_process(sleeps):
    responses.post(URL, status=429, headers={"Retry-After": "3"})
    responses.post(URL, body=_connection_refused())
    responses.post(URL, status=201, json={"id": 9})
    http = _http(sleeps)
    assert http.send("POST", URL, json={"summary": "x"}).json() == {"id": 9}
    assert http.requests_made == 3 and sleeps[0] == 3.0


@responses.activate
def test_it_sends_explicit_connect_and_read_timeouts(sleeps):
    responses.get(URL, json=[])
    RetryingHttp(policy=INTERACTIVE, sleep=sleeps.append).send("GET", URL)
    RetryingHttp(policy=BACKGROUND, read_timeout=12, sleep=sleeps.append).send("GET", URL)
    assert responses.calls[0].request.req_kwargs["timeout"] == (
        INTERACTIVE.connect_timeout,
        INTERACTIVE.read_timeout,
    )
    assert responses.calls[1].request.req_kwargs["timeout"] == (BACKGROUND.connect_timeout, 12)


@responses.activate
def test_it_refuses_to_follow_redirects(sleeps):
    responses.get(URL, status=302, headers={"Location": "https://evil.example/"})
    with pytest.raises(ConfigurationError, match="redirected"):
        _http(sleeps).send("GET", URL)


@responses.activate
def test_it_logs_every_retry_with_its_reason(sleeps, caplog):
    responses.get(URL, status=503, json={"code": "Down", "message": "maintenance"})
    responses.get(URL, status=429, headers={"Retry-After": "2"})
    responses.get(URL, json=[])
    with caplog.at_level(logging.WARNING, logger="psa.http"):
        _http(sleeps).send("GET", URL)
    messages = [r.getMessage() for r in caplog.records if r.name == "psa.http"]
    assert len(messages) == 2
    assert "HTTP 503" in messages[0] and "maintenance" in messages[0]
    assert "HTTP 429" in messages[1] and "in 2.00s" in messages[1]


@responses.activate
def test_it_draws_from_the_budget_for_every_attempt(sleeps):
    responses.get(URL, status=500)
    responses.get(URL, status=429)
    responses.get(URL, json=[])
    budget = CountingBudget()
    http = _http(sleeps, budget=budget)
    http.send("GET", URL)
    assert budget.acquired == http.requests_made == 3


# --- rate budget ------------------------------------------------------------------------------


def test_it_limits_a_memory_budget_and_waits_for_a_free_slot():
    waits = []
    budget = RateBudget(f"test-{uuid.uuid4()}", 3, storage_uri="memory://", sleep=waits.append)
    assert [budget.try_acquire() for _ in range(4)] == [True, True, True, False]
    assert budget.remaining() == 0

    def fake_sleep(seconds):  # time passes: the window frees up
        waits.append(seconds)
        budget.reset()

    budget.sleep = fake_sleep
    waited = budget.acquire()
    assert waits and 0 < waits[0] <= budget.max_wait_step
    assert waited == sum(waits)
    assert budget.remaining() == 2


def test_it_shares_a_memory_budget_between_instances_with_the_same_key():
    key = f"test-{uuid.uuid4()}"
    first, second = RateBudget(key, 2, storage_uri="memory://"), RateBudget(key, 2, storage_uri="memory://")
    assert first.try_acquire() and second.try_acquire()
    assert not first.try_acquire() and not second.try_acquire()


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL")
def test_it_shares_a_redis_budget_between_instances_with_the_same_key():
    key = f"test-{uuid.uuid4()}"
    first = RateBudget(key, 5, storage_uri=settings.REDIS_URL)
    second = RateBudget(key, 5, storage_uri=settings.REDIS_URL)
    other = RateBudget(f"{key}-other", 5, storage_uri=settings.REDIS_URL)
    try:
        assert all(first.try_acquire() for _ in range(3))
        assert all(second.try_acquire() for _ in range(2))
        assert not first.try_acquire() and not second.try_acquire()
        assert first.remaining() == 0
        assert other.try_acquire()
    finally:
        first.reset()
        other.reset()


def test_it_uses_redis_for_budgets_when_configured():
    budget = RateBudget(f"test-{uuid.uuid4()}", 5)
    storage = type(budget.limiter.storage).__name__
    assert storage == ("RedisStorage" if settings.REDIS_URL else "MemoryStorage")


def test_it_sizes_the_connection_budgets(settings):
    settings.PSA_BACKGROUND_BUDGET_PER_MINUTE = 600
    default = Connection(pk=7, background_budget_per_minute=None)
    site = {"site_per_minute": 1000}  # the provider's own limit
    assert budget_for_connection(default, **site).per_minute == 600
    assert budget_for_connection(default, **site).key == "connection:7:background"
    interactive = budget_for_connection(default, interactive=True, **site)
    assert interactive.per_minute == 400 and interactive.key == "connection:7:interactive"
    custom = Connection(pk=8, background_budget_per_minute=900)
    assert budget_for_connection(custom, **site).per_minute == 900
    assert budget_for_connection(custom, interactive=True, **site).per_minute == 100
    settings.PSA_SITE_REQUESTS_PER_MINUTE = 5000  # an override wins over the provider's limit
    assert budget_for_connection(custom, interactive=True, **site).per_minute == 4100
