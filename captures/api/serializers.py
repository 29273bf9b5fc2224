"""Shapes of the captures API: the status every requester may follow, the result for those who may see it."""

from typing import Any

from rest_framework import serializers

from captures.models import Capture
from captures.selectors import capture_items
from haetae.toolkit import username_of


class CaptureRequestSerializer(serializers.Serializer):
    """POST body: the URL to capture."""

    url = serializers.CharField(max_length=4000)


class CaptureStatusSerializer(serializers.ModelSerializer):
    """What a requester follows: the address asked for, who asked, the status and why it failed."""

    requested_by = serializers.SerializerMethodField()

    class Meta:
        model = Capture
        fields = [
            "id",
            "url",
            "status",
            "reason",
            "requested_by",
            "requested_at",
            "started_at",
            "finished_at",
        ]

    def get_requested_by(self, capture: Capture) -> str | None:
        return username_of(capture.requested_by)


class CaptureSerializer(CaptureStatusSerializer):
    """The result as well: final address, server address, user agent, the facts, and the items (ids)."""

    items = serializers.SerializerMethodField()
    manifest_sha256 = serializers.SerializerMethodField()

    class Meta(CaptureStatusSerializer.Meta):
        fields = [
            *CaptureStatusSerializer.Meta.fields,
            "final_url",
            "resolved_ip",
            "user_agent",
            "acquisition",
            "manifest_sha256",
            "facts",
            "items",
        ]

    def get_items(self, capture: Capture) -> list[dict[str, Any]]:
        return capture_items(capture=capture)

    def get_manifest_sha256(self, capture: Capture) -> str | None:
        return capture.acquisition.manifest_sha256 if capture.acquisition else None
