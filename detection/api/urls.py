"""Routes of the detection API (mounted under /api/v1/)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from detection.api.views import (
    AcquisitionProgressView,
    AnnotationViewSet,
    DetectorListView,
    EvidenceElaView,
    JobViewSet,
    RunViewSet,
)

app_name = "detection-api"

router = SimpleRouter()
router.register("runs", RunViewSet, basename="run")
router.register("annotations", AnnotationViewSet, basename="annotation")
router.register("jobs", JobViewSet, basename="job")

urlpatterns = [
    path("detectors/", DetectorListView.as_view(), name="detectors"),
    path("acquisitions/<int:pk>/progress/", AcquisitionProgressView.as_view(), name="acquisition-progress"),
    path("evidence/<int:pk>/ela/", EvidenceElaView.as_view(), name="evidence-ela"),
    *router.urls,
]
