"""Serializers of the parties API: people, accounts, identities, channels, observations, links, graph."""

from typing import Any

from rest_framework import serializers

from access.api.serializers import REASON_HELP
from parties.choices import (
    ChannelPlatform,
    ItemPersonRelation,
    LinkConfidence,
    PersonChannelRelation,
    PersonKind,
)
from parties.models import (
    Channel,
    ChannelObservation,
    ItemChannelLink,
    ItemDerivationLink,
    ItemPersonLink,
    Person,
    PersonAccount,
    PersonChannelLink,
)


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
    reason = serializers.CharField(max_length=2000, help_text=REASON_HELP)


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


class FaceSearchSideSerializer(serializers.Serializer):
    """A hit's item as the searcher may see it (the hash matches' rule): whole, or only whom to ask."""

    visible = serializers.BooleanField()
    item_id = serializers.IntegerField(allow_null=True)
    case_number = serializers.CharField(allow_null=True)
    original_name = serializers.CharField(allow_null=True, help_text="item-ID where items are pseudonymised")
    contacts = serializers.ListField(
        child=serializers.DictField(child=serializers.CharField()),
        help_text="for a case the searcher is not on: its leads' names and unit",
    )


class FaceSearchHitSerializer(serializers.Serializer):
    visible = serializers.BooleanField()
    same_case = serializers.BooleanField(help_text="the hit is in the victim's own case")
    distance = serializers.FloatField(help_text="Euclidean embedding distance to the nearest reference")
    reference_photo = serializers.IntegerField()
    item = FaceSearchSideSerializer()
    annotation = serializers.IntegerField(allow_null=True, help_text="the face finding (visible hits only)")
    suggestion = serializers.CharField()
    link = serializers.DictField(allow_null=True, help_text="the active 'depicts' link in the victim's case")


class FaceSearchSerializer(serializers.Serializer):
    """A face search across cases: suggestions, never links."""

    person = serializers.CharField()
    case = serializers.CharField()
    max_distance = serializers.FloatField()
    reference_photos = serializers.ListField(child=serializers.IntegerField())
    index = serializers.ListField(child=serializers.CharField(), help_text="the index's state per model")
    count = serializers.IntegerField()
    results = FaceSearchHitSerializer(many=True)


class FaceClusterSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="F-<the group's first face>; changes as faces are named")
    size = serializers.IntegerField()
    items = serializers.ListField(child=serializers.IntegerField())
    faces = serializers.ListField(child=serializers.DictField(), help_text="annotation, item, region")
    diameter = serializers.FloatField(help_text="the largest distance between two faces of the group")
    model_sha256 = serializers.CharField()


class FaceClustersSerializer(serializers.Serializer):
    case = serializers.CharField()
    max_distance = serializers.FloatField()
    count = serializers.IntegerField()
    unclustered = serializers.IntegerField(help_text="unknown faces like no other")
    results = FaceClusterSerializer(many=True)


class FaceClusterNameSerializer(serializers.Serializer):
    person = serializers.RegexField(r"^[A-Za-z]-[0-9]+$", help_text="the pseudonym, e.g. S-2")
    faces = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        min_length=1,
        max_length=5_000,
        help_text="annotation ids",
    )
