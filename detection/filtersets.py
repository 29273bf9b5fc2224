"""Filters of the detection API (django-filter): by item, case number, detector, status, job, label."""

import django_filters

from detection.models import Annotation, DetectionRun, ScanJob
from detection.models.runs import JobKind, JobStatus, ReviewStatus, RunStatus


class RunFilterSet(django_filters.FilterSet):
    item = django_filters.NumberFilter(field_name="item_id")
    item_id = django_filters.NumberFilter(field_name="item_id")
    case = django_filters.CharFilter(field_name="item__case__number")
    detector = django_filters.CharFilter(field_name="detector__name")
    version = django_filters.CharFilter(field_name="detector__version")
    status = django_filters.ChoiceFilter(choices=RunStatus.choices)
    job = django_filters.NumberFilter(field_name="job_id")
    job_id = django_filters.NumberFilter(field_name="job_id")

    class Meta:
        model = DetectionRun
        fields: list[str] = []


class AnnotationFilterSet(django_filters.FilterSet):
    item = django_filters.NumberFilter(field_name="item_id")
    item_id = django_filters.NumberFilter(field_name="item_id")
    case = django_filters.CharFilter(field_name="item__case__number")
    run = django_filters.NumberFilter(field_name="run_id")
    run_id = django_filters.NumberFilter(field_name="run_id")
    detector = django_filters.CharFilter(field_name="detector_name")
    label = django_filters.CharFilter()
    category = django_filters.CharFilter()
    review_status = django_filters.ChoiceFilter(choices=ReviewStatus.choices)

    class Meta:
        model = Annotation
        fields: list[str] = []


class JobFilterSet(django_filters.FilterSet):
    case = django_filters.CharFilter(field_name="case__number")
    acquisition = django_filters.NumberFilter(field_name="acquisition_id")
    acquisition_id = django_filters.NumberFilter(field_name="acquisition_id")
    kind = django_filters.ChoiceFilter(choices=JobKind.choices)
    status = django_filters.ChoiceFilter(choices=JobStatus.choices)

    class Meta:
        model = ScanJob
        fields: list[str] = []
