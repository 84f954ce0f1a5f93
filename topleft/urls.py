from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from boards.views.psa_member import psa_member_page
from topleft import ops_views

urlpatterns = [
    path("healthz", ops_views.healthz, name="healthz"),
    path("readyz", ops_views.readyz, name="readyz"),
    path("metrics", ops_views.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("sync.urls")),
    path("boards/me/member/", psa_member_page, name="psa-member"),
    path("boards/", include("boards.urls")),
    path("api/", include("boards.api.urls")),
    path("", RedirectView.as_view(url="/boards/", permanent=False)),
]
