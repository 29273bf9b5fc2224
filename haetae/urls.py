"""Top-level URLs: the portal, the admin, the REST API under /api/v1/ (one router per app), and the OpenAPI
schema and docs."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("", include("portal.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("access.api.urls")),
    path("api/v1/", include("evidence.api.urls")),
    path("api/v1/", include("accounts.api.urls")),
    path("api/v1/", include("detection.api.urls")),
    # Hash banks, matches, match alerts
    path("api/v1/", include("detection.api.urls_banks")),
    path("api/v1/", include("parties.api.urls")),
    path("api/v1/", include("sources.api.urls")),
    path("api/v1/", include("captures.api.urls")),
    path("api/v1/", include("support.api.urls")),
    path("api/v1/", include("search.api.urls")),
    path("api/v1/", include("exhibits.api.urls")),
    path("api/v1/", include("records.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
