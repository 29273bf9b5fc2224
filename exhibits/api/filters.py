"""Filters of the exhibits API (django-filter)."""

import django_filters

from exhibits.choices import ExhibitStatus, ReportLanguage, ReportStatus
from exhibits.models import Exhibit, ExportBundle, Report


# Exhibits, reports, export bundles
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


class ReportFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ReportStatus.choices)
    language = django_filters.ChoiceFilter(choices=ReportLanguage.choices)
    exhibit = django_filters.CharFilter(
        field_name="exhibits__number", label="covers exhibit number", distinct=True
    )

    class Meta:
        model = Report
        fields = ["status", "language", "exhibit"]


class BundleFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=ReportStatus.choices)
    exhibit = django_filters.CharFilter(
        field_name="exhibits__number", label="covers exhibit number", distinct=True
    )

    class Meta:
        model = ExportBundle
        fields = ["status", "exhibit"]
