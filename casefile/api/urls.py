"""Routes of the cases API (mounted under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from casefile.api.views import CaseViewSet

app_name = "casefile-api"

router = SimpleRouter()
router.register("cases", CaseViewSet, basename="case")

urlpatterns = router.urls
