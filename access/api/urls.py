"""Routes of the access API (mounted under /api/v1/): offences, cases, their teams, legal authorities and
break-glass grants."""

from rest_framework.routers import SimpleRouter

from access.api import views
from access.api.breakglass import BreakGlassGrantViewSet

app_name = "access-api"

CASE = r"cases/(?P<number>[A-Za-z0-9][A-Za-z0-9-]*)"

router = SimpleRouter()
router.register("offences", views.OffenceViewSet, basename="offence")
router.register("cases", views.CaseViewSet, basename="case")
router.register(f"{CASE}/members", views.CaseMemberViewSet, basename="case-member")
router.register(f"{CASE}/authorities", views.LegalAuthorityViewSet, basename="case-authority")
router.register("break-glass", BreakGlassGrantViewSet, basename="break-glass")

urlpatterns = router.urls
