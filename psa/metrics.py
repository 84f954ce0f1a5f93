"""Counters of the PSA traffic (exported at /metrics, see sync/metrics.py): requests sent, 429s
answered, and waits for the shared rate budget, per connection and budget.

psa/http.py knows a connection only through its rate budget's key (`connection:<id>:<kind>`,
see budget_for_connection), so the labels come from there; a request sent without a budget
(connection tests, discovery) counts under connection "" and budget "none".
"""

from __future__ import annotations

from typing import Any

from topleft.counters import CounterFamily, counter_add, counters_add

_BY_BUDGET = ("connection", "budget")
PSA_REQUESTS = CounterFamily("topleft_psa_requests", "PSA HTTP requests sent, retries included", _BY_BUDGET)
PSA_THROTTLED = CounterFamily("topleft_psa_throttled", "PSA answers 429 Too Many Requests", _BY_BUDGET)
BUDGET_WAITS = CounterFamily(
    "topleft_psa_budget_waits", "Requests that waited for the connection's rate budget", _BY_BUDGET
)
BUDGET_WAIT_SECONDS = CounterFamily(
    "topleft_psa_budget_wait_seconds", "Seconds spent waiting for the rate budget", _BY_BUDGET
)
# Values kept only in a record's raw JSON: a picklist value or referenced record the mirror does
# not know (yet), or a user-defined field (Autotask). Counted, never fatal.
UNMAPPED_VALUES = CounterFamily(
    "topleft_psa_unmapped_values",
    "Record values kept only in the raw JSON (unknown picklist values, user-defined fields)",
    ("connection", "field"),
)
FAMILIES = [PSA_REQUESTS, PSA_THROTTLED, BUDGET_WAITS, BUDGET_WAIT_SECONDS, UNMAPPED_VALUES]


def budget_labels(budget: Any) -> dict[str, str]:
    """{connection, budget} of a RateBudget (or None: a request outside any budget)."""
    key = getattr(budget, "key", None)
    if not key:
        return {"connection": "", "budget": "none"}
    parts = str(key).split(":")
    if len(parts) == 3 and parts[0] == "connection":
        return {"connection": parts[1], "budget": parts[2]}
    return {"connection": "", "budget": str(key)}


def psa_request_sent(budget: Any) -> None:
    counter_add(PSA_REQUESTS, budget_labels(budget))


def psa_throttled(budget: Any) -> None:
    counter_add(PSA_THROTTLED, budget_labels(budget))


def psa_budget_waited(budget: Any, seconds: float) -> None:
    if seconds > 0:
        labels = budget_labels(budget)
        counters_add([(BUDGET_WAITS, 1, labels), (BUDGET_WAIT_SECONDS, seconds, labels)])


def psa_unmapped_values(connection_id: int, field: str, count: int) -> None:
    if count > 0:
        counter_add(UNMAPPED_VALUES, {"connection": str(connection_id), "field": field}, count)
