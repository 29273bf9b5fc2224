"""Filters of the victim-support API (django-filter)."""

import django_filters
from django.db.models import QuerySet

from support import selectors as support_selectors
from support.choices import (
    ConsentKind,
    SupportStatus,
    TakedownAddressee,
    TakedownPlatform,
    TakedownStatus,
)
from support.models import SupportConsent, SupportFile, TakedownRequest


class SupportFileFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=SupportStatus.choices)
    person = django_filters.CharFilter(field_name="person__pseudonym", help_text="Pseudonym, e.g. V-1.")
    person_id = django_filters.NumberFilter(field_name="person_id")
    assigned_worker = django_filters.CharFilter(field_name="assigned_worker__username")
    assigned_worker_id = django_filters.NumberFilter(field_name="assigned_worker_id")
    unassigned = django_filters.BooleanFilter(field_name="assigned_worker", lookup_expr="isnull")

    class Meta:
        model = SupportFile
        fields: list[str] = []


class SupportConsentFilter(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=ConsentKind.choices)
    in_force = django_filters.BooleanFilter(field_name="withdrawn_at", lookup_expr="isnull")

    class Meta:
        model = SupportConsent
        fields: list[str] = []


class TakedownFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=TakedownStatus.choices)
    addressee = django_filters.MultipleChoiceFilter(choices=TakedownAddressee.choices)
    platform = django_filters.MultipleChoiceFilter(choices=TakedownPlatform.choices)
    support_file = django_filters.NumberFilter(field_name="support_file_id")
    support_file_id = django_filters.NumberFilter(field_name="support_file_id")
    person = django_filters.CharFilter(field_name="support_file__person__pseudonym")
    person_id = django_filters.NumberFilter(field_name="support_file__person_id")
    sent_after = django_filters.IsoDateTimeFilter(field_name="sent_at", lookup_expr="gte")
    sent_before = django_filters.IsoDateTimeFilter(field_name="sent_at", lookup_expr="lt")
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", help_text="Only (or no) overdue requests."
    )
    reappeared = django_filters.BooleanFilter(field_name="reappearances", lookup_expr="isnull", exclude=True)

    class Meta:
        model = TakedownRequest
        fields: list[str] = []

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        condition = support_selectors.takedown_overdue_filter()
        return queryset.filter(condition) if value else queryset.exclude(condition)
