"""Routes of the accounts API (mounted under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from accounts.api.views import ApiTokenViewSet

app_name = "accounts-api"

router = SimpleRouter()
router.register("tokens", ApiTokenViewSet, basename="token")

urlpatterns = router.urls
