"""HTTP to a PSA: explicit timeouts, retries with tenacity, a shared per-connection rate budget.

Retry rules (ConnectWise developer guide, "Retry Policy" and "Rate Limiting"):
- 429 → wait exactly the server's Retry-After seconds (capped by the policy's cap; a default
  when the header is missing), then retry.
- 5xx, timeouts, connection errors → exponential backoff with jitter, capped.
- any other 4xx → no retry: the request itself is wrong (PermanentError).
- A POST that creates something (not a `/search`) is only repeated when the PSA certainly did
  not act on it (429, or the connection was never established): repeating it after a read
  timeout or a 5xx could create the record twice. The caller (outbox) decides about those.
Every retry is logged on the `psa.http` logger with its reason.

The rate budget spreads our own requests so the PSA (throttling from ~1000 requests/minute per
site) never has to answer 429: background work and interactive work draw from separate budgets.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
import tenacity
import urllib3.exceptions
from django.conf import settings
from limits import RateLimitItemPerSecond
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from psa import metrics
from psa.errors import (
    ConfigurationError,
    PSAError,
    RateLimited,
    RetryableError,
    TransportError,
    error_from_response,
)

logger = logging.getLogger("psa.http")

MIN_INTERACTIVE_PER_MINUTE = 60  # an interactive edit never waits behind a tiny budget


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts (including the first), backoff base and cap, timeouts."""

    name: str
    attempts: int
    base: float  # first backoff delay, seconds; doubles each retry
    cap: float  # no single wait longer than this, seconds (also caps Retry-After)
    connect_timeout: float
    read_timeout: float
    default_retry_after: float = 2.0  # a 429 without Retry-After waits this long

    def timeout(self, read_timeout: float | None = None) -> tuple[float, float]:
        return (self.connect_timeout, read_timeout or self.read_timeout)


# A person is waiting (write-back, webhook refresh): few attempts, ~4 s of waiting at most.
INTERACTIVE = RetryPolicy(
    "interactive",
    attempts=3,
    base=0.25,
    cap=2.0,
    connect_timeout=3.05,
    read_timeout=15,
    default_retry_after=1.0,
)
# Nobody is waiting (sync, notes): many attempts, waits up to a minute each.
BACKGROUND = RetryPolicy(
    "background",
    attempts=8,
    base=0.5,
    cap=60.0,
    connect_timeout=5,
    read_timeout=60,
)


class _WaitForPSA(tenacity.wait.wait_base):
    """Retry-After for a 429, exponential backoff with jitter for everything else."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.backoff = tenacity.wait_exponential_jitter(
            multiplier=policy.base, max=policy.cap, jitter=policy.base
        )

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(error, RateLimited):
            wanted = error.retry_after if error.retry_after is not None else self.policy.default_retry_after
            return min(wanted, self.policy.cap)
        return min(self.backoff(retry_state), self.policy.cap)


def _never_reached_server(error: BaseException) -> bool:
    """True when the request certainly was not processed (safe to repeat even a POST)."""
    if isinstance(error, RateLimited):
        return True
    if isinstance(error, TransportError):
        cause = error.__cause__
        if isinstance(cause, requests.exceptions.ConnectTimeout):
            return True
        reason = getattr(cause.args[0], "reason", None) if cause and cause.args else None
        return isinstance(reason, urllib3.exceptions.NewConnectionError)
    return False


def _transport_error(exc: requests.RequestException, *, method: str, url: str) -> PSAError:
    if isinstance(exc, requests.exceptions.Timeout):
        kind = "connect timeout" if isinstance(exc, requests.exceptions.ConnectTimeout) else "read timeout"
        return TransportError(f"{kind} talking to the PSA", method=method, url=url)
    if isinstance(exc, requests.exceptions.SSLError):
        return TransportError(
            f"TLS failure talking to the PSA ({exc.__class__.__name__})", method=method, url=url
        )
    if isinstance(exc, requests.exceptions.ConnectionError):
        return TransportError("connection to the PSA failed or was reset", method=method, url=url)
    return ConfigurationError(f"request could not be built: {exc}", method=method, url=url)


class RetryingHttp:
    """Sends requests with the policy's timeouts and retries; every attempt draws from the budget."""

    def __init__(
        self,
        *,
        policy: RetryPolicy = BACKGROUND,
        budget: RateBudget | None = None,
        session: requests.Session | None = None,
        read_timeout: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        error_for: Callable[..., PSAError] = error_from_response,
    ) -> None:
        self.policy = policy
        self.budget = budget
        # (response, *, method, url) → the PSAError of a non-2xx answer; a provider whose error
        # bodies differ (Autotask: a business rule answered as a 500 is final) passes its own.
        self.error_for = error_for
        self.session = session or requests.Session()
        self.read_timeout = read_timeout
        self.sleep = sleep
        self.requests_made = 0

    def send(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        repeatable: bool | None = None,
    ) -> requests.Response:
        """The 2xx response, or raise the PSAError describing the last failure.

        `repeatable` says whether the request may be repeated after an ambiguous failure;
        by default every method except POST is.
        """
        if repeatable is None:
            repeatable = method.upper() != "POST"

        def should_retry(error: BaseException) -> bool:
            if not isinstance(error, RetryableError):
                return False
            return repeatable or _never_reached_server(error)

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.policy.attempts),
            wait=_WaitForPSA(self.policy),
            retry=tenacity.retry_if_exception(should_retry),
            before_sleep=self._log_retry,
            sleep=self.sleep,
            reraise=True,
        )
        return retrying(self._attempt, method, url, params=params, json=json, headers=headers)

    def _attempt(self, method: str, url: str, **kw: Any) -> requests.Response:
        if self.budget is not None:
            self.budget.acquire()
        self.requests_made += 1
        metrics.psa_request_sent(self.budget)
        try:
            response = self.session.request(
                method, url, timeout=self.policy.timeout(self.read_timeout), allow_redirects=False, **kw
            )
        except requests.RequestException as exc:
            raise _transport_error(exc, method=method, url=url) from exc
        if response.status_code == 429:
            metrics.psa_throttled(self.budget)
        if response.status_code >= 400 or response.status_code < 200:
            raise self.error_for(response, method=method, url=url)
        if 300 <= response.status_code < 400:
            # Never follow a redirect with the credentials attached; the site URL is wrong.
            raise ConfigurationError(
                f"the PSA redirected to {response.headers.get('Location')!r}; check the site URL",
                method=method,
                url=url,
                status=response.status_code,
            )
        return response

    def _log_retry(self, retry_state: tenacity.RetryCallState) -> None:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        wait = retry_state.next_action.sleep if retry_state.next_action else 0.0
        logger.warning(
            "PSA request retry %d/%d in %.2fs (%s policy): %s",
            retry_state.attempt_number,
            self.policy.attempts - 1,
            wait,
            self.policy.name,
            error,
        )


# --- Rate budget ------------------------------------------------------------------------------

_limiters_lock = threading.Lock()
_limiter_for: dict[str, MovingWindowRateLimiter] = {}


def _limiter(storage_uri: str) -> MovingWindowRateLimiter:
    """One storage (and connection pool) per URI per process, so same-key budgets share a count."""
    with _limiters_lock:
        if storage_uri not in _limiter_for:
            _limiter_for[storage_uri] = MovingWindowRateLimiter(storage_from_string(storage_uri))
        return _limiter_for[storage_uri]


def default_budget_storage() -> str:
    """Redis when configured (shared by every worker process), else this process's memory."""
    return getattr(settings, "REDIS_URL", None) or "memory://"


class RateBudget:
    """At most `per_minute` requests in any moving 60-second window for everyone using `key`."""

    def __init__(
        self,
        key: str,
        per_minute: int,
        *,
        storage_uri: str | None = None,
        window_seconds: int = 60,
        sleep: Callable[[float], None] = time.sleep,
        max_wait_step: float = 5.0,
    ) -> None:
        if per_minute < 1:
            raise ValueError("a rate budget needs at least one request per window")
        self.key = key
        self.per_minute = per_minute
        self.item = RateLimitItemPerSecond(per_minute, window_seconds)
        self.limiter = _limiter(storage_uri or default_budget_storage())
        self.sleep = sleep
        self.max_wait_step = max_wait_step
        self.waited_seconds = 0.0

    def try_acquire(self) -> bool:
        """Take one request slot if one is free now."""
        try:
            return self.limiter.hit(self.item, "psa-budget", self.key)
        except Exception as exc:  # storage outage: the PSA's own 429 remains the backstop
            logger.warning("rate budget %s unavailable, not limiting: %s", self.key, exc)
            return True

    def seconds_until_free(self) -> float:
        try:
            stats = self.limiter.get_window_stats(self.item, "psa-budget", self.key)
        except Exception:
            return 0.0
        return max(stats.reset_time - time.time(), 0.0)

    min_wait_step = 0.01

    def may_take(self) -> bool:
        """Take one request slot if this budget lets us now (a subclass may narrow it)."""
        return self.try_acquire()

    def acquire(self) -> float:
        """Block until a request slot is free and take it. Returns the seconds spent waiting."""
        waited = 0.0
        while not self.may_take():
            step = min(max(self.seconds_until_free(), self.min_wait_step), self.max_wait_step)
            logger.debug("rate budget %s exhausted, waiting %.2fs", self.key, step)
            self.sleep(step)
            waited += step
        self.waited_seconds += waited
        metrics.psa_budget_waited(self, waited)
        return waited

    def remaining(self) -> int:
        stats = self.limiter.get_window_stats(self.item, "psa-budget", self.key)
        return stats.remaining

    def reset(self) -> None:
        self.limiter.clear(self.item, "psa-budget", self.key)


def budget_for_connection(connection: Any, *, interactive: bool = False, site_per_minute: int) -> RateBudget:
    """The connection's background budget (its own setting or the default), or the interactive
    budget: what is left of the site's requests per minute after background work. The site's
    limit is the provider's own (`site_per_minute`) unless PSA_SITE_REQUESTS_PER_MINUTE overrides
    it. The one place these are sized: every client of the connection, whatever its retry policy,
    shares the same two windows (one key, one limit each)."""
    background = connection.background_budget_per_minute or settings.PSA_BACKGROUND_BUDGET_PER_MINUTE
    if interactive:
        site = settings.PSA_SITE_REQUESTS_PER_MINUTE or site_per_minute
        per_minute = max(site - background, MIN_INTERACTIVE_PER_MINUTE)
        return RateBudget(f"connection:{connection.pk}:interactive", per_minute)
    return RateBudget(f"connection:{connection.pk}:background", background)
