"""URLs of the sync app: the PSA callback receivers."""

from django.urls import path

from sync.webhooks import connectwise_callback

app_name = "sync"

urlpatterns = [
    path("hooks/connectwise/<str:token>/", connectwise_callback, name="connectwise-callback"),
]
