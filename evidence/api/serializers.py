"""Shapes of the evidence API: item metadata (digests, provenance) and custody events. Never content."""

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from evidence.custody import event_leaf_data
from evidence.hooks import source_readers
from evidence.models import Acquisition, CustodyEvent, EvidenceItem


class AcquisitionSerializer(serializers.ModelSerializer):
    """The ingest run that took an item: who, when, with what tool, under which seizure."""

    actor = serializers.CharField(source="actor.get_username", read_only=True)
    seal_numbers = serializers.ListField(child=serializers.CharField(), read_only=True)
    participants = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Acquisition
        fields = [
            "id",
            "actor",
            "actor_role",
            "status",
            "started_at",
            "finished_at",
            "tool_name",
            "tool_version",
            "source_description",
            "seizure_reference",
            "seal_numbers",
            "location",
            "participants",
            "manifest_sha256",
        ]
        read_only_fields = fields


class EvidenceItemSerializer(serializers.ModelSerializer):
    """An item's metadata: digests taken at ingest, where it was found, and how it was acquired."""

    case = serializers.CharField(source="case.number", read_only=True, help_text="The case number.")
    sha256 = serializers.CharField(source="blob_id", read_only=True, allow_null=True)
    md5 = serializers.CharField(source="blob.md5", read_only=True, allow_null=True)
    sha1 = serializers.CharField(source="blob.sha1", read_only=True, allow_null=True)
    reason = serializers.CharField(source="status_reason", read_only=True)
    parent = serializers.IntegerField(  # type: ignore[assignment] # a field, not Field.parent
        source="parent_id", read_only=True, allow_null=True
    )
    children_count = serializers.IntegerField(read_only=True)
    acquisition = AcquisitionSerializer(read_only=True)

    class Meta:
        model = EvidenceItem
        fields = [
            "id",
            "case",
            "kind",
            "status",
            "reason",
            "original_name",
            "original_path",
            "member_index",
            "link_target",
            "source",
            "size",
            "mime",
            "sha256",
            "md5",
            "sha1",
            "parent",
            "children_count",
            "file_modified_at",
            "file_accessed_at",
            "file_changed_at",
            "file_created_at",
            "acquired_at",
            "acquisition",
        ]
        read_only_fields = fields


class PseudonymisedItemSerializer(EvidenceItemSerializer):
    """An item as victim support sees it: a reference (item-ID), digests, type and status; no file names,
    paths, sources or seizure details, which may name a victim or a place."""

    REDACTED = ("original_path", "link_target", "source")
    REDACTED_ACQUISITION = ("source_description", "seizure_reference", "location")

    def to_representation(self, instance: EvidenceItem) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["original_name"] = f"item-{instance.pk}"
        data.update(dict.fromkeys(self.REDACTED, ""))
        acquisition = data.get("acquisition") or {}
        acquisition.update(dict.fromkeys(self.REDACTED_ACQUISITION, ""))
        acquisition.update({"seal_numbers": [], "participants": []})
        return data


class CheckpointSummarySerializer(serializers.Serializer):
    """A signed tree head, with ``created_at`` exactly as it was signed (UTC)."""

    id = serializers.IntegerField()
    tree_size = serializers.IntegerField()
    root_hash = serializers.CharField()
    created_at = serializers.CharField(help_text="UTC, as signed: YYYY-MM-DDTHH:MM:SS.ffffffZ.")
    key_id = serializers.CharField()
    public_key = serializers.CharField(help_text="Ed25519 public key (hex) that made the signature.")
    signature = serializers.CharField(help_text="Ed25519 signature (hex) over the checkpoint note.")


class InclusionProofSerializer(serializers.Serializer):
    """RFC 9162 audit path from an event's leaf to a signed root."""

    leaf_index = serializers.IntegerField(help_text="The event's ledger sequence number.")
    leaf_hash = serializers.CharField()
    tree_size = serializers.IntegerField()
    root_hash = serializers.CharField()
    proof = serializers.ListField(child=serializers.CharField(), help_text="Sibling hashes, leaf upwards.")
    checkpoint = CheckpointSummarySerializer()


class CustodyEventSerializer(serializers.ModelSerializer):
    """One ledger event with its chain hashes, its leaf data and (once signed) its inclusion proof."""

    seal_numbers = serializers.ListField(child=serializers.CharField(), read_only=True)
    details = serializers.DictField(read_only=True)
    leaf_data = serializers.SerializerMethodField(
        help_text="The canonical JSON the leaf hash commits to: SHA-256(0x00 || leaf_data) = leaf_hash."
    )
    proof = serializers.SerializerMethodField(
        help_text="Inclusion proof against the checkpoint; null while no checkpoint covers the event."
    )

    class Meta:
        model = CustodyEvent
        fields = [
            "seq",
            "item",
            "case",
            "action",
            "actor",
            "actor_name",
            "actor_role",
            "occurred_at",
            "location",
            "purpose",
            "legal_authority",
            "from_custodian",
            "to_custodian",
            "seal_numbers",
            "sha256_before",
            "sha256_after",
            "details",
            "prev_hash",
            "leaf_hash",
            "leaf_data",
            "proof",
        ]
        read_only_fields = fields

    def get_leaf_data(self, event: CustodyEvent) -> str:
        return event_leaf_data(event).decode()

    @extend_schema_field(InclusionProofSerializer(allow_null=True))
    def get_proof(self, event: CustodyEvent) -> dict[str, Any] | None:
        return self.context["proofs"].get(event.seq)


class ItemCustodySerializer(serializers.Serializer):
    """An item's custody: its events in ledger order, each proven against one signed checkpoint."""

    item = serializers.IntegerField()
    case = serializers.CharField(help_text="The case number.")
    checkpoint = CheckpointSummarySerializer(
        allow_null=True, help_text="The checkpoint the proofs are against; null before the first."
    )
    pending_checkpoint = serializers.BooleanField(
        help_text="True when some event is newer than the checkpoint: its proof is null until the next one."
    )
    events = CustodyEventSerializer(many=True)


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
    source_kind = serializers.CharField(
        required=False,
        default="files",
        help_text="What the upload is: files (the default), auto (recognised from what was stored), or a "
        "source kind whose reader records what it parses (telegram, kakaotalk, ufdr, extraction; "
        "docs/sources.md), e.g. a ZIP of a Telegram export.",
    )
    timezone = serializers.CharField(
        required=False,
        default="Asia/Seoul",
        help_text="IANA zone of dates an export writes without an offset.",
    )

    def validate_source_kind(self, value: str) -> str:
        known = ["files", "auto", *source_readers()]
        if value not in known:
            raise serializers.ValidationError(f"use one of {', '.join(known)}")
        return value

    def validate_timezone(self, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise serializers.ValidationError("name an IANA zone such as Asia/Seoul") from None
        return value


class IngestCountsSerializer(serializers.Serializer):
    """How many items of an upload were ingested, already held, or rejected."""

    ingested = serializers.IntegerField()
    duplicate = serializers.IntegerField()
    rejected = serializers.IntegerField()
    # What a source reader recorded, when the upload was read as one (docs/sources.md).
    messages = serializers.IntegerField(required=False)
    messages_duplicate = serializers.IntegerField(required=False)
    media_linked = serializers.IntegerField(required=False)
    chats = serializers.IntegerField(required=False)
    notes = serializers.IntegerField(required=False)
    device_files = serializers.IntegerField(required=False)
    discrepancies = serializers.IntegerField(required=False)


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
    source_kind = serializers.CharField(help_text="files, or the source kind the upload was read as")
    counts = IngestCountsSerializer()
    items = IngestItemSerializer(many=True)
