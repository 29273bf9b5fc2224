"""Routes of the hash bank and match API (mounted under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from detection.api.banks import HashBankViewSet, MatchAlertViewSet, MatchViewSet

app_name = "detection-banks-api"

router = SimpleRouter()
router.register("hash-banks", HashBankViewSet, basename="hash-bank")
router.register("matches", MatchViewSet, basename="match")
router.register("match-alerts", MatchAlertViewSet, basename="match-alert")

urlpatterns = router.urls
