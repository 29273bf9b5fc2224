"""The access matrix of the portal: every page, read from the URL resolver, for every caller, leaks nothing.

The same callers as the API matrix (``tests/access/test_matrix.py``): each case role as a member of the target
case and as a member of another case only ("non-member"), an anonymous visitor and an administrator without a
break-glass grant, each signed in as the portal wants (a TOTP-verified session, ``verified_login``). The
checks:
- the status is the one PAGES expects, derived from ``access.policy.POLICY`` (``by_action``): no role set is
  written here; an anonymous visitor is sent to the sign-in page;
- a refused request writes no custody event;
- a caller off the target case sees nothing of it: no marker of the target (number, title, item names and
  digests, grant reasons) in any page, header or redirect beyond what the caller typed in the address;
- victim_support and auditor members never receive media, and victim_support never an item's file name.

A new page fails ``test_every_portal_page_has_an_entry`` until PAGES has an entry for its URL name: the rule
that gates it (an ``Action``, ``OWN`` or ``PUBLIC``), how to fill its URL kwargs, and per method the expected
status. Adding a page is one entry, e.g.::

    "portal:timeline": Page(Action.ITEM_RECORDS, CASE_KW, {"get": Visit(member=ITEM_RECORDS)}),
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from access.models import Case
from access.policy import SHARED_ONLY_ROLES, Action
from evidence.choices import CustodyAction
from evidence.models import CustodyEvent
from evidence.verify import vault_verify
from tests.access.matrix_world import (
    CALLERS,
    NO_MEDIA_ROLES,
    PROSECUTOR,
    ROLES,
    World,
    by_action,
    by_role,
    destruction_records,
    download,
    expected_status,
    response_text,
    settle,
)
from tests.conftest import data_settings
from tests.factories import verified_login

# The rules that are not an Action: any signed-in (TOTP-verified) user, shown only their own data; and anyone.
OWN = "signed-in user, own data"
PUBLIC = "public"
SIGN_IN = -1  # the expected "status" of an anonymous visitor to a page that needs a session: a redirect there


@dataclass
class Visit:
    """What one method of a page should answer.

    ``member``: for a member of the target case (one status, or one per role); ``outsider``: for a member of
    another case only (one or per role) and, unless ``admin`` says otherwise, for an administrator without a
    grant; ``anonymous``: ``SIGN_IN`` (a redirect to the sign-in page) or a status. ``query``/``data``: the
    query string and the form posted (a minimal valid one where the page changes something).
    """

    member: int | dict[str, int]
    outsider: int | dict[str, int] = 404
    admin: int | None = None
    anonymous: int = SIGN_IN
    query: dict[str, str] = field(default_factory=dict)
    data: Callable[[World], dict[str, Any]] | None = None

    def expected(self, caller: str, role: str) -> int:
        return expected_status(
            caller,
            role,
            member=self.member,
            outsider=self.outsider,
            admin=self.admin,
            anonymous=self.anonymous,
        )


@dataclass
class Page:
    """One portal URL name: the rule that gates it, its URL kwargs (naming the target case's objects), and
    the visits per HTTP method."""

    rule: Action | str
    kwargs: Callable[[World], dict[str, Any]]
    methods: dict[str, Visit]


def everyone(status: int) -> Visit:
    """A page for any signed-in user, showing them only their own data."""
    return Visit(member=status, outsider=status)


def item_page(action: Action, yes: int = 200) -> dict[str, int]:
    """A page of ``item`` (in no shared exhibit): ``yes`` for the roles that may take ``action``, 403 for the
    other members, "not found" for the prosecutor (who sees only shared exhibits' items)."""
    return {**by_action(action, yes, 403), PROSECUTOR: 404}


def case_kw(**route: Callable[[World], Any]) -> Callable[[World], dict[str, Any]]:
    """URL kwargs naming the target case by number, and ``route`` (name → getter on the world)."""
    return lambda w: {"number": w.target.number, **{k: get(w) for k, get in route.items()}}


NONE: Callable[[World], dict[str, Any]] = lambda w: {}  # noqa: E731 - a page without URL kwargs
CASE_KW = case_kw()
ITEM_KW: Callable[[World], dict[str, Any]] = lambda w: {"pk": w.item.pk}  # noqa: E731
REASON = {"reason": "access matrix"}


def _form(**values: Any) -> Callable[[World], dict[str, Any]]:
    return lambda w: values


SUPPORT_READ = by_action(Action.SUPPORT_READ, 200, 403)


def _support_write(yes: int) -> dict[str, int]:
    return by_action(Action.SUPPORT_WRITE, yes, 403)


def _audit(of_target: bool = False) -> Visit:
    """The auditor's pages: for auditors of some case; what is of the target (an event, a run of it) only to
    its auditors."""
    return Visit(
        member=by_action(Action.LEDGER_READ, 200, 403),
        outsider=by_action(Action.LEDGER_READ, 404 if of_target else 200, 403),
        admin=403,
    )


PAGES: dict[str, Page] = {
    # Signing in and out, the dashboard and the user's own preferences.
    "portal:login": Page(
        PUBLIC,
        NONE,
        {
            "get": Visit(member=200, outsider=200, anonymous=200),
            "post": Visit(
                member=400,
                outsider=400,
                anonymous=400,
                data=_form(username="nobody.at.all", password="not the password"),
            ),
        },
    ),
    "portal:logout": Page(OWN, NONE, {"post": everyone(302)}),
    "portal:dashboard": Page(OWN, NONE, {"get": everyone(200)}),
    "portal:dashboard_jobs": Page(OWN, NONE, {"get": everyone(200)}),
    # The alert is the lead's (``world.owner``): anyone else's "seen" finds no alert of theirs.
    "portal:alert_seen": Page(OWN, lambda w: {"alert_id": w.alert.pk}, {"post": everyone(404)}),
    "portal:greyscale_toggle": Page(OWN, NONE, {"post": everyone(302)}),
    "portal:prosecutor_home": Page(OWN, NONE, {"get": everyone(200)}),
    "portal:prosecutor_verify": Page(OWN, NONE, {"get": everyone(200)}),
    "portal:support-home": Page(OWN, NONE, {"get": everyone(200)}),
    # Opening a case needs the global role investigator or supervisor, which no caller here holds.
    "portal:case_create": Page(
        Action.CASE_OPEN,
        NONE,
        {
            "get": everyone(403),
            "post": Visit(
                member=403, outsider=403, data=_form(number="2024-NEW-0003", title="by the matrix")
            ),
        },
    ),
    # The case, its graph and evidence.
    "portal:case_detail": Page(Action.ITEM_RECORDS, CASE_KW, {"get": Visit(member=200)}),
    "portal:case_graph": Page(Action.ITEM_RECORDS, CASE_KW, {"get": Visit(member=200)}),
    "portal:evidence_list": Page(
        Action.ITEM_RECORDS, CASE_KW, {"get": Visit(member=by_action(Action.ITEM_RECORDS, 200, 403))}
    ),
    "portal:evidence_detail": Page(
        Action.ITEM_RECORDS, ITEM_KW, {"get": Visit(member=item_page(Action.ITEM_RECORDS))}
    ),
    "portal:evidence_custody": Page(
        Action.ITEM_RECORDS, ITEM_KW, {"get": Visit(member=item_page(Action.ITEM_RECORDS))}
    ),
    "portal:evidence_preview": Page(
        Action.CONTENT_VIEW, ITEM_KW, {"get": Visit(member=item_page(Action.CONTENT_VIEW))}
    ),
    "portal:evidence_ela": Page(
        Action.CONTENT_VIEW, ITEM_KW, {"get": Visit(member=item_page(Action.CONTENT_VIEW))}
    ),
    "portal:evidence_reveal": Page(
        Action.CONTENT_VIEW,
        ITEM_KW,
        {"post": Visit(member=item_page(Action.CONTENT_VIEW), data=_form(**REASON))},
    ),
    # A reveal link is good once, in the session that revealed: one typed or used again is "not found" to
    # everyone (test_a_reveal_link_serves_the_original_once covers the link a reveal gives).
    "portal:evidence_original": Page(
        Action.CONTENT_VIEW,
        lambda w: {"pk": w.item.pk, "token": "not-a-reveal-token"},
        {"get": Visit(member=404)},
    ),
    "portal:finding_review": Page(
        Action.FINDING_REVIEW,
        lambda w: {"pk": w.item.pk, "annotation_id": w.annotation.pk},
        {
            "post": Visit(
                member=item_page(Action.FINDING_REVIEW, 302), data=_form(decision="confirmed", **REASON)
            )
        },
    ),
    # Ingest. An upload without files is refused as input (400) to those who may ingest: the gate passed.
    "portal:ingest": Page(
        Action.EVIDENCE_INGEST, CASE_KW, {"get": Visit(member=by_action(Action.EVIDENCE_INGEST, 200, 403))}
    ),
    "portal:ingest_upload": Page(
        Action.EVIDENCE_INGEST,
        CASE_KW,
        {"post": Visit(member=by_action(Action.EVIDENCE_INGEST, 400, 403), data=_form())},
    ),
    "portal:ingest_progress": Page(
        Action.EVIDENCE_INGEST,
        lambda w: {"pk": w.item.acquisition_id},
        {"get": Visit(member=by_action(Action.EVIDENCE_INGEST, 200, 403))},
    ),
    # Exhibits (E-001 shared, E-002 a draft of ``item``, E-003 approved), reports and bundles.
    "portal:exhibit_list": Page(
        Action.ITEM_RECORDS,
        CASE_KW,
        {"get": Visit(member={**by_action(Action.ITEM_RECORDS, 200, 403), PROSECUTOR: 302})},
    ),
    "portal:exhibit_create": Page(
        Action.EXHIBIT_DRAFT,
        CASE_KW,
        {
            "get": Visit(member=by_action(Action.EXHIBIT_DRAFT, 200, 403)),
            "post": Visit(
                member=by_action(Action.EXHIBIT_DRAFT, 302, 403),
                data=lambda w: {"items": [w.item.pk], "description": "drafted by the matrix"},
            ),
        },
    ),
    "portal:exhibit_item_search": Page(
        Action.EXHIBIT_DRAFT, CASE_KW, {"get": Visit(member=by_action(Action.EXHIBIT_DRAFT, 200, 403))}
    ),
    "portal:exhibit_detail": Page(
        Action.ITEM_RECORDS,
        case_kw(exhibit=lambda w: "E-002"),
        {"get": Visit(member=item_page(Action.ITEM_RECORDS))},
    ),
    "portal:exhibit_edit": Page(
        Action.EXHIBIT_DRAFT,
        case_kw(exhibit=lambda w: "E-002"),
        {
            "get": Visit(member=by_action(Action.EXHIBIT_DRAFT, 200, 403)),
            "post": Visit(
                member=by_action(Action.EXHIBIT_DRAFT, 302, 403),
                data=lambda w: {"items": [w.item.pk], "description": "edited by the matrix"},
            ),
        },
    ),
    "portal:exhibit_request_approval": Page(
        Action.EXHIBIT_DRAFT,
        case_kw(exhibit=lambda w: "E-002"),
        {"post": Visit(member=item_page(Action.EXHIBIT_DRAFT, 302))},
    ),
    # Only a supervisor (global role) approves, and no caller here holds it: refused to every member.
    "portal:exhibit_approve": Page(
        Action.EXHIBIT_APPROVE,
        case_kw(exhibit=lambda w: "E-002"),
        {"post": Visit(member=by_role({PROSECUTOR}, 404, 403))},
    ),
    "portal:exhibit_share": Page(
        Action.EXHIBIT_SHARE,
        case_kw(exhibit=lambda w: "E-003"),
        {"post": Visit(member=item_page(Action.EXHIBIT_SHARE, 302))},
    ),
    # E-001, shared: the prosecutor sees it but may not withdraw it.
    "portal:exhibit_withdraw": Page(
        Action.EXHIBIT_SHARE,
        case_kw(exhibit=lambda w: "E-001"),
        {"post": Visit(member=by_action(Action.EXHIBIT_SHARE, 302, 403), data=_form(**REASON))},
    ),
    "portal:report_create": Page(
        Action.REPORT_REQUEST,
        CASE_KW,
        {"post": Visit(member=by_action(Action.REPORT_REQUEST, 302, 403), data=_form(language="en"))},
    ),
    "portal:report_detail": Page(
        Action.REPORT_READ,
        case_kw(pk=lambda w: w.report.pk),
        {"get": Visit(member=by_action(Action.REPORT_READ, 200, 404))},
    ),
    # The report and bundle are still queued: those who may download them are told to wait (400).
    "portal:report_download": Page(
        Action.REPORT_DOWNLOAD,
        case_kw(pk=lambda w: w.report.pk),
        {"get": Visit(member=download(Action.REPORT_DOWNLOAD, yes=400))},
    ),
    "portal:bundle_create": Page(
        Action.BUNDLE_EXPORT,
        CASE_KW,
        {
            "get": Visit(member=by_action(Action.BUNDLE_EXPORT, 200, 403)),
            "post": Visit(
                member=by_action(Action.BUNDLE_EXPORT, 302, 403),
                data=_form(
                    exhibits="E-001",
                    language="en",
                    recipient="Seoul Central District Prosecutors' Office",
                    protection="passphrase",
                    passphrase="correct horse battery staple",
                    passphrase_again="correct horse battery staple",
                ),
            ),
        },
    ),
    "portal:bundle_detail": Page(
        Action.REPORT_READ,
        case_kw(pk=lambda w: w.bundle.pk),
        {"get": Visit(member=by_action(Action.REPORT_READ, 200, 404))},
    ),
    "portal:bundle_download": Page(
        Action.BUNDLE_DOWNLOAD,
        case_kw(pk=lambda w: w.bundle.pk),
        {"get": Visit(member=download(Action.BUNDLE_DOWNLOAD, yes=400))},
    ),
    "portal:prosecutor_case": Page(
        Action.CONTENT_VIEW_SHARED, CASE_KW, {"get": Visit(member=by_role(SHARED_ONLY_ROLES, 200, 403))}
    ),
    # Victim support: the support file of V-1 (a share-hashes consent in force), takedowns as draft, sent and
    # removed.
    "portal:support-case": Page(Action.SUPPORT_READ, CASE_KW, {"get": Visit(member=SUPPORT_READ)}),
    "portal:support-file": Page(
        Action.SUPPORT_READ, case_kw(pk=lambda w: w.support_file.pk), {"get": Visit(member=SUPPORT_READ)}
    ),
    "portal:support-consent-record": Page(
        Action.SUPPORT_WRITE,
        case_kw(pk=lambda w: w.support_file.pk),
        {"post": Visit(member=_support_write(302), data=_form(kind="contact", given_by="victim"))},
    ),
    "portal:support-consent-withdraw": Page(
        Action.SUPPORT_WRITE,
        case_kw(pk=lambda w: w.support_file.pk, consent_id=lambda w: w.consent.pk),
        {"post": Visit(member=_support_write(302), data=_form())},
    ),
    "portal:support-notes": Page(
        Action.SUPPORT_NOTES,
        case_kw(pk=lambda w: w.support_file.pk),
        {
            "get": Visit(member=by_action(Action.SUPPORT_NOTES, 200, 403)),
            "post": Visit(
                member=by_action(Action.SUPPORT_NOTES, 302, 403), data=_form(text="a note from the matrix")
            ),
        },
    ),
    "portal:support-hash-export": Page(
        Action.SUPPORT_WRITE,
        case_kw(pk=lambda w: w.support_file.pk),
        {"post": Visit(member=_support_write(200), data=_form(format="json", recipient="a platform"))},
    ),
    "portal:support-takedown-draft": Page(
        Action.SUPPORT_WRITE,
        case_kw(pk=lambda w: w.support_file.pk),
        {
            "post": Visit(
                member=_support_write(302),
                data=_form(addressee="platform", platform="telegram", target_url="https://t.me/somewhere/1"),
            )
        },
    ),
    "portal:support-takedowns": Page(Action.SUPPORT_READ, CASE_KW, {"get": Visit(member=SUPPORT_READ)}),
    "portal:support-takedown": Page(
        Action.SUPPORT_READ, case_kw(pk=lambda w: w.draft.pk), {"get": Visit(member=SUPPORT_READ)}
    ),
    "portal:support-reappearance": Page(
        Action.SUPPORT_WRITE,
        case_kw(pk=lambda w: w.removed.pk),
        {"post": Visit(member=_support_write(302), data=_form(url="https://t.me/somewhere/2"))},
    ),
    "portal:support-takedown-step": Page(
        Action.SUPPORT_WRITE,
        case_kw(pk=lambda w: w.draft.pk, step=lambda w: "send"),
        {"post": Visit(member=_support_write(302), data=_form())},
    ),
    "portal:support-overdue": Page(Action.SUPPORT_READ, CASE_KW, {"get": Visit(member=SUPPORT_READ)}),
    # Messages from exports: the chats list (numbers, platforms, sizes) to who may list messages; a chat's
    # text is a content view of its export file, behind a stated reason (here given: the text is served);
    # the prosecutor, who may not list messages, is refused before the chat is looked up.
    "portal:chats": Page(
        Action.MESSAGES_LIST, CASE_KW, {"get": Visit(member=by_action(Action.MESSAGES_LIST, 200, 403))}
    ),
    "portal:chat": Page(
        Action.CONTENT_VIEW,
        case_kw(pk=lambda w: w.chat.pk),
        {"get": Visit(member=by_action(Action.CONTENT_VIEW, 200, 403), query={"reason": "access matrix"})},
    ),
    # Search and timeline: hits quote the material, so only who may search gets them.
    "portal:case_search": Page(
        Action.CASE_SEARCH,
        CASE_KW,
        {"get": Visit(member=by_action(Action.CASE_SEARCH, 200, 403), query={"q": "target marker"})},
    ),
    "portal:case_timeline": Page(
        Action.TIMELINE_READ, CASE_KW, {"get": Visit(member=by_action(Action.TIMELINE_READ, 200, 403))}
    ),
    # A lead's search across their cases: of a case they are not on, only "has hits, ask its lead".
    "portal:cross_case_search": Page(
        Action.CROSS_CASE_SEARCH,
        NONE,
        {
            "get": Visit(
                member=by_action(Action.CROSS_CASE_SEARCH, 200, 403),
                outsider=by_action(Action.CROSS_CASE_SEARCH, 200, 403),
                admin=403,
                query={"q": "target marker"},
            )
        },
    ),
    # URL captures (TEST-NET-1, RFC 5737: a run, if any, is refused before any connection).
    "portal:case-captures": Page(
        Action.CAPTURE_REQUEST,
        CASE_KW,
        {
            "get": Visit(member=by_action(Action.CAPTURE_REQUEST, 200, 403)),
            "post": Visit(
                member=by_action(Action.CAPTURE_REQUEST, 302, 403),
                data=_form(url="http://192.0.2.1/reported"),
            ),
        },
    ),
    "portal:support-takedown-capture": Page(
        Action.SUPPORT_WRITE,
        case_kw(pk=lambda w: w.sent.pk),
        {"post": Visit(member=_support_write(302), data=_form())},
    ),
    # Faces. V-1 has no reference photo: the lead passes the gate and is told to add one (400). The matrix's
    # finding is not a face: who may name groups is told so (400).
    "portal:person_faces": Page(
        Action.FACE_SEARCH,
        case_kw(pseudonym=lambda w: "V-1"),
        {
            "get": Visit(member=by_action(Action.FACE_SEARCH, 200, 403)),
            "post": Visit(member=by_action(Action.FACE_SEARCH, 400, 403), data=_form()),
        },
    ),
    "portal:case_faces": Page(
        Action.FACE_CLUSTERS, CASE_KW, {"get": Visit(member=by_action(Action.FACE_CLUSTERS, 200, 403))}
    ),
    "portal:case_faces_name": Page(
        Action.FACE_CLUSTERS,
        CASE_KW,
        {
            "post": Visit(
                member=by_action(Action.FACE_CLUSTERS, 400, 403),
                data=lambda w: {"person": "S-1", "faces": [w.annotation.pk]},
            )
        },
    ),
    # Korean procedure records: H-001 recorded, L-001 issued, an item marked unrelated (``world.mark``).
    "portal:procedure": Page(
        Action.PROCEDURE_READ, CASE_KW, {"get": Visit(member=by_action(Action.PROCEDURE_READ, 200, 403))}
    ),
    "portal:procedure_download": Page(
        Action.PROCEDURE_READ,
        case_kw(document=lambda w: "L-001"),
        {"get": Visit(member=by_action(Action.PROCEDURE_READ, 200, 403))},
    ),
    "portal:procedure_issue": Page(
        Action.PROCEDURE_RECORD,
        CASE_KW,
        {
            "post": Visit(
                member=by_action(Action.PROCEDURE_RECORD, 302, 403),
                data=_form(kind="scene_confirmation", of="H-001"),
            )
        },
    ),
    "portal:procedure_scene": Page(
        Action.PROCEDURE_RECORD,
        CASE_KW,
        {
            "post": Visit(
                member=by_action(Action.PROCEDURE_RECORD, 302, 403),
                data=_form(
                    subject="matrix image",
                    hashes="image.E01 SHA-256 " + "cd" * 32,
                    computed_by="matrix officer",
                ),
            )
        },
    ),
    "portal:procedure_mark": Page(
        Action.UNRELATED_MARK,
        CASE_KW,
        {
            "post": Visit(
                member=by_action(Action.UNRELATED_MARK, 302, 403),
                data=lambda w: {"items": [w.procedure_item.pk], **REASON},
            )
        },
    ),
    "portal:procedure_unmark": Page(
        Action.UNRELATED_MARK,
        case_kw(pk=lambda w: w.mark.pk),
        {"post": Visit(member=by_action(Action.UNRELATED_MARK, 302, 403), data=_form(**REASON))},
    ),
    "portal:procedure_dispose": Page(
        Action.UNRELATED_DISPOSE,
        CASE_KW,
        {
            "post": Visit(
                member=by_action(Action.UNRELATED_DISPOSE, 302, 403),
                data=lambda w: {
                    "items": [w.mark.item_id],
                    "kind": "deleted",
                    "person_searched": "matrix person",
                    "confirmation": "signed",
                },
            )
        },
    ),
    # Destruction (matrix_world.destruction_records: D-001 requested, D-002 authorised, D-003 executed). The
    # authoriser and a refuser hold the supervisor global role and only the requester withdraws or executes:
    # no caller here does, so those steps are refused to all; the service's refusal shows on the order page.
    "portal:destruction": Page(
        Action.DESTRUCTION_READ, CASE_KW, {"get": Visit(member=by_action(Action.DESTRUCTION_READ, 200, 403))}
    ),
    "portal:destruction_request": Page(
        Action.DESTRUCTION_REQUEST,
        CASE_KW,
        {
            "post": Visit(
                member=by_action(Action.DESTRUCTION_REQUEST, 302, 403),
                data=lambda w: {"legal_basis": "matrix", "items": [w.item.pk], "court_order": "17"},
            )
        },
    ),
    "portal:destruction_order": Page(
        Action.DESTRUCTION_READ,
        case_kw(order=lambda w: "D-001"),
        {"get": Visit(member=by_action(Action.DESTRUCTION_READ, 200, 403))},
    ),
    "portal:destruction_authorise": Page(
        Action.DESTRUCTION_AUTHORISE,
        case_kw(order=lambda w: "D-001"),
        {"post": Visit(member=by_role(set(), 302, 403), data=_form(note=""))},
    ),
    "portal:destruction_witness": Page(
        Action.DESTRUCTION_WITNESS,
        case_kw(order=lambda w: "D-002"),
        {"post": Visit(member=by_action(Action.DESTRUCTION_WITNESS, 302, 403), data=_form())},
    ),
    # D-002 is not yet witnessed: a lead is told so (400).
    "portal:destruction_execute": Page(
        Action.DESTRUCTION_REQUEST,
        case_kw(order=lambda w: "D-002"),
        {"post": Visit(member=by_action(Action.DESTRUCTION_REQUEST, 400, 403), data=_form(confirm="D-002"))},
    ),
    "portal:destruction_refuse": Page(
        Action.DESTRUCTION_AUTHORISE,
        case_kw(order=lambda w: "D-001"),
        {"post": Visit(member=by_role(set(), 302, 403), data=_form(**REASON))},
    ),
    "portal:destruction_withdraw": Page(
        Action.DESTRUCTION_REQUEST,
        case_kw(order=lambda w: "D-001"),
        {"post": Visit(member=by_role(set(), 302, 403), data=_form(**REASON))},
    ),
    "portal:destruction_certificate": Page(
        Action.DESTRUCTION_CERTIFICATE,
        case_kw(order=lambda w: "D-003"),
        {"get": Visit(member=by_action(Action.DESTRUCTION_CERTIFICATE, 200, 403))},
    ),
    # D-002 is not yet executed: who may sign a certificate again is told so (400).
    "portal:destruction_reissue": Page(
        Action.DESTRUCTION_CERTIFICATE_ISSUE,
        case_kw(order=lambda w: "D-002"),
        {"post": Visit(member=by_action(Action.DESTRUCTION_CERTIFICATE_ISSUE, 400, 403), data=_form())},
    ),
    # The auditor's pages span the cases the caller audits.
    "portal:audit_ledger": Page(Action.LEDGER_READ, NONE, {"get": _audit()}),
    "portal:audit_event": Page(
        Action.LEDGER_READ,
        lambda w: {
            "seq": CustodyEvent.objects.filter(case=w.target).order_by("seq").values_list("seq")[0][0]
        },
        {"get": _audit(of_target=True)},
    ),
    "portal:audit_checkpoints": Page(Action.LEDGER_READ, NONE, {"get": _audit()}),
    "portal:audit_runs": Page(Action.LEDGER_READ, NONE, {"get": _audit()}),
    "portal:audit_run": Page(
        Action.LEDGER_READ, lambda w: {"run": verification_run_of(w.target)}, {"get": _audit(of_target=True)}
    ),
}


def verification_run_of(case: Case) -> str:
    """The id of the verification run ``verified_world`` made of the case."""
    runs = CustodyEvent.objects.filter(case=case, action=CustodyAction.VERIFIED).values_list("details__run")
    return str(runs[0][0])


@pytest.fixture(scope="module")
def world(world: World, django_db_blocker: Any, world_root: Path) -> World:
    """The matrices' world with its destruction orders (``destruction_records``)."""
    with django_db_blocker.unblock(), override_settings(**data_settings(world_root)):
        destruction_records(world)
        settle()
    return world


@pytest.fixture(scope="module")
def verified_world(world: World, django_db_blocker: Any) -> World:
    """The world with one verification run of the target case (for the auditor's run page)."""
    with django_db_blocker.unblock():
        assert vault_verify(case=world.target, actor=world.owner).ok
        settle()
    return world


# The resolver


def portal_pages() -> dict[str, str]:
    """Every named URL pattern of the ``portal`` namespace (and namespaces within it): name → route."""
    found: dict[str, str] = {}

    def walk(patterns: list[Any], prefix: str, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                assert pattern.name, (
                    f"portal route {route} has no name: name it so the access matrix can cover it"
                )
                found[namespace + pattern.name] = route

    prefix, resolver = get_resolver().namespace_dict["portal"]
    walk(resolver.url_patterns, prefix, "portal:")
    return found


PATTERNS = portal_pages()
CASES = [
    (name, method, caller, role)
    for name in sorted(PATTERNS)
    if name in PAGES
    for method in PAGES[name].methods
    for caller, role in CALLERS
]


def test_every_portal_page_has_an_entry() -> None:
    missing = sorted(name for name in PATTERNS if name not in PAGES)
    assert not missing, f"portal pages without an access-matrix entry (add them to PAGES): {missing}"
    stale = sorted(set(PAGES) - set(PATTERNS))
    assert not stale, f"PAGES names no longer in the URL conf: {stale}"
    rules = {name: page.rule for name, page in PAGES.items() if not isinstance(page.rule, Action)}
    odd = {name: rule for name, rule in rules.items() if rule not in (OWN, PUBLIC)}
    assert not odd, f"a page's rule is an Action, OWN or PUBLIC: {odd}"
    public_to_anyone = [
        name
        for name, page in PAGES.items()
        if page.rule != PUBLIC and any(visit.anonymous != SIGN_IN for visit in page.methods.values())
    ]
    assert not public_to_anyone, f"only PUBLIC pages answer an anonymous visitor: {public_to_anyone}"


@pytest.fixture(scope="module")
def sessions(callers: dict[tuple[str, str], Any], django_db_blocker: Any) -> dict[tuple[str, str], str]:
    """One signed-in (TOTP-verified) session per caller for the module: its key, by (caller, role). The
    session row lives in the world's outer transaction, so a test that changes it (a reveal, a sign-out) has
    its change rolled back with the rest of what it wrote."""
    keys: dict[tuple[str, str], str] = {}
    with django_db_blocker.unblock():
        for key, user in callers.items():
            client = Client()
            verified_login(client, user)
            keys[key] = client.cookies[settings.SESSION_COOKIE_NAME].value
        settle()
    return keys


def client_for(sessions: dict[tuple[str, str], str], caller: str, role: str) -> Client:
    """A browser signed in as the caller (a member of the target or of the home case only, an administrator
    without a grant) through the module's session, or nobody's."""
    client = Client()
    if caller != "anonymous":
        client.cookies[settings.SESSION_COOKIE_NAME] = sessions[caller, role]
    return client


def item_names(world: World) -> list[str]:
    items = (world.item, world.source_item, world.shared_item, world.home_item)
    return [item.original_name for item in items]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "method", "caller", "role"), CASES, ids=[" ".join(c).strip() for c in CASES]
)
def test_portal_matrix(
    verified_world: World,
    sessions: dict[tuple[str, str], str],
    name: str,
    method: str,
    caller: str,
    role: str,
) -> None:
    world, page = verified_world, PAGES[name]
    visit = page.methods[method]
    client = client_for(sessions, caller, role)
    events_before = CustodyEvent.objects.count()
    url = reverse(name, kwargs=page.kwargs(world))
    if visit.query:
        url += "?" + urlencode(visit.query)
    data = visit.data(world) if visit.data else None
    response = getattr(client, method)(url, data) if data is not None else getattr(client, method)(url)
    text = response_text(response)
    expected = visit.expected(caller, role)
    if expected == SIGN_IN:
        assert response.status_code == 302, f"{name} {method.upper()} anonymously: {response.status_code}"
        assert response["Location"].startswith(resolve_url(settings.LOGIN_URL)), response["Location"]
    else:
        assert response.status_code == expected, f"{name} {method.upper()} as {caller} {role}: {text[-800:]}"
    if response.status_code >= 400 or expected == SIGN_IN:
        assert CustodyEvent.objects.count() == events_before, "a refused request wrote a custody event"
    if caller == "member":
        if role in NO_MEDIA_ROLES:
            media = response.get("Content-Type", "").split("/")[0] in {"image", "video", "audio"}
            assert not media and "X-Haetae-SHA256" not in response, (
                f"{name} {method.upper()} gives {role} media"
            )
        if role == "victim_support":
            shown = [n for n in item_names(world) if n in text]
            assert not shown, f"{name} {method.upper()} shows victim_support the file names {shown}"
        return
    # Off the target case: nothing of it may show. What the caller typed in the address may come back.
    leaked = [marker for marker in world.markers if marker in text and marker not in url]
    assert not leaked, f"{name} {method.upper()} as {caller} {role} leaks {leaked}"


CONTENT_ROLES = [role for role in ROLES if by_action(Action.CONTENT_VIEW, 1, 0)[role]]


@pytest.mark.django_db
@pytest.mark.parametrize("role", CONTENT_ROLES)
def test_a_reveal_link_serves_the_original_once(
    world: World, callers: dict[tuple[str, str], Any], sessions: dict[tuple[str, str], str], role: str
) -> None:
    """The link a reveal (with a reason) gives serves the original to whom may see content, recorded as
    ``viewed`` with the reason, once; the same link again, or in another session, is "not found"."""
    client = client_for(sessions, "member", role)
    revealed = client.post(reverse("portal:evidence_reveal", kwargs={"pk": world.item.pk}), REASON)
    assert revealed.status_code == 200
    token = revealed.context["token"]
    original = reverse("portal:evidence_original", kwargs={"pk": world.item.pk, "token": token})
    elsewhere = client_for(sessions, "member", "lead" if role != "lead" else "analyst")
    assert elsewhere.get(original).status_code == 404
    response = client.get(original)
    assert response.status_code == 200
    assert response.getvalue()
    viewer = callers["member", role]
    viewed = CustodyEvent.objects.filter(item=world.item, actor=viewer, action=CustodyAction.VIEWED)
    assert list(viewed.values_list("purpose", flat=True)) == [REASON["reason"]]
    assert client.get(original).status_code == 404
