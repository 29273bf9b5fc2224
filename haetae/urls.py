"""Top-level URLs: the portal, the admin, the REST API under /api/v1/, and the OpenAPI schema and docs."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("", include("portal.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("casefile.api.urls")),
    path("api/v1/", include("evidence.api.urls")),
    path("api/v1/", include("accounts.api.urls")),
    # --- access: break-glass grants ---
    path("api/v1/", include("casefile.api.breakglass")),
    # --- pipe: detection API ---
    path("api/v1/", include("detection.api.urls")),
    # --- pdq: hash banks, matches, match alerts ---
    path("api/v1/", include("detection.api.urls_banks")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
