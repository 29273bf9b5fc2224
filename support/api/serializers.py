"""Serializers of the victim-support API: they validate and shape; the services write."""

from typing import Any

from drf_spectacular.utils import (
    extend_schema_field,
)
from rest_framework import serializers

from captures.api.serializers import CaptureStatusSerializer
from parties.choices import LinkConfidence, LinkSource
from support import renderers as support_renderers
from support import selectors as support_selectors
from support.choices import (
    ConsentGivenBy,
    ConsentKind,
    SupportStatus,
    TakedownAddressee,
    TakedownPlatform,
)
from support.models import SupportConsent, SupportFile, TakedownReappearance, TakedownRequest


class UsernameField(serializers.CharField):
    """A user shown by username (read-only)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str:
        return str(value.get_username())


class SupportConsentSerializer(serializers.ModelSerializer):
    """A consent with each step (given, withdrawn): when it happened and who recorded it."""

    given_recorded_by = UsernameField()
    withdrawn_recorded_by = UsernameField()
    in_force = serializers.BooleanField(read_only=True)

    class Meta:
        model = SupportConsent
        fields = [
            "id",
            "kind",
            "in_force",
            "given_by",
            "given_at",
            "how",
            "given_recorded_by",
            "given_recorded_at",
            "withdrawn_at",
            "withdrawn_how",
            "withdrawn_recorded_by",
            "withdrawn_recorded_at",
        ]
        read_only_fields = fields


class ConsentGiveSerializer(serializers.Serializer):
    """Record a consent given by the victim (or their guardian or representative)."""

    kind = serializers.ChoiceField(choices=ConsentKind.choices)
    given_by = serializers.ChoiceField(choices=ConsentGivenBy.choices, default=ConsentGivenBy.VICTIM)
    given_at = serializers.DateTimeField(required=False, help_text="When it was given; default now.")
    how = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="e.g. signed form, in person, by phone."
    )


class ConsentWithdrawSerializer(serializers.Serializer):
    withdrawn_at = serializers.DateTimeField(required=False, help_text="When it was withdrawn; default now.")
    how = serializers.CharField(required=False, allow_blank=True, max_length=200)


class SupportFileSerializer(serializers.ModelSerializer):
    """A victim's support file: by pseudonym only, with the worker, the status and the consents."""

    person = serializers.CharField(
        source="person.pseudonym", read_only=True, help_text="The victim's pseudonym."
    )
    person_id = serializers.IntegerField(read_only=True)
    is_minor = serializers.BooleanField(
        source="person.is_minor", read_only=True, help_text="Consents of a minor are usually a guardian's."
    )
    assigned_worker = UsernameField()
    opened_by = UsernameField()
    status_changed_by = UsernameField()
    consents = SupportConsentSerializer(many=True, read_only=True)
    consents_in_force = serializers.SerializerMethodField()

    class Meta:
        model = SupportFile
        fields = [
            "id",
            "person",
            "person_id",
            "is_minor",
            "status",
            "assigned_worker",
            "opened_at",
            "opened_by",
            "status_changed_at",
            "status_changed_by",
            "consents_in_force",
            "consents",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=ConsentKind.choices)))
    def get_consents_in_force(self, obj: SupportFile) -> list[str]:
        return sorted(c.kind for c in obj.consents.all() if c.withdrawn_at is None)


class SupportFileOpenSerializer(serializers.Serializer):
    person = serializers.CharField(max_length=16, help_text="The victim's pseudonym in this case, e.g. V-1.")
    assigned_worker = serializers.CharField(
        required=False, allow_null=True, max_length=150, help_text="Username of a victim_support member."
    )


class SupportFileStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=SupportStatus.choices)
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="Required when reopening a closed file."
    )


class SupportFileAssignSerializer(serializers.Serializer):
    assigned_worker = serializers.CharField(
        allow_null=True, max_length=150, help_text="Username of a victim_support member; null to unassign."
    )


class SupportNoteSerializer(serializers.Serializer):
    """A restricted note (victim_support only), stored encrypted."""

    id = serializers.IntegerField(source="note.pk", read_only=True)
    text = serializers.CharField(read_only=True)
    written_by = serializers.CharField(source="note.written_by.get_username", read_only=True)
    written_at = serializers.DateTimeField(source="note.written_at", read_only=True)


class SupportNoteCreateSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=20000)


class HashExportRequestSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=[("json", "JSON"), ("csv", "CSV")], default="json")
    recipient = serializers.CharField(
        max_length=300, help_text="Who the hashes go to, e.g. 'StopNCII', 'KCSC', 'X trust & safety'."
    )
    include_pseudonym = serializers.BooleanField(
        default=False, help_text="Put the victim's pseudonym in the file (default: nothing that names them)."
    )


class PdqSerializer(serializers.Serializer):
    hash = serializers.CharField(help_text="PDQ, 64 hex characters (256 bits).")
    quality = serializers.IntegerField(help_text="PDQ quality 0–100; below 50 is weak for matching.")
    frame_ms = serializers.IntegerField(required=False, help_text="For a video frame: its time in ms.")


class HashListFileSerializer(serializers.Serializer):
    sha256 = serializers.CharField()
    md5 = serializers.CharField()
    size = serializers.IntegerField()
    content_type = serializers.ChoiceField(choices=["photo", "video", "other"])
    pdq = PdqSerializer(many=True)


class HashListSerializer(serializers.Serializer):
    """The JSON hash list (format haetae-hash-list/1): hashes only, no image, no identity."""

    format = serializers.CharField()
    generated_at = serializers.CharField()
    subject = serializers.CharField(allow_null=True, help_text="The pseudonym, or null.")
    signal_types = serializers.ListField(child=serializers.CharField())
    confirmed_links_only = serializers.BooleanField()
    file_count = serializers.IntegerField()
    files = HashListFileSerializer(many=True)


class HashExportRecordSerializer(serializers.Serializer):
    """One past export, as the ledger recorded it."""

    seq = serializers.IntegerField(help_text="The custody event's sequence number in the ledger.")
    occurred_at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor_name")
    recipient = serializers.CharField(source="details.recipient")
    format = serializers.CharField(source="details.format")
    files = serializers.IntegerField(source="details.files")
    pdq_hashes = serializers.IntegerField(source="details.pdq_hashes")
    include_pseudonym = serializers.BooleanField(source="details.include_pseudonym")
    export_sha256 = serializers.CharField(source="details.export_sha256")


class VictimItemSerializer(serializers.Serializer):
    """An item that depicts the victim, by reference and digests only: no content, no file name."""

    item = serializers.IntegerField(source="item_id", help_text="The evidence item id (use it in takedowns).")
    sha256 = serializers.CharField(source="item.blob_id")
    md5 = serializers.CharField(source="item.blob.md5")
    size = serializers.IntegerField(source="item.blob.size")
    content_type = serializers.SerializerMethodField()
    confidence = serializers.ChoiceField(choices=LinkConfidence.choices)
    link_source = serializers.ChoiceField(source="source", choices=LinkSource.choices)
    asserted_at = serializers.DateTimeField()
    pdq_hashes = serializers.IntegerField(source="pdq_count", help_text="PDQ hashes detection has made.")
    in_hash_export = serializers.SerializerMethodField(help_text="Only confirmed links are exported.")

    @extend_schema_field(serializers.ChoiceField(choices=["photo", "video", "other"]))
    def get_content_type(self, obj: Any) -> str:
        return support_renderers.content_type_of(obj.item.mime)

    @extend_schema_field(serializers.BooleanField())
    def get_in_hash_export(self, obj: Any) -> bool:
        return bool(obj.confidence == LinkConfidence.CONFIRMED)


class ItemReferenceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sha256 = serializers.CharField(source="blob_id")


class TakedownReappearanceSerializer(serializers.ModelSerializer):
    recorded_by = UsernameField()
    follow_ups = serializers.SerializerMethodField()

    class Meta:
        model = TakedownReappearance
        fields = ["id", "takedown", "seen_at", "url", "note", "recorded_by", "recorded_at", "follow_ups"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_follow_ups(self, obj: TakedownReappearance) -> list[int]:
        cache = getattr(obj, "_prefetched_objects_cache", {})
        if "follow_ups" in cache:
            return [t.pk for t in cache["follow_ups"]]
        return list(obj.follow_ups.order_by("id").values_list("pk", flat=True))


class TakedownSerializer(serializers.ModelSerializer):
    """A takedown request with who did each step and when; items by id and SHA-256, never content."""

    case = serializers.CharField(source="support_file.person.case.number", read_only=True)
    person = serializers.CharField(source="support_file.person.pseudonym", read_only=True)
    items = ItemReferenceSerializer(many=True, read_only=True)
    created_by = UsernameField()
    sent_by = UsernameField()
    acknowledged_by = UsernameField()
    removed_recorded_by = UsernameField()
    refused_recorded_by = UsernameField()
    reappearances = TakedownReappearanceSerializer(many=True, read_only=True)
    waiting_since = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = TakedownRequest
        fields = [
            "id",
            "case",
            "support_file",
            "person",
            "addressee",
            "platform",
            "target_url",
            "channel_reference",
            "addressee_contact",
            "description",
            "items",
            "status",
            "reference_number",
            "created_by",
            "created_at",
            "sent_at",
            "sent_by",
            "acknowledged_at",
            "acknowledged_by",
            "removed_at",
            "removed_recorded_by",
            "refused_at",
            "refused_recorded_by",
            "refusal_reason",
            "follows_up",
            "waiting_since",
            "overdue",
            "reappearances",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_waiting_since(self, obj: TakedownRequest) -> str | None:
        since = support_selectors.takedown_waiting_since(obj)
        return serializers.DateTimeField().to_representation(since) if since else None

    @extend_schema_field(serializers.BooleanField())
    def get_overdue(self, obj: TakedownRequest) -> bool:
        return support_selectors.takedown_is_overdue(obj, now=self.context.get("now"))


class TakedownCreateSerializer(serializers.Serializer):
    support_file = serializers.IntegerField(help_text="The support file (victim) the request is for.")
    addressee = serializers.ChoiceField(choices=TakedownAddressee.choices)
    platform = serializers.ChoiceField(choices=TakedownPlatform.choices)
    target_url = serializers.URLField(max_length=2000)
    channel_reference = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=300, help_text="The channel, as text."
    )
    addressee_contact = serializers.CharField(required=False, allow_blank=True, max_length=300)
    description = serializers.CharField(
        required=False, allow_blank=True, max_length=5000, help_text="Never the victim's identity."
    )
    items = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        help_text="Evidence item ids of this case.",
    )


class TakedownDraftUpdateSerializer(serializers.Serializer):
    addressee = serializers.ChoiceField(choices=TakedownAddressee.choices, required=False)
    platform = serializers.ChoiceField(choices=TakedownPlatform.choices, required=False)
    target_url = serializers.URLField(max_length=2000, required=False)
    channel_reference = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=300
    )
    addressee_contact = serializers.CharField(required=False, allow_blank=True, max_length=300)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    items = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False)


class TakedownSendSerializer(serializers.Serializer):
    sent_at = serializers.DateTimeField(required=False, help_text="When it was sent; default now.")
    reference_number = serializers.CharField(required=False, allow_blank=True, max_length=200)
    addressee_contact = serializers.CharField(required=False, allow_blank=True, max_length=300)


class TakedownAcknowledgeSerializer(serializers.Serializer):
    acknowledged_at = serializers.DateTimeField(required=False, help_text="Default now.")
    reference_number = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="The addressee's ticket or receipt number.",
    )


class TakedownRemovedSerializer(serializers.Serializer):
    removed_at = serializers.DateTimeField(required=False, help_text="When it was gone; default now.")
    reference_number = serializers.CharField(required=False, allow_blank=True, max_length=200)


class TakedownRefuseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000, help_text="The reason the addressee gave.")
    refused_at = serializers.DateTimeField(required=False, help_text="Default now.")
    reference_number = serializers.CharField(required=False, allow_blank=True, max_length=200)


class ReappearanceCreateSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=2000, help_text="Where it was seen again.")
    seen_at = serializers.DateTimeField(required=False, help_text="Default now.")
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    draft_follow_up = serializers.BooleanField(
        default=False, help_text="Also draft a new request to the same addressee for the new URL."
    )


class ReappearanceResultSerializer(serializers.Serializer):
    reappearance = TakedownReappearanceSerializer()
    support_file_reopened = serializers.BooleanField(help_text="The closed file went back to monitoring.")
    follow_up = TakedownSerializer(allow_null=True)
    capture = CaptureStatusSerializer(allow_null=True, help_text="The capture of the new URL (status only).")
