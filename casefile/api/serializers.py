"""Shapes of the cases API: cases, teams, authorities, people (by pseudonym), channels, links, the graph.

Serializers validate and shape; the services in casefile/ write (and log). People appear by pseudonym:
no serializer here has an identity field except ``IdentitySerializer``, which only the identity endpoint
returns.
"""

from typing import Any

from rest_framework import serializers

from casefile.choices import (
    CALLER_ROLE_CHOICES,
    CaseMemberRole,
    CaseRetention,
    CaseStatus,
    LegalAuthorityKind,
)
from casefile.models import (
    Case,
    CaseMember,
    Channel,
    ChannelObservation,
    ItemChannelLink,
    ItemDerivationLink,
    ItemPersonLink,
    LegalAuthority,
    Offence,
    Person,
    PersonAccount,
    PersonChannelLink,
)
from casefile.models.people import (
    ChannelPlatform,
    ItemPersonRelation,
    LinkConfidence,
    PersonChannelRelation,
    PersonKind,
)

_REASON_HELP = "Why: it goes into the case's custody record."


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
    reason = serializers.CharField(max_length=2000, help_text=_REASON_HELP)


class LegalHoldSerializer(serializers.Serializer):
    """Place (true) or lift (false) the legal hold."""

    legal_hold = serializers.BooleanField()
    reason = serializers.CharField(max_length=2000, help_text=_REASON_HELP)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text=_REASON_HELP)


class MemberSerializer(serializers.ModelSerializer):
    """A place on the case team."""

    username = serializers.CharField(source="user.username", read_only=True)
    added_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = CaseMember
        fields = ["username", "role", "added_at", "added_by"]
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


class PersonAccountSerializer(serializers.ModelSerializer):
    """An account or handle a (non-victim) person is known to use."""

    added_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = PersonAccount
        fields = ["id", "platform", "handle", "url", "note", "added_by", "added_at"]
        read_only_fields = fields


class PersonAccountCreateSerializer(serializers.Serializer):
    platform = serializers.ChoiceField(choices=ChannelPlatform.choices)
    handle = serializers.CharField(max_length=300)
    url = serializers.URLField(max_length=1000, required=False, allow_blank=True, default="")
    note = serializers.CharField(required=False, allow_blank=True, default="")


class PersonSerializer(serializers.ModelSerializer):
    """A person by pseudonym; whether an identity is on file, never what it says."""

    has_identity = serializers.BooleanField(read_only=True, help_text="An identity is held (sealed).")
    accounts = PersonAccountSerializer(many=True, read_only=True)

    class Meta:
        model = Person
        fields = [
            "pseudonym",
            "kind",
            "is_minor",
            "description",
            "has_identity",
            "identity_changed_at",
            "accounts",
            "created_at",
        ]
        read_only_fields = fields


class IdentifierSerializer(serializers.Serializer):
    kind = serializers.CharField(max_length=64, help_text="e.g. phone, resident_registration, account")
    value = serializers.CharField(max_length=500)


class IdentitySerializer(serializers.Serializer):
    """A person's identifying details (returned only by the identity endpoint, each read logged)."""

    name = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    birth_date = serializers.DateField(required=False, allow_null=True, default=None)
    contact = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    identifiers = IdentifierSerializer(many=True, required=False, default=list)


class PersonCreateSerializer(serializers.Serializer):
    """Record a person; they get the next pseudonym of their kind."""

    kind = serializers.ChoiceField(choices=PersonKind.choices)
    is_minor = serializers.BooleanField(default=False)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    identity = IdentitySerializer(required=False, allow_null=True, default=None)


class PersonUpdateSerializer(serializers.Serializer):
    is_minor = serializers.BooleanField(required=False)
    description = serializers.CharField(required=False, allow_blank=True)


class IdentityChangeSerializer(serializers.Serializer):
    identity = IdentitySerializer()
    reason = serializers.CharField(max_length=2000, help_text=_REASON_HELP)


class IdentityReadSerializer(serializers.Serializer):
    pseudonym = serializers.CharField()
    identity = IdentitySerializer()


class ChannelObservationSerializer(serializers.ModelSerializer):
    observed_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = ChannelObservation
        fields = ["id", "observed_at", "member_count", "note", "observed_by", "recorded_at"]
        read_only_fields = fields


class ChannelSerializer(serializers.ModelSerializer):
    """A distribution channel with its latest observed member count."""

    latest_member_count = serializers.IntegerField(read_only=True, allow_null=True)
    latest_observed_at = serializers.DateTimeField(read_only=True, allow_null=True)
    recorded_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = Channel
        fields = [
            "id",
            "platform",
            "handle",
            "url",
            "title",
            "description",
            "latest_member_count",
            "latest_observed_at",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = fields


class ChannelDetailSerializer(ChannelSerializer):
    observations = ChannelObservationSerializer(many=True, read_only=True)

    class Meta(ChannelSerializer.Meta):
        fields = [*ChannelSerializer.Meta.fields, "observations"]
        read_only_fields = fields


class ChannelCreateSerializer(serializers.Serializer):
    platform = serializers.ChoiceField(choices=ChannelPlatform.choices)
    handle = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    url = serializers.URLField(max_length=1000, required=False, allow_blank=True, default="")
    title = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    description = serializers.CharField(required=False, allow_blank=True, default="")

    def validate(self, attrs: dict) -> dict:
        if not attrs.get("handle", "").strip() and not attrs.get("url", "").strip():
            raise serializers.ValidationError(
                {"handle": ["give the channel's handle (e.g. @name) or its URL"]}
            )
        return attrs


class ObservationCreateSerializer(serializers.Serializer):
    observed_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    member_count = serializers.IntegerField(min_value=0, required=False, allow_null=True, default=None)
    note = serializers.CharField(required=False, allow_blank=True, default="")


# Links


_LINK_FIELDS = [
    "id",
    "confidence",
    "source",
    "annotation",
    "note",
    "asserted_by",
    "asserted_at",
    "active",
    "withdrawn_by",
    "withdrawn_at",
    "withdrawn_reason",
]


class _LinkSerializer(serializers.ModelSerializer):
    asserted_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    withdrawn_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    active = serializers.BooleanField(source="is_active", read_only=True)
    annotation: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True
    )


class ItemPersonLinkSerializer(_LinkSerializer):
    """An item depicts / was created / possessed / distributed by a person (named by pseudonym)."""

    person = serializers.CharField(source="person.pseudonym", read_only=True)
    item_sha256 = serializers.CharField(source="item.blob_id", read_only=True, allow_null=True)

    class Meta:
        model = ItemPersonLink
        fields = ["item", "item_sha256", "relation", "person", *_LINK_FIELDS]
        read_only_fields = fields


class ItemChannelLinkSerializer(_LinkSerializer):
    """An item posted in a channel."""

    item_sha256 = serializers.CharField(source="item.blob_id", read_only=True, allow_null=True)

    class Meta:
        model = ItemChannelLink
        fields = [
            "item",
            "item_sha256",
            "channel",
            "posted_at",
            "message_reference",
            "first_seen_at",
            *_LINK_FIELDS,
        ]
        read_only_fields = fields


class PersonChannelLinkSerializer(_LinkSerializer):
    """A person administers / uploads to / belongs to a channel."""

    person = serializers.CharField(source="person.pseudonym", read_only=True)

    class Meta:
        model = PersonChannelLink
        fields = ["person", "relation", "channel", *_LINK_FIELDS]
        read_only_fields = fields


class ItemDerivationLinkSerializer(_LinkSerializer):
    """An item derived from another (a deepfake from its source photo)."""

    item_sha256 = serializers.CharField(source="item.blob_id", read_only=True, allow_null=True)
    source_item_sha256 = serializers.CharField(source="source_item.blob_id", read_only=True, allow_null=True)

    class Meta:
        model = ItemDerivationLink
        fields = ["item", "item_sha256", "source_item", "source_item_sha256", *_LINK_FIELDS]
        read_only_fields = fields


class _AssertSerializer(serializers.Serializer):
    confidence = serializers.ChoiceField(choices=LinkConfidence.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="", help_text="The basis.")


class ItemPersonAssertSerializer(_AssertSerializer):
    item = serializers.IntegerField(help_text="Evidence item id.")
    person = serializers.CharField(help_text="Pseudonym, e.g. V-1.")
    relation = serializers.ChoiceField(choices=ItemPersonRelation.choices)


class ItemChannelAssertSerializer(_AssertSerializer):
    item = serializers.IntegerField(help_text="Evidence item id.")
    channel = serializers.IntegerField(help_text="Channel id.")
    posted_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    message_reference = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    first_seen_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class PersonChannelAssertSerializer(_AssertSerializer):
    person = serializers.CharField(help_text="Pseudonym, e.g. S-1.")
    channel = serializers.IntegerField(help_text="Channel id.")
    relation = serializers.ChoiceField(choices=PersonChannelRelation.choices)


class ItemDerivationAssertSerializer(_AssertSerializer):
    item = serializers.IntegerField(help_text="The derived item (e.g. the deepfake).")
    source_item = serializers.IntegerField(help_text="The item it was derived from (e.g. the source photo).")


# Graph


class GraphNodeSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="person:N, channel:N or item:N")
    type = serializers.ChoiceField(choices=["person", "channel", "item"])
    pseudonym = serializers.CharField(required=False)
    kind = serializers.CharField(required=False)
    is_minor = serializers.BooleanField(required=False)
    platform = serializers.CharField(required=False)
    handle = serializers.CharField(required=False)
    url = serializers.CharField(required=False)
    title = serializers.CharField(required=False)
    member_count = serializers.IntegerField(required=False, allow_null=True)
    item_id = serializers.IntegerField(required=False)
    sha256 = serializers.CharField(required=False, allow_null=True)
    mime = serializers.CharField(required=False)


class GraphEdgeSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="link type and id, e.g. item_person:4")
    type = serializers.ChoiceField(
        choices=["item_person", "item_channel", "person_channel", "item_derivation"]
    )
    relation = serializers.CharField()
    source = serializers.CharField(help_text="node id")  # type: ignore[assignment] # a field, not Field.source
    target = serializers.CharField(help_text="node id")
    confidence = serializers.ChoiceField(choices=LinkConfidence.choices)
    origin = serializers.CharField(help_text="investigator or detector")
    asserted_at = serializers.DateTimeField()
    withdrawn = serializers.BooleanField()
    posted_at = serializers.DateTimeField(required=False, allow_null=True)
    message_reference = serializers.CharField(required=False)


class GraphSerializer(serializers.Serializer):
    case = serializers.CharField()
    nodes = GraphNodeSerializer(many=True)
    edges = GraphEdgeSerializer(many=True)


# Uploads (evidence into a case)


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
