"""Hash banks, their entries, matches and match alerts over the API (docs/hash-banks.md).

Banks: administrators manage them; investigators read the names. Matches: a caller sees the matches of
items they can see, and of the other side of a cross-case match only that it exists and whom to ask.
"""

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from access.models import Case
from access.selectors import case_get_for
from detection.alerts import match_alert_mark_seen
from detection.banks import bank_create, bank_entry_add
from detection.match_selectors import (
    hash_bank_list,
    hash_bank_require_manager,
    is_bank_admin,
    match_alert_list,
    match_list,
    match_view,
    pseudonymised_case_ids,
    visible_case_ids,
)
from detection.models import BankEntry, HashBank, MatchAlert
from detection.models.banks import HashBankKind
from evidence.selectors import evidence_get_for
from haetae.api import ErrorSerializer
from haetae.errors import RejectedInput

_DENIED = OpenApiResponse(ErrorSerializer, description="Your role may not do this.")
_NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such bank, item, case or alert among yours.")


class HashBankSerializer(serializers.ModelSerializer):
    """A hash bank: its name, kind and PDQ threshold (entry counts for administrators)."""

    case = serializers.SerializerMethodField(help_text="The victim's case, when you are on its team.")
    entry_count = serializers.SerializerMethodField(help_text="Entries in the bank (administrators only).")

    class Meta:
        model = HashBank
        fields = [
            "id",
            "name",
            "kind",
            "description",
            "pdq_threshold",
            "active",
            "case",
            "created_at",
            "entry_count",
        ]
        read_only_fields = fields

    def get_case(self, bank: HashBank) -> str | None:
        visible = self.context.get("visible_cases", set())
        return bank.case.number if bank.case is not None and bank.case_id in visible else None

    def get_entry_count(self, bank: HashBank) -> int | None:
        return bank.entries.count() if self.context.get("admin") else None


class HashBankCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=HashBankKind.choices)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    pdq_threshold = serializers.IntegerField(required=False, default=31, min_value=0, max_value=31)
    case = serializers.CharField(required=False, help_text="Case number of a victim's bank.")


class BankEntrySerializer(serializers.ModelSerializer):
    """One entry of a bank (administrators, and the lead of a victim's bank's case)."""

    added_by = serializers.CharField(source="added_by.get_username", read_only=True, default=None)

    class Meta:
        model = BankEntry
        fields = ["id", "pdq", "md5", "sha1", "sha256", "label", "source", "added_by", "added_at"]
        read_only_fields = ["id", "added_by", "added_at"]
        extra_kwargs = {
            name: {"required": False} for name in ["pdq", "md5", "sha1", "sha256", "label", "source"]
        }


class BankEntryInputSerializer(serializers.Serializer):
    """A new entry: at least one hash (any case; checked and lower-cased by the service)."""

    pdq = serializers.CharField(required=False, allow_blank=True, default="")
    md5 = serializers.CharField(required=False, allow_blank=True, default="")
    sha1 = serializers.CharField(required=False, allow_blank=True, default="")
    sha256 = serializers.CharField(required=False, allow_blank=True, default="")
    label = serializers.CharField(  # type: ignore[assignment]
        required=False, allow_blank=True, default="", max_length=300
    )
    # DRF's metaclass moves declared fields off the class, so this does not shadow Field.source.
    source = serializers.CharField(  # type: ignore[assignment]
        required=False, allow_blank=True, default="", max_length=300
    )


class ContactSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="A lead of the other case.")
    unit = serializers.CharField(help_text="The other case's investigating unit (may be empty).")


class MatchSideSerializer(serializers.Serializer):
    """One side of a match: the item if you may see it, otherwise only whom to ask."""

    visible = serializers.BooleanField()
    item_id = serializers.IntegerField(allow_null=True)
    case_number = serializers.CharField(allow_null=True)
    original_name = serializers.CharField(allow_null=True)
    contacts = ContactSerializer(many=True)


class MatchEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    bank = serializers.CharField()
    bank_kind = serializers.CharField()
    # DRF's metaclass moves declared fields off the class, so these do not shadow Field attributes.
    label = serializers.CharField(allow_null=True)  # type: ignore[assignment]
    source = serializers.CharField(allow_null=True)  # type: ignore[assignment]
    contacts = ContactSerializer(many=True)


class MatchSerializer(serializers.Serializer):
    """A recorded match, as you may see it."""

    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="pdq, md5, sha1 or sha256.")
    distance = serializers.IntegerField(help_text="PDQ bits that differ (0 for digests).")
    orientation = serializers.CharField(help_text="The item's orientation that matched (PDQ).")
    threshold = serializers.IntegerField()
    index_version = serializers.CharField()
    matched_at = serializers.DateTimeField()
    suppressed = serializers.BooleanField(help_text="The item is also on an allow list: no alert was raised.")
    suppressed_by_bank = serializers.CharField(allow_null=True)
    item = MatchSideSerializer()
    other_item = MatchSideSerializer(allow_null=True)
    bank_entry = MatchEntrySerializer(allow_null=True)


class MatchAlertSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.CharField(help_text="Your case, the side of the match you lead.")
    created_at = serializers.DateTimeField()
    seen_at = serializers.DateTimeField(allow_null=True)
    message = serializers.CharField()
    match = MatchSerializer()


@extend_schema_view(
    list=extend_schema(
        summary="Hash banks",
        description="Every bank's name, kind and threshold; for administrators and investigators.",
        responses={200: HashBankSerializer(many=True), 403: _DENIED},
    ),
    retrieve=extend_schema(
        summary="One hash bank", responses={200: HashBankSerializer, 403: _DENIED, 404: _NOT_FOUND}
    ),
)
class HashBankViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Hash banks; administrators create them and add entries."""

    serializer_class = HashBankSerializer
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> Any:
        return hash_bank_list(user=self.request.user)

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        user = self.request.user
        context["visible_cases"] = visible_case_ids(user)
        context["admin"] = is_bank_admin(user)
        return context

    @extend_schema(
        summary="Create a hash bank",
        description="Administrators only. A victim's bank names its case.",
        request=HashBankCreateSerializer,
        responses={201: HashBankSerializer, 400: OpenApiResponse(ErrorSerializer), 403: _DENIED},
    )
    def create(self, request: Request) -> Response:
        hash_bank_require_manager(user=request.user)
        form = HashBankCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        case = None
        if data.get("case"):
            case = Case.objects.filter(number=data["case"]).first()
            if case is None:
                raise RejectedInput(f"no case numbered {data['case']!r}")
        bank = bank_create(
            name=data["name"],
            kind=data["kind"],
            actor=request.user,  # type: ignore[arg-type]
            description=data["description"],
            pdq_threshold=data["pdq_threshold"],
            case=case,
        )
        body = HashBankSerializer(bank, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["get"],
        summary="A bank's entries",
        description="Administrators, and the lead of a victim's bank's case.",
        responses={200: BankEntrySerializer(many=True), 403: _DENIED, 404: _NOT_FOUND},
    )
    @extend_schema(
        methods=["post"],
        summary="Add an entry to a bank",
        description="At least one of pdq, md5, sha1, sha256; it is matched against new items at once.",
        request=BankEntryInputSerializer,
        responses={201: BankEntrySerializer, 400: OpenApiResponse(ErrorSerializer), 403: _DENIED},
    )
    @action(detail=True, methods=["get", "post"], serializer_class=BankEntrySerializer)
    def entries(self, request: Request, pk: str) -> Response:
        bank = get_object_or_404(hash_bank_list(user=request.user), pk=int(pk))
        hash_bank_require_manager(user=request.user, bank=bank)
        if request.method == "GET":
            page = self.paginate_queryset(bank.entries.select_related("added_by").order_by("id"))
            return self.get_paginated_response(BankEntrySerializer(page, many=True).data)
        form = BankEntryInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        entry = bank_entry_add(bank=bank, actor=request.user, **form.validated_data)  # type: ignore[arg-type]
        return Response(BankEntrySerializer(entry).data, status=status.HTTP_201_CREATED)


class MatchViewSet(viewsets.GenericViewSet):
    """Matches of an item or a case you can see."""

    serializer_class = MatchSerializer

    def get_queryset(self) -> Any:
        return match_list(user=self.request.user)

    @extend_schema(
        summary="Hash matches of an item or a case",
        description=(
            "Give `item` (an evidence item id) or `case` (a case number) of yours. For each match: kind, "
            "distance, orientation, threshold, index version, whether an allow list suppressed it, and both "
            "sides. A side in a case you cannot see shows only whom to ask (its lead and unit)."
        ),
        parameters=[
            OpenApiParameter("item", OpenApiTypes.INT, description="Evidence item id"),
            OpenApiParameter("case", OpenApiTypes.STR, description="Case number"),
            OpenApiParameter("include_suppressed", OpenApiTypes.BOOL, description="Also allow-listed ones"),
        ],
        responses={200: MatchSerializer(many=True), 400: OpenApiResponse(ErrorSerializer), 404: _NOT_FOUND},
    )
    def list(self, request: Request) -> Response:
        user = request.user
        matches = self.get_queryset()
        item_id, number = request.query_params.get("item"), request.query_params.get("case")
        if item_id:
            if not item_id.isdigit():
                raise RejectedInput(f"item must be an evidence item id, not {item_id!r}")
            item = evidence_get_for(user=user, item_id=int(item_id))
            matches = matches.filter(item_id=item.pk) | matches.filter(other_item_id=item.pk)
        elif number:
            case = case_get_for(user=user, number=number)
            matches = matches.filter(item__case_id=case.pk) | matches.filter(other_item__case_id=case.pk)
        else:
            raise RejectedInput("give item=ID or case=NUMBER")
        if request.query_params.get("include_suppressed", "").lower() not in {"1", "true", "yes"}:
            matches = matches.filter(suppressed_by__isnull=True)
        visible, hidden = visible_case_ids(user), pseudonymised_case_ids(user)
        page = self.paginate_queryset(matches.order_by("-matched_at", "-id"))
        views = [match_view(m, visible_cases=visible, pseudonymised_cases=hidden) for m in page or []]
        return self.get_paginated_response(views)


def _alert_body(alert: MatchAlert, visible: set[int]) -> dict[str, Any]:
    view = match_view(alert.match, visible_cases=visible)
    other = view["other_item"] if view["other_item"] is not None else None
    if other is not None and other["visible"] and view["item"]["visible"]:
        message = "an item of your case matches an item of another of your cases"
    else:
        contacts = (other or {}).get("contacts") or (view["bank_entry"] or {}).get("contacts") or []
        if not view["item"]["visible"]:
            contacts = view["item"]["contacts"]
        whom = "; ".join(
            f"{c['name'] or 'the case lead'}" + (f" ({c['unit']})" if c["unit"] else "") for c in contacts
        )
        message = f"an item of your case matches material in another case: ask {whom or 'an administrator'}"
    return {
        "id": alert.pk,
        "case": alert.case.number,
        "created_at": alert.created_at,
        "seen_at": alert.seen_at,
        "message": message,
        "match": view,
    }


@extend_schema_view(
    list=extend_schema(summary="Your match alerts", responses={200: MatchAlertSerializer(many=True)}),
)
class MatchAlertViewSet(viewsets.GenericViewSet):
    """Cross-case match alerts addressed to you (you lead one of the two cases)."""

    serializer_class = MatchAlertSerializer
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> Any:
        return match_alert_list(user=self.request.user)

    def list(self, request: Request) -> Response:
        visible = visible_case_ids(request.user)
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response([_alert_body(a, visible) for a in page or []])

    @extend_schema(
        summary="Mark an alert seen",
        request=None,
        responses={200: MatchAlertSerializer, 404: _NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def seen(self, request: Request, pk: str) -> Response:
        alert = match_alert_mark_seen(alert_id=int(pk), user=request.user)
        return Response(_alert_body(alert, visible_case_ids(request.user)))
