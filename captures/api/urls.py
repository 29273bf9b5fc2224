"""Routes of the captures API (mounted under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from captures.api import views

app_name = "captures-api"

router = SimpleRouter()
router.register(rf"{views.CASE_PREFIX}/captures", views.CaptureViewSet, basename="capture")

urlpatterns = router.urls
