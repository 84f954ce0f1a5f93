"""URLs of the sync app: the PSA callback receivers and the operators' sync status pages."""

from django.urls import path

from sync.views.status import connection_status, status_index, tier_sync_now
from sync.webhooks import psa_callback

app_name = "sync"

urlpatterns = [
    path("hooks/<str:provider>/<str:token>/", psa_callback, name="psa-callback"),
    path("sync/", status_index, name="status-index"),
    path("sync/connections/<int:connection_id>/", connection_status, name="connection-status"),
    path("sync/connections/<int:connection_id>/run/", tier_sync_now, name="tier-sync-now"),
]
