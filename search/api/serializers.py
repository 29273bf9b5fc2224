"""Shapes of the search and timeline answers (the services build the data; these only document it)."""

from rest_framework import serializers

from detection.api.banks import ContactSerializer


class SearchObjectSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="the provider's kind of object: item, message, capture …")
    id = serializers.IntegerField()


class SearchHitSerializer(serializers.Serializer):
    item = serializers.IntegerField(allow_null=True, help_text="the evidence item the text belongs to")
    object = SearchObjectSerializer()
    field = serializers.CharField(help_text="name, ocr, metadata, document, prompt, message or capture")
    snippet = serializers.CharField(help_text="HTML: the text around the match, escaped, matches in <mark>")
    score = serializers.FloatField(help_text="the hit's rank: its field's weight over its text's length")


class SearchPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = SearchHitSerializer(many=True)


class CrossCaseHitSerializer(SearchHitSerializer):
    case = serializers.CharField(help_text="the case number")


class ElsewhereSerializer(serializers.Serializer):
    exists = serializers.BooleanField()
    contacts = ContactSerializer(many=True)


class CrossCasePageSerializer(SearchPageSerializer):
    results = CrossCaseHitSerializer(many=True)
    elsewhere = ElsewhereSerializer(
        many=True, help_text="cases you are not on with hits: whom to ask, nothing else"
    )


class TimelinePointSerializer(serializers.Serializer):
    time = serializers.CharField(help_text="ISO 8601 in UTC; a local time without a zone ends without one")
    local = serializers.CharField(help_text="the time as the source wrote it, with its offset when known")
    kind = serializers.CharField()
    item = serializers.IntegerField(allow_null=True)
    what = serializers.CharField(help_text="what happened at that time")
    time_source = serializers.CharField(help_text="where the time came from")
    trust = serializers.CharField(help_text="recorded, attested, claimed or weak")
    zone_known = serializers.BooleanField()


class TimelineSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    points = TimelinePointSerializer(many=True)
