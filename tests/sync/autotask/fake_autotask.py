"""A small Autotask answering through `responses`: zone discovery, POST query (filter grammar,
IncludeFields, MaxRecords, nextPageUrl paging), query/count, GET by id, entityInformation/fields
and ThresholdInformation, over in-memory records. Enough to drive the sync engine in tests."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import responses

from tests.psa.autotask.mock import API, DISCOVERY, ZONE

_NEXT = "query/next"


def _comparable(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def _field(record: dict, name: str) -> Any:
    return next((v for k, v in record.items() if k.lower() == name.lower()), None)


def matches(record: dict, item: dict) -> bool:
    op = item["op"]
    if op in ("and", "or"):
        results = [matches(record, sub) for sub in item["items"]]
        return all(results) if op == "and" else any(results)
    value, wanted = _comparable(_field(record, item["field"])), _comparable(item.get("value"))
    if op == "exist":
        return value is not None
    if op == "notExist":
        return value is None
    if op in ("in", "notIn"):
        found = value in (wanted or [])
        return found if op == "in" else not found
    if op == "noteq":
        return value != wanted
    if value is None:
        return False
    return {
        "eq": lambda: value == wanted,
        "gt": lambda: value > wanted,
        "gte": lambda: value >= wanted,
        "lt": lambda: value < wanted,
        "lte": lambda: value <= wanted,
        "contains": lambda: str(wanted).lower() in str(value).lower(),
        "beginsWith": lambda: str(value).lower().startswith(str(wanted).lower()),
        "endsWith": lambda: str(value).lower().endswith(str(wanted).lower()),
    }[op]()


class FakeAutotask:
    def __init__(self, rsps: responses.RequestsMock) -> None:
        self.records: dict[str, list[dict]] = {}
        self.picklists: dict[str, dict[str, list[dict]]] = {}  # entity → field → values
        self.queries: list[tuple[str, dict]] = []  # (entity, body) of every query page asked
        rsps.get(DISCOVERY + "v1.0/zoneInformation", json={"zoneName": "Test", "url": ZONE, "ci": 77})
        rsps.get(
            API + "ThresholdInformation",
            json={
                "externalRequestThreshold": 10000,
                "requestThresholdTimeframe": 60,
                "currentTimeframeRequestCount": 10,
            },
        )
        rsps.add_callback(responses.POST, _matcher("/query"), callback=self._query)
        rsps.add_callback(responses.GET, _matcher("/entityinformation/fields"), callback=self._fields)
        rsps.add_callback(responses.GET, _matcher(""), callback=self._get)
        rsps.add_callback(responses.PATCH, _matcher("patch"), callback=self._patch)
        self.refusal: str = ""  # a business-rule message every write is refused with, when set
        self.writes: list[tuple[str, dict]] = []  # (path, body) of every write

    def _patch(self, request) -> tuple[int, dict, str]:
        path = urlsplit(request.url).path.split("/V1.0/", 1)[1]
        body = json.loads(request.body)
        self.writes.append((path, body))
        if self.refusal:
            return 500, {}, json.dumps({"errors": [self.refusal]})
        entity = path.split("/")[-1]  # Tickets, or Projects/{id}/Tasks → Tasks
        record = next(r for r in self.records[entity] if r["id"] == body["id"])
        record.update(body)
        return 200, {}, json.dumps({"itemId": body["id"]})

    def _matching(self, entity: str, body: dict) -> list[dict]:
        rows = [
            r
            for r in self.records.get(entity, [])
            if all(matches(r, item) for item in body.get("filter") or [])
        ]
        return sorted(rows, key=lambda r: r["id"])

    def _query(self, request) -> tuple[int, dict, str]:
        parts = urlsplit(request.url)
        path = parts.path.split("/V1.0/", 1)[1]
        body = json.loads(request.body)
        if path.endswith("/query/count"):
            entity = path.removesuffix("/query/count")
            return 200, {}, json.dumps({"queryCount": len(self._matching(entity, body))})
        entity = path.split("/")[0]
        self.queries.append((entity, body))
        after = int(parse_qs(parts.query).get("after", ["0"])[0])
        rows = [r for r in self._matching(entity, body) if r["id"] > after]
        size = int(body.get("MaxRecords") or 500)
        page, more = rows[:size], len(rows) > size
        fields = body.get("IncludeFields")
        if fields:
            wanted = {f.lower() for f in fields} | {"userdefinedfields"}
            page = [{k: v for k, v in r.items() if k.lower() in wanted} for r in page]
        next_url = f"{API}{entity}/{_NEXT}?paging=x&after={page[-1]['id']}" if more else None
        return (
            200,
            {},
            json.dumps(
                {
                    "items": page,
                    "pageDetails": {"count": len(page), "requestCount": size, "nextPageUrl": next_url},
                }
            ),
        )

    def _fields(self, request) -> tuple[int, dict, str]:
        entity = urlsplit(request.url).path.split("/V1.0/", 1)[1].split("/")[0]
        fields = [
            {
                "name": name,
                "isPickList": True,
                "picklistValues": [{**v, "value": str(v["value"])} for v in values],
            }
            for name, values in self.picklists.get(entity, {}).items()
        ]
        return 200, {}, json.dumps({"fields": fields})

    def _get(self, request) -> tuple[int, dict, str]:
        entity, _, psa_id = urlsplit(request.url).path.split("/V1.0/", 1)[1].partition("/")
        found = next((r for r in self.records.get(entity, []) if str(r["id"]) == psa_id), None)
        return 200, {}, json.dumps({"item": found})


def _matcher(suffix: str):
    import re

    if suffix == "":
        return re.compile(re.escape(API) + r"[A-Za-z]+/\d+$")
    if suffix == "patch":
        return re.compile(re.escape(API) + r"[A-Za-z0-9/]+$")
    if suffix == "/query":
        return re.compile(re.escape(API) + r"[A-Za-z]+/query(/count|/next.*)?$")
    return re.compile(re.escape(API) + r"[A-Za-z]+/entityInformation/fields$", re.IGNORECASE)
