"""Shapes of exhibits, reports and export bundles in the API; request forms validate, services write."""

import base64
import binascii
from typing import Any

from django.urls import reverse
from rest_framework import serializers

from exhibits.choices import ReportLanguage, ReportStatus
from exhibits.models import Exhibit, ExportBundle, Report
from haetae.toolkit import username_of

X25519_PUBLIC_KEY_BYTES = 32
PASSPHRASE_MIN_LENGTH = 12


class ExhibitSummarySerializer(serializers.ModelSerializer):
    """What victim_support and auditor see of an exhibit: number, status, item references and dates."""

    status_label = serializers.CharField(source="get_status_display", read_only=True)
    items = serializers.SerializerMethodField(help_text="Evidence item ids, in the exhibit's order.")

    class Meta:
        model = Exhibit
        fields = [
            "number",
            "status",
            "status_label",
            "items",
            "created_at",
            "approved_at",
            "shared_at",
            "withdrawn_at",
        ]
        read_only_fields = fields

    def get_items(self, exhibit: Exhibit) -> list[int]:
        # From the prefetched rows (ordered by position): no query per exhibit.
        return [row.item_id for row in sorted(exhibit.exhibit_items.all(), key=lambda row: row.position)]


class ExhibitSerializer(ExhibitSummarySerializer):
    """An exhibit as its authors, approvers and the prosecutor see it, with who and when at each step."""

    case = serializers.CharField(source="case.number", read_only=True)
    created_by = serializers.SerializerMethodField()
    approval_requested_by = serializers.SerializerMethodField()
    approved_by = serializers.SerializerMethodField()
    shared_by = serializers.SerializerMethodField()
    withdrawn_by = serializers.SerializerMethodField()

    class Meta:
        model = Exhibit
        fields = [
            "case",
            "number",
            "status",
            "status_label",
            "description",
            "opinion",
            "items",
            "created_by",
            "created_at",
            "approval_requested_by",
            "approval_requested_at",
            "approved_by",
            "approved_at",
            "shared_by",
            "shared_at",
            "withdrawn_by",
            "withdrawn_at",
            "withdrawn_reason",
        ]
        read_only_fields = fields

    def get_created_by(self, exhibit: Exhibit) -> str | None:
        return username_of(exhibit.created_by)

    def get_approval_requested_by(self, exhibit: Exhibit) -> str | None:
        return username_of(exhibit.approval_requested_by)

    def get_approved_by(self, exhibit: Exhibit) -> str | None:
        return username_of(exhibit.approved_by)

    def get_shared_by(self, exhibit: Exhibit) -> str | None:
        return username_of(exhibit.shared_by)

    def get_withdrawn_by(self, exhibit: Exhibit) -> str | None:
        return username_of(exhibit.withdrawn_by)


class ExhibitCreateSerializer(serializers.Serializer):
    items = serializers.ListField(
        child=serializers.IntegerField(min_value=1), help_text="Evidence item ids of the case, in order."
    )
    description = serializers.CharField(help_text="What the items are and why they matter.")
    opinion = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="The investigator's opinion (kept apart)."
    )


class ExhibitUpdateSerializer(serializers.Serializer):
    items = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False)
    description = serializers.CharField(required=False)
    opinion = serializers.CharField(required=False, allow_blank=True)


class ExhibitApproveSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Recorded with the approval."
    )


class ExhibitWithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="Why it is withdrawn: recorded in the custody ledger.")


class JobSerializer(serializers.ModelSerializer):
    """What reports and bundles share: who asked, where to poll, where to download once done."""

    # the router's basename of the job's own ViewSet ("report", "bundle")
    route: str

    case = serializers.CharField(source="case.number", read_only=True)
    requested_by = serializers.SerializerMethodField()
    progress_url = serializers.SerializerMethodField()

    def get_requested_by(self, job: Report | ExportBundle) -> str | None:
        return username_of(job.requested_by)

    def get_progress_url(self, job: Report | ExportBundle) -> str:
        return reverse(f"exhibits-api:{self.route}-detail", kwargs={"pk": job.pk})

    def get_download_url(self, job: Report | ExportBundle) -> str | None:
        if job.status != ReportStatus.DONE:
            return None
        return reverse(f"exhibits-api:{self.route}-download", kwargs={"pk": job.pk})


_JOB_STATE = ["status", "progress", "error", "sha256", "size"]
_JOB_TRAIL = ["requested_by", "requested_at", "finished_at", "progress_url", "download_url"]


class ReportSerializer(JobSerializer):
    """A report version and its progress: queued, running (progress %), done (SHA-256, pages) or failed."""

    route = "report"
    download_url = serializers.SerializerMethodField(help_text="Present once the report is done.")

    class Meta:
        model = Report
        fields = [
            "id",
            "case",
            "report_id",
            "version",
            "language",
            "scope",
            *_JOB_STATE,
            "page_count",
            "signer_subject",
            "development_signer",
            *_JOB_TRAIL,
        ]
        read_only_fields = fields


class ReportRequestSerializer(serializers.Serializer):
    exhibits = serializers.ListField(
        child=serializers.RegexField(r"^[Ee]-[0-9]{3,}$"),
        required=False,
        allow_empty=False,
        help_text="Exhibit numbers (E-001 …); without it, every exhibit of the case.",
    )
    language = serializers.ChoiceField(choices=ReportLanguage.choices, default=ReportLanguage.KO)


class BundleSerializer(JobSerializer):
    """An export bundle and its progress; the recipient key is shown by kind and fingerprint only."""

    route = "bundle"
    download_url = serializers.SerializerMethodField(help_text="Present once the bundle is done.")

    class Meta:
        model = ExportBundle
        fields = ["id", "case", "scope", "recipient", "recipient_key", "report", *_JOB_STATE, *_JOB_TRAIL]
        read_only_fields = fields


class BundleRequestSerializer(serializers.Serializer):
    exhibits = serializers.ListField(
        child=serializers.RegexField(r"^[Ee]-[0-9]{3,}$"),
        allow_empty=False,
        help_text="Numbers of shared exhibits (E-001 …) to export.",
    )
    recipient = serializers.CharField(max_length=300, help_text="Who receives it (office, prosecutor).")
    recipient_public_key = serializers.CharField(
        required=False,
        help_text="The recipient's X25519 public key, 32 bytes in base64: the originals are encrypted to it.",
    )
    passphrase = serializers.CharField(
        required=False,
        min_length=PASSPHRASE_MIN_LENGTH,
        help_text="Instead of a key: a passphrase given to the recipient out of band (scrypt).",
        style={"input_type": "password"},
    )

    def validate_recipient_public_key(self, value: str) -> bytes:
        try:
            raw = base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise serializers.ValidationError(
                "not base64: give the recipient's raw 32-byte X25519 public key in base64"
            ) from None
        if len(raw) != X25519_PUBLIC_KEY_BYTES:
            raise serializers.ValidationError(
                f"an X25519 public key is {X25519_PUBLIC_KEY_BYTES} bytes; this one is {len(raw)}"
            )
        return raw

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        has_key, has_passphrase = "recipient_public_key" in attrs, bool(attrs.get("passphrase"))
        if has_key == has_passphrase:
            raise serializers.ValidationError(
                {
                    "recipient_public_key": [
                        "give either the recipient's public key or a passphrase (exactly one): the originals "
                        "in the bundle are encrypted to it"
                    ]
                }
            )
        return attrs
