"""Routes of the records API (mounted under /api/v1/): destruction orders and retention, and the Korean
procedure records."""

from django.urls import re_path
from rest_framework.routers import SimpleRouter

from access.api.urls import CASE
from records.api import destruction, views

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

router.register(
    f"{CASE}/destruction-orders", destruction.DestructionOrderViewSet, basename="case-destruction-order"
)

urlpatterns = [
    re_path(rf"^{CASE}/retention/$", destruction.CaseRetentionView.as_view(), name="case-retention"),
    *router.urls,
]
