"""Shapes of the cases API: what a case looks like to a member, and the evidence upload form."""

from rest_framework import serializers

from casefile.choices import CaseMemberRole
from casefile.models import Case


class CaseSerializer(serializers.ModelSerializer):
    """A case as its member sees it, with how many items it holds and the caller's role on its team."""

    item_count = serializers.IntegerField(read_only=True, help_text="Evidence items in the case.")
    role = serializers.ChoiceField(
        source="caller_role",
        choices=CaseMemberRole.choices,
        read_only=True,
        help_text="Your role on the case team.",
    )

    class Meta:
        model = Case
        fields = ["number", "title", "status", "opened_at", "item_count", "role"]
        read_only_fields = fields


class EvidenceUploadSerializer(serializers.Serializer):
    """The multipart upload form: files plus the seizure record that goes on the acquisition."""

    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True, use_url=False),
        allow_empty=False,
        help_text="One or more files (repeat the field). Archives are unpacked into child items.",
    )
    # DRF's metaclass moves declared fields off the class, so this does not shadow Field.source.
    source = serializers.CharField(  # type: ignore[assignment]
        required=False, allow_blank=True, max_length=300, help_text="Where the files came from."
    )
    seizure_reference = serializers.CharField(
        required=False, allow_blank=True, max_length=300, help_text="Warrant or seizure reference."
    )
    location = serializers.CharField(
        required=False, allow_blank=True, max_length=300, help_text="Where the acquisition took place."
    )
    seal_numbers = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        help_text="Seal numbers (repeat the field).",
    )
    participants = serializers.ListField(
        child=serializers.CharField(max_length=200),
        required=False,
        help_text="Participants present, 참관인 (repeat the field).",
    )


class IngestCountsSerializer(serializers.Serializer):
    """How many items of an upload were ingested, already held, or rejected."""

    ingested = serializers.IntegerField()
    duplicate = serializers.IntegerField()
    rejected = serializers.IntegerField()


class IngestItemSerializer(serializers.Serializer):
    """One item's outcome (the same shape as ``manage.py ingest --json``)."""

    id = serializers.IntegerField(allow_null=True)
    path = serializers.CharField()
    parent = serializers.IntegerField(allow_null=True)  # type: ignore[assignment] # a field, not Field.parent
    status = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)
    size = serializers.IntegerField(allow_null=True)
    md5 = serializers.CharField(allow_null=True)
    sha1 = serializers.CharField(allow_null=True)
    sha256 = serializers.CharField(allow_null=True)
    mime = serializers.CharField(allow_blank=True, allow_null=True)


class IngestResultSerializer(serializers.Serializer):
    """The result of an upload: the acquisition, the counts and every item's outcome."""

    acquisition = serializers.IntegerField()
    counts = IngestCountsSerializer()
    items = IngestItemSerializer(many=True)
