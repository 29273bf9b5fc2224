"""The admin site under the same need-to-know as the API: a case-scoped admin page shows only rows of cases
the signed-in user may see, and an administrator's look under a break-glass grant is a custody event.

Administrators are never team members (``access.policy.CASE_ROLES_FOR_GLOBAL_ROLE``): being staff or
superuser opens no case. Without a live grant a case-scoped page lists none of the case's rows and a row's
page answers as for a row that does not exist. With one, the page is read-only (``ReadOnlyAdmin``) and each
list or row page that shows rows of the case writes a ``break_glass`` event on its custody chain (what page,
which rows, under which grant), in the same transaction as the read.
"""

from typing import Any

from django.contrib.admin.utils import unquote
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from access import hooks
from access.choices import CaseEventAction
from access.hooks import CaseEvent
from access.policy import live_grants
from access.selectors import visible_case_ids
from haetae.toolkit import ReadOnlyAdmin

# The role the ledger records for an administrator's look (as ``break_glass_open`` does).
ADMIN_ROLE = "admin"


def admin_looks_log(*, request: HttpRequest, page: str, case_ids: dict[int, list[Any]]) -> None:
    """Write one ``break_glass`` custody event per case whose rows the page shows to a grant holder
    (``case_ids``: case id → the row keys shown). Looks by team members are not break-glass looks."""
    if not case_ids:
        return
    grants = {g.case_id: g for g in live_grants(user=request.user).filter(case_id__in=list(case_ids))}
    events = [
        CaseEvent(
            case_id=case_id,
            action=CaseEventAction.BREAK_GLASS,
            actor=request.user,
            actor_role=ADMIN_ROLE,
            purpose=grant.reason,
            details={
                "event": "admin_viewed",
                "grant": grant.pk,
                "page": page,
                "rows": [str(key) for key in sorted(case_ids[case_id], key=str)],
            },
        )
        for case_id, grant in sorted(grants.items())
    ]
    if events:
        with transaction.atomic():
            hooks.case_events_write(events)


class CaseScopedAdmin(ReadOnlyAdmin):
    """A read-only admin of a model whose rows belong to a case (``case_path``: the lookup from a row to its
    case id, e.g. ``"case"``, ``"person__case"``, ``"pk"`` for cases themselves)."""

    case_path = "case"

    def _case_lookup(self) -> str:
        return "pk" if self.case_path == "pk" else f"{self.case_path}__pk"

    def get_queryset(self, request: HttpRequest) -> Any:
        visible = visible_case_ids(user=request.user)
        # A subquery, so a row reached through a to-many path (a blob's items) appears once.
        rows = self.model._default_manager.filter(**{f"{self._case_lookup()}__in": visible}).values("pk")
        return super().get_queryset(request).filter(pk__in=rows)

    def _page(self) -> str:
        return f"{self.model._meta.app_label}.{self.model._meta.model_name}"

    def _cases_of(self, pks: list[Any]) -> dict[int, list[Any]]:
        rows = self.model._default_manager.filter(pk__in=pks).values_list("pk", self._case_lookup())
        shown: dict[int, list[Any]] = {}
        for pk, case_id in rows:
            shown.setdefault(int(case_id), []).append(pk)
        return shown

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        response = super().changelist_view(request, extra_context)
        if isinstance(response, TemplateResponse) and response.context_data and "cl" in response.context_data:
            pks = [row.pk for row in response.context_data["cl"].result_list]
            admin_looks_log(request=request, page=f"{self._page()} list", case_ids=self._cases_of(pks))
        return response

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        if response.status_code == 200:
            obj = self.get_object(request, unquote(object_id))
            if obj is not None:
                admin_looks_log(request=request, page=self._page(), case_ids=self._cases_of([obj.pk]))
        return response

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        response = super().history_view(request, object_id, extra_context)
        if response.status_code == 200:
            obj = self.get_object(request, unquote(object_id))
            if obj is not None:
                page = f"{self._page()} history"
                admin_looks_log(request=request, page=page, case_ids=self._cases_of([obj.pk]))
        return response
