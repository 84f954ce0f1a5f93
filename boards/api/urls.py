"""/api/: boards (with cards, moves, ranks), card actions, and the OpenAPI schema and docs."""

from django.contrib.auth.decorators import login_required
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from boards.api import card_views
from boards.api.views import BoardViewSet

router = DefaultRouter()
router.register("boards", BoardViewSet, basename="api-board")

card = "boards/<int:board_id>/cards/<int:psa_id>/"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI loads its files from drf-spectacular-sidecar (settings: SIDECAR), so the docs
    # work offline. (No ReDoc page: its bundle fetches its footer logo from cdn.redoc.ly.)
    path("docs/", login_required(SpectacularSwaggerView.as_view(url_name="api-schema")), name="api-docs"),
    path(card + "notes/", card_views.CardNotesView.as_view(), name="api-card-notes"),
    path(card + "time/", card_views.CardTimeView.as_view(), name="api-card-time"),
    path(card + "resources/", card_views.CardResourcesView.as_view(), name="api-card-resources"),
    path(card + "priority/", card_views.CardPriorityView.as_view(), name="api-card-priority"),
    path(card + "close/", card_views.CardCloseView.as_view(), name="api-card-close"),
    path(card + "retry/", card_views.CardRetryView.as_view(), name="api-card-retry"),
    *router.urls,
]
