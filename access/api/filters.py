"""django-filter filter sets for the cases API (query parameters on the list endpoints)."""

from typing import Any

import django_filters
from django.db.models import Q, QuerySet

from access.choices import CaseMemberRole, CaseRetention, CaseStatus, LegalAuthorityKind
from access.models import Case, CaseMember, LegalAuthority


class CaseFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=CaseStatus.choices)
    retention_class = django_filters.ChoiceFilter(choices=CaseRetention.choices)
    legal_hold = django_filters.BooleanFilter()
    offence = django_filters.CharFilter(field_name="offences__code", label="offence code", distinct=True)
    q = django_filters.CharFilter(method="search", label="number or title contains")

    class Meta:
        model = Case
        fields = ["status", "retention_class", "legal_hold", "offence", "q"]

    def search(self, queryset: QuerySet[Case], name: str, value: Any) -> QuerySet[Case]:
        return queryset.filter(Q(number__icontains=value) | Q(title__icontains=value))


class MemberFilter(django_filters.FilterSet):
    role = django_filters.MultipleChoiceFilter(choices=CaseMemberRole.choices)

    class Meta:
        model = CaseMember
        fields = ["role"]


class LegalAuthorityFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=LegalAuthorityKind.choices)
    executed = django_filters.BooleanFilter(field_name="executed_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = LegalAuthority
        fields = ["kind", "executed"]
