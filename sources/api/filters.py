"""Filters of the messages API (django-filter)."""

import django_filters
from django.db.models import QuerySet

from sources.models import Message


class MessageFilter(django_filters.FilterSet):
    chat = django_filters.NumberFilter(field_name="chat_id")
    sender = django_filters.NumberFilter(field_name="sender_id")
    acquisition = django_filters.NumberFilter(field_name="acquisition_id")
    item = django_filters.NumberFilter(method="filter_item", label="messages whose media include this item")
    since = django_filters.IsoDateTimeFilter(field_name="sent_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="sent_at", lookup_expr="lte")
    has_media = django_filters.BooleanFilter(field_name="has_media")

    class Meta:
        model = Message
        fields = ["chat", "sender", "acquisition", "item", "since", "until", "has_media"]

    def filter_item(self, queryset: QuerySet[Message], name: str, value: int) -> QuerySet[Message]:
        return queryset.filter(media__item_id=value).distinct()
