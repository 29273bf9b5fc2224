"""Shapes of the cases API: cases, teams, authorities, people (by pseudonym), channels, links, the graph.

Serializers validate and shape; the services of each app write (and log). People appear by pseudonym:
no serializer here has an identity field except ``IdentitySerializer``, which only the identity endpoint
returns.
"""

from typing import Any

from rest_framework import serializers

from access.choices import CALLER_ROLE_CHOICES, CaseMemberRole, CaseRetention, CaseStatus, LegalAuthorityKind
from access.models import Case, CaseMember, LegalAuthority, Offence

REASON_HELP = "Why: it goes into the case's custody record."


class OffenceSerializer(serializers.ModelSerializer):
    """A statute reference, in Korean and English."""

    class Meta:
        model = Offence
        fields = [
            "code",
            "statute_ko",
            "statute_en",
            "article",
            "label_ko",
            "label_en",
            "minor_victim",
            "since",
        ]
        read_only_fields = fields


class CaseSerializer(serializers.ModelSerializer):
    """A case as its member sees it, with how many items it holds and the caller's role on its team."""

    item_count = serializers.IntegerField(read_only=True, help_text="Evidence items in the case.")
    unit = serializers.SerializerMethodField(help_text="The investigating unit's name (empty: none).")
    role = serializers.ChoiceField(
        source="caller_role",
        choices=CALLER_ROLE_CHOICES,
        read_only=True,
        help_text="Your role on the case team, or break_glass for an administrator under a live grant.",
    )
    offences = OffenceSerializer(many=True, read_only=True)
    lead_investigator: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = Case
        fields = [
            "number",
            "title",
            "status",
            "opened_at",
            "closed_at",
            "unit",
            "jurisdiction",
            "lead_investigator",
            "offences",
            "retention_class",
            "legal_hold",
            "legal_hold_reason",
            "content_requires_legal_basis",
            "item_count",
            "role",
        ]
        read_only_fields = fields

    def get_unit(self, case: Case) -> str:
        return case.unit.name if case.unit is not None else ""


class CaseCreateSerializer(serializers.Serializer):
    """Open a case; you join it as its lead."""

    number = serializers.CharField(max_length=64, help_text="e.g. 2024-SEOUL-0001")
    title = serializers.CharField(max_length=300)
    unit = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    jurisdiction = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    offences = serializers.ListField(
        child=serializers.SlugField(),
        required=False,
        default=list,
        help_text="Offence codes (GET /offences/).",
    )
    retention_class = serializers.ChoiceField(choices=CaseRetention.choices, default=CaseRetention.STANDARD)


class CaseUpdateSerializer(serializers.Serializer):
    """Change a case's details; give only the fields that change."""

    title = serializers.CharField(max_length=300, required=False)
    unit = serializers.CharField(max_length=200, required=False, allow_blank=True)
    jurisdiction = serializers.CharField(max_length=200, required=False, allow_blank=True)
    offences = serializers.ListField(child=serializers.SlugField(), required=False)
    retention_class = serializers.ChoiceField(choices=CaseRetention.choices, required=False)
    content_requires_legal_basis = serializers.BooleanField(required=False)
    lead_investigator = serializers.CharField(
        required=False, help_text="Username of a lead on the team who becomes the officer in charge."
    )


class StatusChangeSerializer(serializers.Serializer):
    """Move the case to another status (open again is a reopening)."""

    status = serializers.ChoiceField(choices=CaseStatus.choices)
    reason = serializers.CharField(max_length=2000, help_text=REASON_HELP)


class LegalHoldSerializer(serializers.Serializer):
    """Place (true) or lift (false) the legal hold."""

    legal_hold = serializers.BooleanField()
    reason = serializers.CharField(max_length=2000, help_text=REASON_HELP)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text=REASON_HELP)


class MemberSerializer(serializers.ModelSerializer):
    """A place on the case team."""

    username = serializers.CharField(source="user.username", read_only=True)
    added_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    via_unit: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="name",
        read_only=True,
        allow_null=True,
        help_text="For the supervisor role: the unit whose supervision gives the place (it ends with it).",
    )

    class Meta:
        model = CaseMember
        fields = ["username", "role", "added_at", "added_by", "via_unit"]
        read_only_fields = fields


class MemberAddSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=CaseMemberRole.choices)


class MemberRoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=CaseMemberRole.choices)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class LegalAuthoritySerializer(serializers.ModelSerializer):
    """A warrant or other authority the case acts under."""

    recorded_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = LegalAuthority
        fields = [
            "id",
            "kind",
            "number",
            "court",
            "scope",
            "issued_at",
            "valid_until",
            "executed_at",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = fields


class LegalAuthorityCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=LegalAuthorityKind.choices, default=LegalAuthorityKind.SEARCH_WARRANT
    )
    number = serializers.CharField(max_length=100)
    court = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    scope = serializers.CharField(max_length=5000)
    issued_at = serializers.DateTimeField()
    valid_until = serializers.DateTimeField(required=False, allow_null=True, default=None)
    executed_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class ExecutedSerializer(serializers.Serializer):
    executed_at = serializers.DateTimeField()


# Links


# Graph


# Uploads (evidence into a case)
