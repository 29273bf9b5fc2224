"""Admin for cases, people, channels and links: read-only views for administrators.

Items appear by id only (an original file name can name a victim).

Every change to these is a custody event written by a service (casefile/services.py, people.py,
channels.py, links.py), so the admin changes nothing that the ledger would miss: cases are opened with
``create_case`` or the API, teams are set with ``add_member`` or the API. Identities are never shown here;
only whether one is held.
"""

from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

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


class ReadOnlyAdmin(admin.ModelAdmin):
    """View only: writes go through the logged services."""

    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CaseMemberInline(ReadOnlyInline):
    model = CaseMember
    fields = ["user", "role", "added_at", "added_by"]


class LegalAuthorityInline(ReadOnlyInline):
    model = LegalAuthority
    fields = ["kind", "number", "court", "issued_at", "executed_at"]


@admin.register(Offence)
class OffenceAdmin(admin.ModelAdmin):
    """The offence table is reference data: labels may be corrected here; codes never change."""

    list_display = ["code", "statute_en", "article", "label_en", "minor_victim", "since"]
    list_filter = ["statute_en", "minor_victim"]
    search_fields = ["code", "label_ko", "label_en", "article"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["code"] if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ["number", "title", "status", "unit", "lead_investigator", "legal_hold", "opened_at"]
    list_filter = ["status", "retention_class", "legal_hold"]
    search_fields = ["number", "title", "unit"]
    list_select_related = ["lead_investigator"]
    inlines = [CaseMemberInline, LegalAuthorityInline]


@admin.register(CaseMember)
class CaseMemberAdmin(ReadOnlyAdmin):
    list_display = ["case", "user", "role", "added_at", "added_by"]
    list_filter = ["role"]
    search_fields = ["case__number", "user__username"]
    list_select_related = ["case", "user", "added_by"]


@admin.register(LegalAuthority)
class LegalAuthorityAdmin(ReadOnlyAdmin):
    list_display = ["case", "kind", "number", "court", "issued_at", "executed_at"]
    list_filter = ["kind"]
    search_fields = ["case__number", "number", "court"]
    list_select_related = ["case"]


class PersonAccountInline(ReadOnlyInline):
    model = PersonAccount
    fields = ["platform", "handle", "url", "added_by", "added_at"]


@admin.register(Person)
class PersonAdmin(ReadOnlyAdmin):
    """People by pseudonym; the identity ciphertext is neither shown nor decrypted here."""

    list_display = ["pseudonym", "case", "kind", "is_minor", "has_identity", "created_at"]
    list_filter = ["kind", "is_minor"]
    search_fields = ["case__number", "pseudonym"]
    list_select_related = ["case"]
    fields = ["case", "pseudonym", "kind", "is_minor", "description", "has_identity", "identity_changed_at"]
    readonly_fields = ["has_identity"]
    inlines = [PersonAccountInline]

    @admin.display(boolean=True, description="identity held (sealed)")
    def has_identity(self, obj: Person) -> bool:
        return obj.has_identity

    def get_queryset(self, request: HttpRequest) -> Any:
        # The ciphertext column is not even loaded.
        return super().get_queryset(request).defer("identity_ciphertext")


@admin.register(PersonAccount)
class PersonAccountAdmin(ReadOnlyAdmin):
    list_display = ["person", "platform", "handle", "added_at"]
    list_filter = ["platform"]
    search_fields = ["handle", "person__pseudonym", "person__case__number"]
    list_select_related = ["person"]


class ChannelObservationInline(ReadOnlyInline):
    model = ChannelObservation
    fields = ["observed_at", "member_count", "note", "observed_by"]


@admin.register(Channel)
class ChannelAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "case", "platform", "title", "recorded_at"]
    list_filter = ["platform"]
    search_fields = ["handle", "url", "title", "case__number"]
    list_select_related = ["case"]
    inlines = [ChannelObservationInline]


@admin.register(ChannelObservation)
class ChannelObservationAdmin(ReadOnlyAdmin):
    list_display = ["channel", "observed_at", "member_count", "observed_by"]
    list_select_related = ["channel", "observed_by"]


class LinkAdmin(ReadOnlyAdmin):
    list_filter = ["confidence", "source"]
    date_hierarchy = "asserted_at"


@admin.register(ItemPersonLink)
class ItemPersonLinkAdmin(LinkAdmin):
    list_display = [
        "id",
        "item_id",
        "relation",
        "person",
        "confidence",
        "source",
        "asserted_at",
        "withdrawn_at",
    ]
    list_select_related = ["person"]
    search_fields = ["person__pseudonym", "person__case__number"]


@admin.register(ItemChannelLink)
class ItemChannelLinkAdmin(LinkAdmin):
    list_display = [
        "id",
        "item_id",
        "channel",
        "posted_at",
        "message_reference",
        "confidence",
        "withdrawn_at",
    ]
    list_select_related = ["channel"]
    search_fields = ["message_reference", "channel__handle", "channel__case__number"]


@admin.register(PersonChannelLink)
class PersonChannelLinkAdmin(LinkAdmin):
    list_display = ["id", "person", "relation", "channel", "confidence", "source", "withdrawn_at"]
    list_select_related = ["person", "channel"]
    search_fields = ["person__pseudonym", "channel__handle", "channel__case__number"]


@admin.register(ItemDerivationLink)
class ItemDerivationLinkAdmin(LinkAdmin):
    list_display = ["id", "item_id", "source_item_id", "confidence", "source", "asserted_at", "withdrawn_at"]


# Registered in their own modules (break-glass grants; victim support), imported for their side effects.
from casefile import admin_access, admin_support  # noqa: E402, F401
