"""Routes of the exhibits API (mounted under /api/v1/): exhibits, reports, export bundles, interchange."""

from rest_framework.routers import SimpleRouter

from access.api.urls import CASE
from exhibits.api import interchange, views

app_name = "exhibits-api"

router = SimpleRouter()
router.register(f"{CASE}/exhibits", views.ExhibitViewSet, basename="case-exhibit")
router.register(f"{CASE}/reports", views.CaseReportViewSet, basename="case-report")
router.register(f"{CASE}/bundles", views.CaseBundleViewSet, basename="case-bundle")
router.register("reports", views.ReportViewSet, basename="report")
router.register("bundles", views.BundleViewSet, basename="bundle")
router.register(f"{CASE}/interchange", interchange.InterchangeViewSet, basename="case-interchange")

urlpatterns = router.urls
