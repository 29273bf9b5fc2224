"""Routes of the evidence API (mounted under /api/v1/)."""

from django.urls import re_path
from rest_framework.routers import SimpleRouter

from access.api.urls import CASE
from evidence.api.views import CaseEvidenceUploadView, EvidenceItemViewSet

app_name = "evidence-api"

router = SimpleRouter()
router.register("evidence", EvidenceItemViewSet, basename="evidence")

urlpatterns = [
    re_path(rf"^{CASE}/evidence/$", CaseEvidenceUploadView.as_view(), name="case-evidence"),
    *router.urls,
]
