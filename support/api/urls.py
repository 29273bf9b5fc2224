"""Routes of the victim-support API (mounted under /api/v1/): support files, consents, notes, takedowns."""

from rest_framework.routers import SimpleRouter

from support.api import views

app_name = "support-api"

router = SimpleRouter()
router.register(
    rf"{views.CASE_PREFIX}/support-files/(?P<support_file_pk>[0-9]+)/consents",
    views.SupportConsentViewSet,
    basename="support-consent",
)
router.register(rf"{views.CASE_PREFIX}/support-files", views.SupportFileViewSet, basename="support-file")
router.register(rf"{views.CASE_PREFIX}/takedowns", views.TakedownViewSet, basename="takedown")
router.register("takedowns", views.OverdueAcrossCasesViewSet, basename="takedown-all")

urlpatterns = router.urls
