"""Admin for cases, people, channels and links: read-only views for administrators.

Items appear by id only (an original file name can name a victim).

Every change to these is a custody event written by a service (access/services.py, people.py,
channels.py, links.py), so the admin changes nothing that the ledger would miss: cases are opened with
``create_case`` or the API, teams are set with ``add_member`` or the API. Identities are never shown here;
only whether one is held.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from access.admin_scope import CaseScopedAdmin
from haetae.toolkit import ReadOnlyInline
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


class PersonAccountInline(ReadOnlyInline):
    model = PersonAccount
    fields = ["platform", "handle", "url", "added_by", "added_at"]


@admin.register(Person)
class PersonAdmin(CaseScopedAdmin):
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
class PersonAccountAdmin(CaseScopedAdmin):
    case_path = "person__case"
    list_display = ["person", "platform", "handle", "added_at"]
    list_filter = ["platform"]
    search_fields = ["handle", "person__pseudonym", "person__case__number"]
    list_select_related = ["person"]


class ChannelObservationInline(ReadOnlyInline):
    model = ChannelObservation
    fields = ["observed_at", "member_count", "note", "observed_by"]


@admin.register(Channel)
class ChannelAdmin(CaseScopedAdmin):
    list_display = ["__str__", "case", "platform", "title", "recorded_at"]
    list_filter = ["platform"]
    search_fields = ["handle", "url", "title", "case__number"]
    list_select_related = ["case"]
    inlines = [ChannelObservationInline]


@admin.register(ChannelObservation)
class ChannelObservationAdmin(CaseScopedAdmin):
    case_path = "channel__case"
    list_display = ["channel", "observed_at", "member_count", "observed_by"]
    list_select_related = ["channel", "observed_by"]


class LinkAdmin(CaseScopedAdmin):
    list_filter = ["confidence", "source"]
    date_hierarchy = "asserted_at"


@admin.register(ItemPersonLink)
class ItemPersonLinkAdmin(LinkAdmin):
    case_path = "person__case"
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
    case_path = "channel__case"
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
    case_path = "person__case"
    list_display = ["id", "person", "relation", "channel", "confidence", "source", "withdrawn_at"]
    list_select_related = ["person", "channel"]
    search_fields = ["person__pseudonym", "channel__handle", "channel__case__number"]


@admin.register(ItemDerivationLink)
class ItemDerivationLinkAdmin(LinkAdmin):
    case_path = "item__case"
    list_display = ["id", "item_id", "source_item_id", "confidence", "source", "asserted_at", "withdrawn_at"]


# Registered in their own modules (break-glass grants; victim support), imported for their side effects.
