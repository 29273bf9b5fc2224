"""The captures page of a case: ask for a reported URL to be captured, follow each capture's status.

Whoever may ask (``capture_request``: lead, investigator, analyst, victim support) sees the addresses asked
for and their statuses; only those who may see the result (``capture_result``) get the final address, the
server and links to the captured items. Nothing here shows a screenshot: items open on their own pages,
under the evidence rules (a stated reason, blurred previews).
"""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from access.policy import Action
from access.selectors import case_for
from captures.selectors import capture_items, capture_list, capture_result_visible
from captures.services import capture_queue
from haetae.errors import HaetaeError
from haetae.toolkit import request_actor
from portal.views.support import support_page

PAGE_ROWS = 100


@require_http_methods(["GET", "POST"])
@support_page
def case_captures(request: HttpRequest, number: str) -> HttpResponse:
    """The case's captures (newest first); POST asks for a new one."""
    case = case_for(user=request.user, number=number, action=Action.CAPTURE_REQUEST, doing="follow captures")
    if request.method == "POST":
        try:
            capture_queue(case=case, url=request.POST.get("url", ""), actor=request_actor(request))
        except HaetaeError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Capture requested: its status shows below."))
        return redirect(reverse("portal:case-captures", args=[case.number]))
    show_result = capture_result_visible(user=request.user, case=case)
    rows = list(capture_list(case=case)[:PAGE_ROWS])
    return render(
        request,
        "portal/captures/list.html",
        {
            "case": case,
            "show_result": show_result,
            "rows": [(capture, capture_items(capture=capture) if show_result else []) for capture in rows],
        },
    )
