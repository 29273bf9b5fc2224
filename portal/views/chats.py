"""The chat view: an acquisition's chats, and one chat's messages in order with their media.

The list shows chats by number, platform, acquisition and size only (titles name people). A chat's text is
a content view of the export file it was parsed from: the page asks for a reason, then serves one page of
messages through ``sources.content.messages_text_open`` (its need-to-know check, one ``viewed`` event per
export file per page). Media are blurred thumbnails from the preview service, under the item page's reveal
rule; search and "jump to the message of an item" stay within the chat.
"""

from typing import Any, cast

from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from access.selectors import case_get_for
from haetae.auth import verified_login_required
from haetae.errors import NotFound, RejectedInput
from portal.views.cases import greyscale_on, portal_errors, shows_media
from sources.content import messages_text_open
from sources.selectors import chat_list, message_list

MESSAGES_PER_PAGE = 200


@require_GET
@verified_login_required
@portal_errors
def chats(request: HttpRequest, number: str) -> HttpResponse:
    """The case's chats (optionally of one acquisition), each with its number of messages."""
    case = case_get_for(user=request.user, number=number)
    rows = chat_list(case=case).annotate(message_count=Count("messages"))
    acquisition = request.GET.get("acquisition", "")
    if acquisition.isdigit():
        rows = rows.filter(
            Q(acquisition_id=int(acquisition)) | Q(messages__acquisition_id=int(acquisition))
        ).distinct()
    return render(
        request, "portal/chats/list.html", {"case": case, "chats": rows, "acquisition": acquisition}
    )


@require_GET
@verified_login_required
@portal_errors
def chat(request: HttpRequest, number: str, pk: int) -> HttpResponse:
    """One chat: a reason first, then its messages a page at a time, searchable, with blurred media."""
    case = case_get_for(user=request.user, number=number)
    found = chat_list(case=case).filter(pk=pk).first()
    if found is None:
        raise NotFound(f"no chat {pk} in case {case.number}")
    messages = message_list(case=case).filter(chat=found)
    search = request.GET.get("q", "").strip()
    if search:
        messages = messages.filter(text__icontains=search)
    reason = request.GET.get("reason", "").strip()
    legal_basis = request.GET.get("legal_basis", "").strip()
    context: dict[str, Any] = {
        "case": case,
        "chat": found,
        "total": messages.count(),
        "search": search,
        "reason": reason,
        "legal_basis": legal_basis,
        "needs_legal_basis": case.content_requires_legal_basis,
        "item": request.GET.get("item", ""),
        "message": request.GET.get("message", ""),
        "greyscale": greyscale_on(request),
        "thumbnails": shows_media(getattr(case, "caller_role", None)),
    }
    if not reason:
        return render(request, "portal/chats/reason.html", context)
    page_number = request.GET.get("page", "1")
    item, message = context["item"], context["message"]
    target = None
    if message.isdigit():  # jump to the page of that message (a search hit)
        target = messages.filter(pk=int(message)).first()
    elif item.isdigit():  # jump to the page of the first message showing that item
        target = messages.filter(media__item_id=int(item)).first()
    if target is not None:
        before = messages.filter(
            Q(sent_at__lt=target.sent_at) | Q(sent_at=target.sent_at, position__lt=target.position)
            if target.sent_at
            else Q(sent_at__isnull=False) | Q(position__lt=target.position)
        ).count()
        page_number = str(before // MESSAGES_PER_PAGE + 1)
        context["target"] = target.pk
    page = Paginator(messages, MESSAGES_PER_PAGE).get_page(page_number)
    rows = list(page.object_list)
    try:
        messages_text_open(
            messages=rows,
            actor=cast(User, request.user),
            purpose=reason,
            legal_basis=legal_basis,
            served="chat view",
        )
    except RejectedInput as exc:
        context["error"] = exc.message
        return render(request, "portal/chats/reason.html", context, status=400)
    context.update(page=page, rows=rows)
    return render(request, "portal/chats/detail.html", context)
