"""Routes of the evidence API (mounted under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from evidence.api.views import EvidenceItemViewSet

app_name = "evidence-api"

router = SimpleRouter()
router.register("evidence", EvidenceItemViewSet, basename="evidence")

urlpatterns = router.urls
