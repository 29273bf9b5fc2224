"""Routes of the records API (mounted under /api/v1/): the Korean procedure records."""

from rest_framework.routers import SimpleRouter

from access.api.urls import CASE
from records.api import views

app_name = "records-api"

router = SimpleRouter()
router.register(
    f"{CASE}/procedure-documents", views.ProcedureDocumentViewSet, basename="case-procedure-document"
)
router.register(
    f"{CASE}/scene-confirmations", views.SceneConfirmationViewSet, basename="case-scene-confirmation"
)
router.register(f"{CASE}/unrelated", views.UnrelatedMarkViewSet, basename="case-unrelated")
router.register(
    f"{CASE}/unrelated-disposals", views.UnrelatedDisposalViewSet, basename="case-unrelated-disposal"
)

urlpatterns = router.urls
