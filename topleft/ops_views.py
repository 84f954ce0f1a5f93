"""Operations endpoints: /healthz (liveness), /readyz (readiness), /metrics (Prometheus).

None needs a login: /healthz and /readyz show no secrets (topleft/health.py), /metrics asks for
the METRICS_TOKEN bearer token and does not exist (404) when no token is configured.
"""

from __future__ import annotations

import hmac
from functools import cache

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from topleft.health import readiness


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    report = readiness()
    return JsonResponse(report, status=200 if report["status"] == "ready" else 503)


def _bearer_token(request: HttpRequest) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    expected = settings.METRICS_TOKEN
    if not expected:
        raise Http404("metrics are off: METRICS_TOKEN is not set")
    if not hmac.compare_digest(_bearer_token(request).encode(), expected.encode()):
        response = HttpResponse("a valid bearer token is required\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(_fleet_registry()), content_type=CONTENT_TYPE_LATEST)


@cache
def _fleet_registry() -> CollectorRegistry:
    from sync.metrics_export import metrics_registry  # the sync models load with the first scrape

    return metrics_registry()
