"""Shapes of destruction orders, retention and the Korean procedure records in the API; request forms
validate, services write."""

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from haetae.toolkit import username_of
from records.choices import ProcedureDocumentKind, UnrelatedDisposalKind
from records.models import (
    DestructionOrder,
    ProcedureDocument,
    SceneConfirmation,
    UnrelatedDisposal,
    UnrelatedMark,
)


class ProcedureDocumentSerializer(serializers.ModelSerializer):
    """An issued document: what it is, of what, who issued it, its SHA-256, where to download it."""

    case = serializers.CharField(source="case.number", read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    confirmation = serializers.SerializerMethodField()
    issued_by = serializers.SerializerMethodField()
    sha256 = serializers.CharField(source="blob_id", read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ProcedureDocument
        fields = [
            "case",
            "number",
            "kind",
            "kind_label",
            "acquisition",
            "confirmation",
            "bundle",
            "issued_by",
            "issued_at",
            "sha256",
            "manifest_sha256",
            "signer_subject",
            "development_signer",
            "download_url",
        ]
        read_only_fields = fields

    def get_confirmation(self, document: ProcedureDocument) -> str | None:
        return document.confirmation.number if document.confirmation else None

    def get_issued_by(self, document: ProcedureDocument) -> str | None:
        return username_of(document.issued_by)

    def get_download_url(self, document: ProcedureDocument) -> str:
        return reverse(
            "records-api:case-procedure-document-download",
            kwargs={"number": document.case.number, "document": document.number},
        )


class ProcedureDocumentIssueSerializer(serializers.Serializer):
    """Which document to issue, and of what: an acquisition, a recorded confirmation, or a bundle."""

    kind = serializers.ChoiceField(choices=ProcedureDocumentKind.choices)
    acquisition = serializers.IntegerField(required=False, help_text="For seized_list.")
    confirmation = serializers.CharField(required=False, help_text="For scene_confirmation: H-001 …")
    bundle = serializers.IntegerField(required=False, help_text="For export_confirmation.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        needs = {
            ProcedureDocumentKind.SEIZED_LIST: "acquisition",
            ProcedureDocumentKind.SCENE_CONFIRMATION: "confirmation",
            ProcedureDocumentKind.EXPORT_CONFIRMATION: "bundle",
        }[attrs["kind"]]
        if attrs.get(needs) in (None, ""):
            raise serializers.ValidationError({needs: [f"a {attrs['kind']} document names its {needs}"]})
        return attrs


class HashSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=500)
    algorithm = serializers.CharField(max_length=16, help_text="SHA-256, SHA-1, MD5 or SHA-512.")
    value = serializers.CharField(max_length=200)


class SceneConfirmationSerializer(serializers.ModelSerializer):
    """A hash confirmation taken at the scene, as the investigator entered it."""

    case = serializers.CharField(source="case.number", read_only=True)
    recorded_by = serializers.SerializerMethodField()

    class Meta:
        model = SceneConfirmation
        fields = [
            "case",
            "number",
            "acquisition",
            "subject",
            "hashes",
            "tool",
            "computed_by",
            "computed_at",
            "place",
            "person_searched",
            "witness_name",
            "witness_relation",
            "participant_refused",
            "refusal_reason",
            "recorded_by",
            "recorded_at",
            "record_sha256",
        ]
        read_only_fields = fields

    def get_recorded_by(self, confirmation: SceneConfirmation) -> str | None:
        return username_of(confirmation.recorded_by)


class SceneConfirmationRecordSerializer(serializers.Serializer):
    subject = serializers.CharField()
    hashes = HashSerializer(many=True)
    computed_by = serializers.CharField(max_length=200)
    computed_at = serializers.DateTimeField(required=False)
    acquisition = serializers.IntegerField(required=False)
    tool = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    place = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)
    person_searched = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    witness_name = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    witness_relation = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    participant_refused = serializers.BooleanField(required=False, default=False)
    refusal_reason = serializers.CharField(required=False, default="", allow_blank=True)


class UnrelatedMarkSerializer(serializers.ModelSerializer):
    """An item marked unrelated to the warrant, and what became of it."""

    marked_by = serializers.SerializerMethodField()
    withdrawn_by = serializers.SerializerMethodField()
    disposal = serializers.SerializerMethodField()

    class Meta:
        model = UnrelatedMark
        fields = [
            "id",
            "item",
            "reason",
            "status",
            "marked_by",
            "marked_at",
            "withdrawn_by",
            "withdrawn_at",
            "withdrawn_reason",
            "disposal",
            "sha256",
            "outcome",
            "details",
        ]
        read_only_fields = fields

    def get_marked_by(self, mark: UnrelatedMark) -> str | None:
        return username_of(mark.marked_by)

    def get_withdrawn_by(self, mark: UnrelatedMark) -> str | None:
        return username_of(mark.withdrawn_by)

    def get_disposal(self, mark: UnrelatedMark) -> str | None:
        return mark.disposal.number if mark.disposal else None


class UnrelatedMarkRequestSerializer(serializers.Serializer):
    items = serializers.ListField(child=serializers.IntegerField(), min_length=1)
    reason = serializers.CharField()


class UnrelatedDisposalSerializer(serializers.ModelSerializer):
    """A return or deletion of unrelated items, with the person searched's confirmation."""

    case = serializers.CharField(source="case.number", read_only=True)
    done_by = serializers.SerializerMethodField()
    items = serializers.SerializerMethodField()

    class Meta:
        model = UnrelatedDisposal
        fields = [
            "case",
            "number",
            "kind",
            "done_by",
            "done_at",
            "person_searched",
            "confirmation",
            "person_refused",
            "refusal_reason",
            "handover",
            "items",
        ]
        read_only_fields = fields

    def get_done_by(self, disposal: UnrelatedDisposal) -> str | None:
        return username_of(disposal.done_by)

    def get_items(self, disposal: UnrelatedDisposal) -> list[dict[str, Any]]:
        marks = sorted(disposal.marks.all(), key=lambda m: m.item_id)
        return [{"item": m.item_id, "sha256": m.sha256, "outcome": m.outcome} for m in marks]


class UnrelatedDisposalRequestSerializer(serializers.Serializer):
    items = serializers.ListField(child=serializers.IntegerField(), min_length=1)
    kind = serializers.ChoiceField(choices=UnrelatedDisposalKind.choices)
    person_searched = serializers.CharField(max_length=200)
    confirmation = serializers.CharField(required=False, default="", allow_blank=True)
    person_refused = serializers.BooleanField(required=False, default=False)
    refusal_reason = serializers.CharField(required=False, default="", allow_blank=True)
    handover = serializers.CharField(required=False, default="", allow_blank=True)


class DestructionOrderItemSerializer(serializers.Serializer):
    """One item of an order, by id with its hashes as ordered (no file name), and what execution did."""

    item = serializers.IntegerField(source="item_id")
    sha256 = serializers.CharField()
    md5 = serializers.CharField()
    sha1 = serializers.CharField()
    size = serializers.IntegerField(allow_null=True)
    outcome = serializers.CharField()
    details = serializers.JSONField()


class DestructionOrderSerializer(serializers.ModelSerializer):
    """A destruction order: its legal basis, the people and times of each step, its items, the certificate."""

    case = serializers.CharField(source="case.number", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    requested_by = serializers.SerializerMethodField()
    authorised_by = serializers.SerializerMethodField()
    witnessed_by = serializers.SerializerMethodField()
    executed_by = serializers.SerializerMethodField()
    refused_by = serializers.SerializerMethodField()
    certificate_sha256 = serializers.CharField(source="certificate_id", read_only=True, allow_null=True)
    certificate_url = serializers.SerializerMethodField()
    items = serializers.SerializerMethodField()

    class Meta:
        model = DestructionOrder
        fields = [
            "case",
            "number",
            "status",
            "status_label",
            "legal_basis",
            "reason",
            "requested_by",
            "requested_at",
            "authorised_by",
            "authorised_at",
            "witnessed_by",
            "witnessed_at",
            "executed_by",
            "executed_at",
            "refused_by",
            "refused_reason",
            "certificate_sha256",
            "certificate_url",
            "items",
        ]
        read_only_fields = fields

    def get_requested_by(self, order: DestructionOrder) -> str | None:
        return username_of(order.requested_by)

    def get_authorised_by(self, order: DestructionOrder) -> str | None:
        return username_of(order.authorised_by)

    def get_witnessed_by(self, order: DestructionOrder) -> str | None:
        return username_of(order.witnessed_by)

    def get_executed_by(self, order: DestructionOrder) -> str | None:
        return username_of(order.executed_by)

    def get_refused_by(self, order: DestructionOrder) -> str | None:
        return username_of(order.refused_by)

    def get_certificate_url(self, order: DestructionOrder) -> str | None:
        if order.certificate_id is None:
            return None
        return reverse(
            "records-api:case-destruction-order-certificate",
            kwargs={"number": order.case.number, "order": order.number},
        )

    @extend_schema_field(DestructionOrderItemSerializer(many=True))
    def get_items(self, order: DestructionOrder) -> list[dict[str, Any]]:
        entries = getattr(order, "items", None)
        if entries is None:
            entries = list(order.entries.order_by("item_id"))
        return list(DestructionOrderItemSerializer(entries, many=True).data)


class DestructionOrderRequestSerializer(serializers.Serializer):
    """What a lead asks to destroy, and on what legal basis."""

    legal_basis = serializers.CharField(
        help_text="The law or order that allows destruction, e.g. 형사소송법 제219조·제130조, 보존기간 경과."
    )
    items = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        allow_empty=False,
        help_text="Item ids of the case; every live item when left out.",
    )
    reason = serializers.CharField(required=False, default="", allow_blank=True)
    court_order = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        help_text="The court's order or judgment requiring destruction now (a case not yet due needs one).",
    )


class DestructionAuthoriseSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)


class RetentionSerializer(serializers.Serializer):
    """Whether a case is due for destruction under the retention schedule, and why (not)."""

    case = serializers.CharField()
    status = serializers.CharField()
    retention_class = serializers.CharField()
    closed_at = serializers.DateTimeField(allow_null=True)
    legal_hold = serializers.BooleanField()
    legal_hold_reason = serializers.CharField()
    due = serializers.BooleanField()
    due_at = serializers.DateTimeField(allow_null=True)
    explanation = serializers.CharField()
    orders_in_progress = serializers.ListField(child=serializers.CharField())
