"""Routes of the sources API (mounted under /api/v1/)."""

from rest_framework.routers import SimpleRouter

from access.api.urls import CASE
from sources.api import views

app_name = "sources-api"

router = SimpleRouter()
router.register(f"{CASE}/messages", views.MessageViewSet, basename="case-message")
router.register(f"{CASE}/senders", views.SenderViewSet, basename="case-sender")

urlpatterns = [*router.urls]
