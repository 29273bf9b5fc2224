"""Filters of the exhibits API (django-filter)."""

import django_filters

from exhibits.choices import ExhibitStatus, ReportLanguage, ReportStatus
from exhibits.models import Exhibit, ExportBundle, Report


class ExhibitFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ExhibitStatus.choices)
    item = django_filters.NumberFilter(
        field_name="exhibit_items__item_id", label="contains item id", distinct=True
    )
    item_id = django_filters.NumberFilter(
        field_name="exhibit_items__item_id", label="contains item id", distinct=True
    )

    class Meta:
        model = Exhibit
        fields = ["status", "item", "item_id"]


class _JobFilter(django_filters.FilterSet):
    """What report and bundle lists share: their status, and an exhibit they carry."""

    status = django_filters.MultipleChoiceFilter(choices=ReportStatus.choices)
    exhibit = django_filters.CharFilter(
        field_name="exhibits__number", label="covers exhibit number", distinct=True
    )


class ReportFilter(_JobFilter):
    language = django_filters.ChoiceFilter(choices=ReportLanguage.choices)

    class Meta:
        model = Report
        fields = ["status", "language", "exhibit"]


class BundleFilter(_JobFilter):
    class Meta:
        model = ExportBundle
        fields = ["status", "exhibit"]
