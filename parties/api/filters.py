"""Filters of the parties API (django-filter)."""

import django_filters

from parties.choices import (
    ChannelPlatform,
    ItemPersonRelation,
    LinkConfidence,
    LinkSource,
    PersonChannelRelation,
    PersonKind,
)
from parties.models import (
    Channel,
    ItemChannelLink,
    ItemDerivationLink,
    ItemPersonLink,
    Person,
    PersonChannelLink,
)


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
