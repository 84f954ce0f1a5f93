"""The sandbox's conditions parser: every operator, escapes, nesting, null, bad input."""

from __future__ import annotations

import pytest

from psa.sandbox.connectwise.conditions import ConditionError, compile_conditions
from psa.sandbox.connectwise.query import getter_factory
from psa.sandbox.connectwise.schema import spec_for

TICKETS = spec_for("service/tickets")
RECORDS = [
    {
        "id": 1,
        "summary": 'Printer "HP" down',
        "closedFlag": False,
        "board": {"id": 3, "name": "Help Desk"},
        "budgetHours": 1.5,
        "_info": {"lastUpdated": "2026-01-02T03:04:05Z"},
        "company": {"identifier": "ACME"},
    },
    {
        "id": 2,
        "summary": "Path C:\\temp full",
        "closedFlag": True,
        "board": {"id": 4, "name": "Alerts"},
        "closedDate": "2025-12-31T00:00:00Z",
        "_info": {"lastUpdated": "2025-06-01T00:00:00Z"},
    },
    {
        "id": 3,
        "summary": "Zürich café Wi-Fi 🚨",
        "closedFlag": False,
        "board": {"id": 3, "name": "Help Desk"},
        "owner": {"id": 9, "identifier": "jdoe"},
        "_info": {"lastUpdated": "2026-02-01T00:00:00Z"},
    },
]


def ids(condition: str) -> list[int]:
    predicate = compile_conditions(condition, getter_factory(TICKETS))
    return [r["id"] for r in RECORDS if predicate(r)]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("id = 2", [2]),
        ("id != 2", [1, 3]),
        ("id < 2", [1]),
        ("id <= 2", [1, 2]),
        ("id > 2", [3]),
        ("id >= 2", [2, 3]),
        ("budgetHours > 1.25", [1]),
        ('summary contains "café"', [3]),
        ('summary CONTAINS "PRINTER"', [1]),
        ('summary like "Path*full"', [2]),
        ('summary like "*wi-fi*"', [3]),
        ('summary like "Path"', []),
        ('summary like "%wi-fi%"', [3]),  # SQL's wildcard, the form most clients send
        ('summary like "Path%full"', [2]),
        ("board/id in (3, 99)", [1, 3]),
        ('board/name in ("alerts")', [2]),
        ("closedFlag = True", [2]),
        ("ClosedFlag = false", [1, 3]),
        ("lastUpdated > [2026-01-01T00:00:00Z]", [1, 3]),
        ("_info/lastUpdated < [2026-01-01T00:00:00Z]", [2]),
        ("closedDate = null", [1, 3]),
        ("closedDate != null", [2]),
        ("owner/identifier = null", [1, 2]),
        ('company/identifier = "acme"', [1]),
    ],
)
def test_it_supports_every_operator(condition, expected):
    assert ids(condition) == expected


def test_it_unescapes_quotes_and_backslashes_in_strings():
    assert ids(r'summary = "Printer \"HP\" down"') == [1]
    assert ids(r'summary contains "C:\\temp"') == [2]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("not closedFlag = True", [1, 3]),
        ('summary not contains "printer"', [2, 3]),
        ('summary not like "Path*"', [1, 3]),
        ("board/id not in (3)", [2]),
        ("(board/id = 3 and id > 1) or closedFlag = True", [2, 3]),
        ("board/id = 3 and (id = 1 or (closedFlag = True or id = 3))", [1, 3]),
        ("not (board/id = 3 or id = 2)", []),
        ("closedFlag = False OR closedDate > [2025-12-01T00:00:00Z]", [1, 2, 3]),
        ("id = 1 or id = 2 and closedFlag = False", [1]),  # and binds tighter than or
    ],
)
def test_it_handles_not_and_or_and_parentheses(condition, expected):
    assert ids(condition) == expected


def test_it_compares_null_references_as_false_not_as_errors():
    assert ids('owner/identifier = "jdoe"') == [3]
    assert ids("owner/id > 1") == [3]


@pytest.mark.parametrize(
    "condition",
    [
        'summary = "unterminated',
        "id = ",
        "id == 2",
        "(id = 2",
        "id = 2)",
        "id = 2 and",
        "and id = 2",
        "nosuchfield = 1",
        "board/id in ()",
        "board/id in 3",
        "id = [not a date]",
        "summary like 5",
        "id > null",
        "id = 2 id = 3",
        "= 2",
        "summary @ 2",
        "id = 2 or or id = 3",
    ],
)
def test_it_rejects_malformed_conditions(condition):
    with pytest.raises(ConditionError):
        ids(condition)


def test_it_treats_an_empty_condition_as_no_filter():
    assert compile_conditions("  ", getter_factory(TICKETS)) is None
