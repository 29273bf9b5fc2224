"""Routes of the parties API (mounted under /api/v1/): people, channels, links and the case graph."""

from django.urls import re_path
from rest_framework.routers import SimpleRouter

from access.api.urls import CASE
from parties.api import views

app_name = "parties-api"

router = SimpleRouter()
router.register(f"{CASE}/people", views.PersonViewSet, basename="case-person")
router.register(f"{CASE}/channels", views.ChannelViewSet, basename="case-channel")
router.register(f"{CASE}/links/item-person", views.ItemPersonLinkViewSet, basename="case-link-item-person")
router.register(f"{CASE}/links/item-channel", views.ItemChannelLinkViewSet, basename="case-link-item-channel")
router.register(
    f"{CASE}/links/person-channel", views.PersonChannelLinkViewSet, basename="case-link-person-channel"
)
router.register(
    f"{CASE}/links/item-derivation", views.ItemDerivationLinkViewSet, basename="case-link-item-derivation"
)

urlpatterns = [
    re_path(rf"^{CASE}/graph/$", views.CaseGraphView.as_view(), name="case-graph"),
    re_path(rf"^{CASE}/face-clusters/$", views.CaseFaceClustersView.as_view(), name="case-face-clusters"),
    re_path(
        rf"^{CASE}/face-clusters/name/$",
        views.CaseFaceClusterNameView.as_view(),
        name="case-face-clusters-name",
    ),
    *router.urls,
]
