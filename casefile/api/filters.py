"""django-filter filter sets for the cases API (query parameters on the list endpoints)."""

from typing import Any

import django_filters
from django.db.models import Q, QuerySet

from casefile.choices import (
    CaseMemberRole,
    CaseRetention,
    CaseStatus,
    ExhibitStatus,
    LegalAuthorityKind,
    ReportLanguage,
    ReportStatus,
)
from casefile.models import (
    Case,
    CaseMember,
    Channel,
    Exhibit,
    ExportBundle,
    ItemChannelLink,
    ItemDerivationLink,
    ItemPersonLink,
    LegalAuthority,
    Person,
    PersonChannelLink,
    Report,
)
from casefile.models.people import (
    ChannelPlatform,
    ItemPersonRelation,
    LinkConfidence,
    LinkSource,
    PersonChannelRelation,
    PersonKind,
)


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


class PersonFilter(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=PersonKind.choices)
    is_minor = django_filters.BooleanFilter()

    class Meta:
        model = Person
        fields = ["kind", "is_minor"]


class ChannelFilter(django_filters.FilterSet):
    platform = django_filters.MultipleChoiceFilter(choices=ChannelPlatform.choices)

    class Meta:
        model = Channel
        fields = ["platform"]


class _LinkFilter(django_filters.FilterSet):
    confidence = django_filters.ChoiceFilter(choices=LinkConfidence.choices)
    source = django_filters.ChoiceFilter(choices=LinkSource.choices)
    active = django_filters.BooleanFilter(
        field_name="withdrawn_at", lookup_expr="isnull", label="not withdrawn"
    )


class ItemPersonLinkFilter(_LinkFilter):
    relation = django_filters.MultipleChoiceFilter(choices=ItemPersonRelation.choices)
    item = django_filters.NumberFilter(field_name="item_id")
    item_id = django_filters.NumberFilter(field_name="item_id")
    person = django_filters.CharFilter(field_name="person__pseudonym", label="pseudonym")

    class Meta:
        model = ItemPersonLink
        fields = ["relation", "item", "item_id", "person", "confidence", "source", "active"]


class ItemChannelLinkFilter(_LinkFilter):
    item = django_filters.NumberFilter(field_name="item_id")
    item_id = django_filters.NumberFilter(field_name="item_id")
    channel = django_filters.NumberFilter(field_name="channel_id")
    channel_id = django_filters.NumberFilter(field_name="channel_id")
    posted_after = django_filters.IsoDateTimeFilter(field_name="posted_at", lookup_expr="gte")
    posted_before = django_filters.IsoDateTimeFilter(field_name="posted_at", lookup_expr="lt")

    class Meta:
        model = ItemChannelLink
        fields = ["item", "item_id", "channel", "channel_id", "confidence", "source", "active"]


class PersonChannelLinkFilter(_LinkFilter):
    relation = django_filters.MultipleChoiceFilter(choices=PersonChannelRelation.choices)
    person = django_filters.CharFilter(field_name="person__pseudonym", label="pseudonym")
    channel = django_filters.NumberFilter(field_name="channel_id")
    channel_id = django_filters.NumberFilter(field_name="channel_id")

    class Meta:
        model = PersonChannelLink
        fields = ["relation", "person", "channel", "channel_id", "confidence", "source", "active"]


class ItemDerivationLinkFilter(_LinkFilter):
    item = django_filters.NumberFilter(field_name="item_id")
    item_id = django_filters.NumberFilter(field_name="item_id")
    source_item = django_filters.NumberFilter(field_name="source_item_id")
    source_item_id = django_filters.NumberFilter(field_name="source_item_id")

    class Meta:
        model = ItemDerivationLink
        fields = ["item", "item_id", "source_item", "source_item_id", "confidence", "source", "active"]


# --- exapi: exhibits, reports, export bundles ---
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
