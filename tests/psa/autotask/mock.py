"""A `responses` mock of Autotask's wire for unit tests: zone discovery and a zone's API base."""

from __future__ import annotations

import json
from typing import Any

import responses

DISCOVERY = "https://webservices.autotask.net/atservicesrest/"
ZONE = "https://webservices2.autotask.net/ATServicesRest/"
API = ZONE + "V1.0/"
USER = "api@acme.example"
SECRET = "s3cret"
CODE = "INTEGRATIONCODE123456789012"


def zone_answer(rsps: responses.RequestsMock, *, url: str = ZONE, ci: int = 4242) -> None:
    rsps.get(
        DISCOVERY + "v1.0/zoneInformation",
        json={"zoneName": "America East", "url": url, "webUrl": "https://ww2.autotask.net/", "ci": ci},
    )


def threshold_answer(rsps: responses.RequestsMock, *, current: int = 0, url: str = ZONE) -> None:
    rsps.get(
        url + "V1.0/ThresholdInformation",
        json={
            "externalRequestThreshold": 10000,
            "requestThresholdTimeframe": 60,
            "currentTimeframeRequestCount": current,
        },
    )


def api_calls(rsps: responses.RequestsMock) -> list:
    """The calls to the API proper (zone discovery and ThresholdInformation left out)."""
    return [
        c
        for c in rsps.calls
        if "zoneInformation" not in c.request.url and "ThresholdInformation" not in c.request.url
    ]


def page(items: list[dict], next_url: str | None = None) -> dict:
    return {
        "items": items,
        "pageDetails": {
            "count": len(items),
            "requestCount": 500,
            "nextPageUrl": next_url,
            "prevPageUrl": None,
        },
    }


def body_of(call: Any) -> dict:
    return json.loads(call.request.body)


def make_client(**kw: Any):
    from psa.autotask.client import AutotaskClient

    return AutotaskClient(username=USER, secret=SECRET, integration_code=CODE, sleep=lambda s: None, **kw)
