"""Routes of the cases API (mounted under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from casefile.api import support as support_api
from casefile.api.views import CaseViewSet

app_name = "casefile-api"

router = SimpleRouter()
router.register("cases", CaseViewSet, basename="case")

# --- support: victim support files, consents, notes, takedowns, hash export (casefile/api/support.py) ---
router.register(
    rf"{support_api.CASE_PREFIX}/support-files/(?P<support_file_pk>[0-9]+)/consents",
    support_api.SupportConsentViewSet,
    basename="support-consent",
)
router.register(
    rf"{support_api.CASE_PREFIX}/support-files", support_api.SupportFileViewSet, basename="support-file"
)
router.register(rf"{support_api.CASE_PREFIX}/takedowns", support_api.TakedownViewSet, basename="takedown")
router.register("takedowns", support_api.OverdueAcrossCasesViewSet, basename="takedown-all")
# --- end support ---

urlpatterns = router.urls
