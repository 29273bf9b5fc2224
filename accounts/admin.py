"""Admin: API tokens (read-only, with a revoke action; no token is ever shown), account events, and
examiners' qualifications (saving records a new row; none is rewritten or deleted)."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import AccountEvent, ApiToken, ExaminerQualification
from accounts.services import (
    api_token_revoke,
    dated_lines_parse,
    examiner_qualification_record,
    qualification_next_state,
)
from haetae.errors import HaetaeError


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = [
        "prefix",
        "user",
        "name",
        "state",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["revoked_at"]
    search_fields = ["user__username", "prefix", "name"]
    readonly_fields = [f.name for f in ApiToken._meta.fields if f.name != "key_sha256"]
    exclude = ["key_sha256"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # issue with manage.py api_token issue or the API: the token is shown there, once

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoked, never deleted: the record of who held a token stays

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        done = 0
        for token in queryset.filter(revoked_at__isnull=True):
            try:
                api_token_revoke(token=token, actor=request.user, reason="revoked in the admin")  # type: ignore[arg-type]
                done += 1
            except HaetaeError as exc:
                self.message_user(request, exc.message, messages.ERROR)
        self.message_user(request, f"{done} token(s) revoked")


@admin.register(AccountEvent)
class AccountEventAdmin(admin.ModelAdmin):
    list_display = ["at", "user", "action", "actor"]
    list_filter = ["action"]
    search_fields = ["user__username"]
    readonly_fields = ["user", "actor", "action", "details", "at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _lines(entries: list[dict[str, str]]) -> str:
    return "\n".join(f"{e['date']} {e['name']}" for e in entries or [])


class QualificationForm(forms.ModelForm):
    training_lines = forms.CharField(
        label="training",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="one per line: YYYY-MM-DD name of the course",
    )
    certification_lines = forms.CharField(
        label="certifications",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="one per line: YYYY-MM-DD name of the certification (and who issued it)",
    )

    class Meta:
        model = ExaminerQualification
        fields = ["user", "title", "unit", "note"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["training_lines"].initial = _lines(self.instance.training)
            self.fields["certification_lines"].initial = _lines(self.instance.certifications)

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "title": data.get("title", ""),
            "unit": data.get("unit", ""),
            "note": data.get("note", ""),
            "training": dated_lines_parse(data.get("training_lines", "")),
            "certifications": dated_lines_parse(data.get("certification_lines", "")),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        user = data.get("user") or (self.instance.user if self.instance.pk else None)
        if user is not None:
            try:
                qualification_next_state(user=user, changes=self.changes())
            except HaetaeError as exc:
                raise forms.ValidationError(exc.message) from None
        return data


@admin.register(ExaminerQualification)
class ExaminerQualificationAdmin(admin.ModelAdmin):
    """Saving, whether from "add" or from an earlier row's page, records a new row through the service; the
    earlier rows stay as they were (a report made then shows them)."""

    form = QualificationForm
    list_display = ["user", "title", "unit", "recorded_at", "recorded_by"]
    list_filter = ["unit"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "title", "unit"]
    readonly_fields = ["recorded_at", "recorded_by"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [*self.readonly_fields, "user"] if obj is not None else self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # The form checked the entries; the service checks again inside its transaction and owns the write.
        row = examiner_qualification_record(user=obj.user, actor=request.user, changes=form.changes())  # type: ignore[arg-type]
        obj.pk, obj.recorded_at, obj.recorded_by = row.pk, row.recorded_at, row.recorded_by
