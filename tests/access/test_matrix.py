"""The access matrix: every API endpoint, read from the URL resolver, for every caller, leaks nothing.

For each URL pattern under /api/v1/ and each HTTP method it answers, callers are: each team role (lead,
investigator, analyst, prosecutor, victim_support, auditor) as a member of the target case and as a
member of another case only ("non-member"), an anonymous caller, and an administrator without a
break-glass grant. The checks:
- the status is the one the table below expects;
- a caller off the target case sees nothing of it: no marker of the target case (its number, title, item
  names and digests, grant reasons) in any response body or header, lists count only what they return;
- "not found" reads the same for an object of another case and for one that does not exist;
- a refused request writes no custody event;
- victim_support and auditor members never receive media (an image, video or audio body, or served
  content's X-Haetae-SHA256), and victim_support sees items only as pseudonymised references: no item's
  file name reaches them;
- list endpoints run a number of queries that does not grow with the number of rows.

A new endpoint fails ``test_every_api_endpoint_has_a_fixture`` until it has an entry in ENDPOINTS: one
entry per URL name saying how to fill its URL kwargs (and a nonexistent variant), and per method the
expected status for members by role, for non-members and for the admin without a grant.
"""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from access.choices import CaseMemberRole
from access.models import Offence
from access.policy import Action
from access.services import legal_authority_record
from accounts.models import ApiToken
from accounts.services import api_token_issue
from captures.services import capture_request
from detection.models import BankEntry, DetectionRun, HashBank, ScanJob
from evidence.choices import CustodyAction
from evidence.models import CustodyEvent, EvidenceItem
from exhibits.models import ExportBundle, Report
from exhibits.services import exhibit_create
from parties.models import Channel
from parties.services.channels import channel_observe, channel_record
from parties.services.links import (
    Assertion,
    link_assert_derivation,
    link_assert_item_channel,
    link_assert_item_person,
    link_assert_person_channel,
)
from parties.services.people import person_account_add, person_record
from records.models import (
    DestructionOrder,
    DestructionOrderItem,
    ProcedureDocument,
    SceneConfirmation,
    UnrelatedDisposal,
    UnrelatedMark,
)
from support import services as support
from tests.access.matrix_world import (
    CALLERS,
    NO_ID,
    NO_MEDIA_ROLES,
    NOWHERE,
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
    takedown_draft,
)
from tests.conftest import data_settings
from tests.factories import (
    CaseFactory,
    CaseMemberFactory,
    UserFactory,
    bank_match,
    chat_with_messages,
    detection_rows,
    live_grant,
    stored_item,
)


@dataclass
class Call:
    """What one method of an endpoint should answer.

    ``member``: the status for a member of the target case, one for all roles or one per role.
    ``outsider``: for a member of another case only (one for all roles or one per role), and (unless
    ``admin`` says otherwise) for an admin without a grant. ``query``/``data``: query string and body.
    ``echoes_target``: the response may name the target because the caller named it (e.g. opening a
    grant), so the marker scan is skipped for 2xx. ``missing_query``/``missing_data``: for an endpoint
    that is told the target in its query or body rather than its URL, the same naming nothing (the
    identical-404 check).
    """

    member: int | dict[str, int]
    outsider: int | dict[str, int] = 404
    admin: int | None = None
    query: dict[str, str] = field(default_factory=dict)
    data: Callable[[World], Any] | None = None
    format: str | None = None
    echoes_target: bool = False
    missing_query: dict[str, str] | None = None
    missing_data: Callable[[World], Any] | None = None

    def expected(self, caller: str, role: str) -> int:
        return expected_status(
            caller, role, member=self.member, outsider=self.outsider, admin=self.admin, anonymous=401
        )


@dataclass
class Endpoint:
    """How to call one URL name: kwargs naming the target case's object, kwargs naming nothing (detail
    endpoints), the calls per method, and for lists how to add rows visible to a user (query counts)."""

    kwargs: Callable[[World], dict[str, Any]] = lambda world: {}
    missing: Callable[[World], dict[str, Any]] | None = None
    methods: dict[str, Call] = field(default_factory=dict)
    grow: Callable[[World, Any, int], None] | None = None


def _rows(add_one: Callable[[World, Any], Any]) -> Callable[[World, Any, int], None]:
    """A ``grow`` that adds ``n`` rows visible to the user, one ``add_one(world, user)`` call each."""

    def grow(world: World, user: Any, n: int) -> None:
        for _ in range(n):
            add_one(world, user)

    return grow


def _case_led_by(world: World, user: Any) -> None:
    case: Any = CaseFactory()
    CaseMemberFactory(case=case, user=user, role=CaseMemberRole.LEAD)
    stored_item(case=case, data=f"row {case.pk}".encode(), actor=user)


def _offence(world: World, user: Any) -> None:
    code = f"matrix-{Offence.objects.count()}"
    Offence.objects.create(
        code=code, statute_ko="법", statute_en="Act", article="1", label_ko=code, label_en=code
    )


def _authority(world: World, user: Any) -> None:
    number = f"W-{world.target.legal_authorities.count()}"
    legal_authority_record(case=world.target, actor=user, number=number, scope="s", issued_at=timezone.now())


def _suspect_with_account(world: World, user: Any) -> None:
    suspect = person_record(case=world.target, kind="suspect", actor=user)
    person_account_add(person=suspect, platform="x", handle=f"@{suspect.pseudonym}", actor=user)


def _channels(world: World, user: Any, n: int) -> list[Channel]:
    rooms = []
    for _ in range(n):
        room = channel_record(
            case=world.target, platform="x", handle=f"@r{Channel.objects.count()}", actor=user
        )
        channel_observe(channel=room, actor=user, member_count=n)
        rooms.append(room)
    return rooms


def _grow_channels(world: World, user: Any, n: int) -> None:
    _channels(world, user, n)


def _grow_messages(world: World, user: Any, n: int) -> None:
    chat_with_messages(source_item=world.source_item, count=n)


def _victim_depicted(world: World, user: Any) -> None:
    victim = person_record(case=world.target, kind="victim", actor=user)
    link_assert_item_person(
        item=world.item, person=victim, relation="depicts", assertion=Assertion("suspected"), actor=user
    )


def _grow_item_channel(world: World, user: Any, n: int) -> None:
    for room in _channels(world, user, n):
        link_assert_item_channel(item=world.item, channel=room, assertion=Assertion("suspected"), actor=user)


def _grow_person_channel(world: World, user: Any, n: int) -> None:
    for room in _channels(world, user, n):
        link_assert_person_channel(
            person=world.suspect,
            channel=room,
            relation="belongs_to",
            assertion=Assertion("suspected"),
            actor=user,
        )


def _derivation(world: World, user: Any) -> None:
    data = f"source {EvidenceItem.objects.count()}".encode()
    source = stored_item(case=world.target, data=data, actor=user)
    link_assert_derivation(item=world.item, source_item=source, assertion=Assertion("suspected"), actor=user)


def _grow_procedure_documents(world: World, user: Any, n: int) -> None:
    document = ProcedureDocument.objects.filter(case=world.target).first()
    assert document is not None
    last = ProcedureDocument.objects.filter(case=world.target).count()
    for index in range(n):
        ProcedureDocument.objects.create(
            case=world.target,
            kind=document.kind,
            number=f"L-{last + 100 + index:03d}",
            acquisition=document.acquisition,
            issued_by=user,
            blob=document.blob,
            manifest_sha256=document.manifest_sha256,
        )


def _grow_scene_confirmations(world: World, user: Any, n: int) -> None:
    first = 500 + SceneConfirmation.objects.count()
    for index in range(n):
        SceneConfirmation.objects.create(
            case=world.target,
            number=f"H-{first + index:03d}",
            subject="grown",
            hashes=[],
            computed_by="grown",
            computed_at=timezone.now(),
            recorded_by=user,
            record_sha256="0" * 64,
        )


def _withdrawn_mark(world: World, user: Any) -> None:
    UnrelatedMark.objects.create(
        case=world.target, item=world.procedure_item, reason="grown", status="withdrawn", marked_by=user
    )


def _grow_disposals(world: World, user: Any, n: int) -> None:
    first = 500 + UnrelatedDisposal.objects.count()
    for index in range(n):
        disposal = UnrelatedDisposal.objects.create(
            case=world.target,
            number=f"U-{first + index:03d}",
            kind="deleted",
            done_by=user,
            person_searched="g",
        )
        UnrelatedMark.objects.create(
            case=world.target,
            item=world.procedure_item,
            reason="grown",
            status="deleted",
            marked_by=user,
            disposal=disposal,
        )


def _destruction_order(world: World, user: Any) -> None:
    order = DestructionOrder.objects.create(
        case=world.target,
        number=f"D-{500 + DestructionOrder.objects.count():03d}",
        legal_basis="grown",
        requested_by=user,
    )
    DestructionOrderItem.objects.create(order=order, item=world.destruction_items[0], sha256="0" * 64)


def _support_file(world: World, user: Any) -> None:
    victim = person_record(case=world.target, kind="victim", actor=user)
    support.support_file_open(case=world.target, person=victim, actor=user)


def _consent_given_and_withdrawn(world: World, user: Any) -> None:
    consent = support.consent_give(
        support_file=world.support_file, kind="contact", actor=user, given_by="victim"
    )
    support.consent_withdraw(consent=consent, actor=user)


def _match(recipient_is_user: bool) -> Callable[[World, Any], None]:
    def add_one(world: World, user: Any) -> None:
        bank_match(
            item=world.item,
            bank=world.bank,
            sha256=f"{BankEntry.objects.count():064x}",
            recipient=user if recipient_is_user else None,
        )

    return add_one


def _report(world: World, user: Any) -> None:
    report = Report.objects.create(
        case=world.target,
        report_id="R-GROW",
        version=Report.objects.filter(report_id="R-GROW").count() + 1,
        scope=["E-002"],
        requested_by=user,
    )
    report.exhibits.set([world.exhibits["draft"]])


def _bundle(world: World, user: Any) -> None:
    bundle = ExportBundle.objects.create(case=world.target, scope=["E-001"], recipient="g", requested_by=user)
    bundle.exhibits.set([world.exhibits["shared"]])


_grow_cases = _rows(_case_led_by)
_grow_grants = _rows(
    lambda w, u: live_grant(case=w.target, user=UserFactory(is_staff=True), reason="another grant")
)
_grow_offences = _rows(_offence)
_grow_members = _rows(
    lambda w, u: CaseMemberFactory(case=w.target, user=UserFactory(), role=CaseMemberRole.ANALYST)
)
_grow_authorities = _rows(_authority)
_grow_people = _rows(_suspect_with_account)
_grow_item_person = _rows(_victim_depicted)
_grow_derivations = _rows(_derivation)
_grow_captures = _rows(lambda w, u: capture_request(case=w.target, url="http://192.0.2.1/another", actor=u))
_grow_marks = _rows(_withdrawn_mark)
_grow_support_files = _rows(_support_file)
_grow_destruction_orders = _rows(_destruction_order)
_grow_consents = _rows(_consent_given_and_withdrawn)
_grow_takedowns = _rows(lambda w, u: takedown_draft(w))
_grow_runs = _rows(lambda w, u: detection_rows(item=w.item, name=f"matrix-{DetectionRun.objects.count()}"))
_grow_jobs = _rows(lambda w, u: ScanJob.objects.create(kind="manual", case=w.target, requested_by=u))
_grow_banks = _rows(
    lambda w, u: HashBank.objects.create(name=f"bank {HashBank.objects.count()}", kind="known_material")
)
_grow_matches = _rows(_match(recipient_is_user=False))
_grow_alerts = _rows(_match(recipient_is_user=True))
_grow_exhibits = _rows(
    lambda w, u: exhibit_create(
        case=w.target, item_ids=[w.item.pk, w.source_item.pk], description="g", actor=u
    )
)
_grow_reports = _rows(_report)
_grow_bundles = _rows(_bundle)
_grow_tokens = _rows(lambda w, u: api_token_issue(user=u, actor=u))


def _owner_token(world: World) -> int:
    existing = ApiToken.objects.filter(user=world.owner).first()
    return existing.pk if existing else api_token_issue(user=world.owner, actor=None)[0].pk


def _upload(world: World) -> dict[str, Any]:
    return {"files": [SimpleUploadedFile("note.txt", b"a seized note", content_type="text/plain")]}


def _in_case(**route: Callable[[World], Any]) -> Callable[[World], dict[str, Any]]:
    """URL kwargs naming an object of the target case: its number and ``route`` (name → getter)."""
    return lambda w: {"number": w.target.number, **{k: get(w) for k, get in route.items()}}


def _nowhere(**route: Any) -> Callable[[World], dict[str, Any]]:
    """URL kwargs naming nothing: a case that does not exist, and ``route`` values in none."""
    return lambda w: {"number": NOWHERE, **route}


CASE_KW, CASE_MISSING = _in_case(), _nowhere()


def _now(world: World) -> str:
    return timezone.now().isoformat()


def _reason(world: World) -> dict[str, Any]:
    return {"reason": "access matrix"}


def _link_id(kind: str) -> Callable[[World], int]:
    return lambda w: int(w.links[kind].pk)


def _link_entries() -> dict[str, Endpoint]:
    """The four link types: list, assert, read one, withdraw (reads for every member, writes by LINK)."""
    asserts: dict[str, Callable[[World], dict[str, Any]]] = {
        "item-person": lambda w: {
            "item": w.source_item.pk,
            "person": "S-1",
            "relation": "created_by",
            "confidence": "suspected",
        },
        "item-channel": lambda w: {
            "item": w.source_item.pk,
            "channel": w.channel.pk,
            "confidence": "suspected",
        },
        "person-channel": lambda w: {
            "person": "V-1",
            "channel": w.channel.pk,
            "relation": "belongs_to",
            "confidence": "suspected",
        },
        "item-derivation": lambda w: {
            "item": w.source_item.pk,
            "source_item": w.item.pk,
            "confidence": "suspected",
        },
    }
    grows = {
        "item-person": _grow_item_person,
        "item-channel": _grow_item_channel,
        "person-channel": _grow_person_channel,
        "item-derivation": _grow_derivations,
    }
    entries: dict[str, Endpoint] = {}
    for kind, body in asserts.items():
        name = f"parties-api:case-link-{kind}"
        one = _in_case(pk=_link_id(kind))
        entries[f"{name}-list"] = Endpoint(
            kwargs=CASE_KW,
            missing=CASE_MISSING,
            methods={
                "get": Call(member=200),
                "post": Call(member=by_action(Action.LINKS_RECORD, 201, 403), data=body, format="json"),
            },
            grow=grows[kind],
        )
        # The target's links name ``item``, in no shared exhibit: a prosecutor member does not see them.
        names_item = kind != "person-channel"
        entries[f"{name}-detail"] = Endpoint(
            kwargs=one,
            missing=_nowhere(pk=NO_ID),
            methods={"get": Call(member=by_role({PROSECUTOR}, 404, 200) if names_item else 200)},
        )
        entries[f"{name}-withdraw"] = Endpoint(
            kwargs=one,
            missing=_nowhere(pk=NO_ID),
            methods={
                "post": Call(member=by_action(Action.LINKS_RECORD, 200, 403), data=_reason, format="json")
            },
        )
    return entries


ENDPOINTS: dict[str, Endpoint] = {
    # Messages from exports: ids, times and item ids; their text only in a content view (tests/sources).
    "sources-api:case-message-list": Endpoint(
        kwargs=CASE_KW,
        missing=CASE_MISSING,
        methods={"get": Call(member=by_action(Action.MESSAGES_LIST, 200, 403))},
        grow=_grow_messages,
    ),
    "sources-api:case-sender-attach": Endpoint(
        kwargs=_in_case(pk=lambda w: w.sender.pk),
        missing=_nowhere(pk=NO_ID),
        methods={
            "post": Call(
                member=by_action(Action.LINKS_RECORD, 200, 403),
                data=lambda w: {"person": "S-1"},
                format="json",
            )
        },
    ),
    # Opening a case needs the global role investigator or supervisor, which no caller here holds.
    "access-api:case-list": Endpoint(
        methods={
            "get": Call(member=200, outsider=200),
            "post": Call(
                member=403,
                outsider=403,
                data=lambda w: {"number": "2024-NEW-0003", "title": "opened by the matrix"},
                format="json",
            ),
        },
        grow=_grow_cases,
    ),
    "access-api:case-detail": Endpoint(
        kwargs=lambda w: {"number": w.target.number},
        missing=lambda w: {"number": "2024-NOWHERE-0404"},
        methods={
            "get": Call(member=200),
            "patch": Call(
                member=by_action(Action.CASE_CHANGE, 200, 403), data=lambda w: {"unit": "Mapo"}, format="json"
            ),
        },
    ),
    "evidence-api:case-evidence": Endpoint(
        kwargs=lambda w: {"number": w.target.number},
        missing=lambda w: {"number": "2024-NOWHERE-0404"},
        methods={
            "post": Call(member=by_action(Action.EVIDENCE_INGEST, 201, 403), data=_upload, format="multipart")
        },
    ),
    # ``item`` is in no shared exhibit: a prosecutor member is told "not found", as for another case's item
    # (the shared exhibit's item: test_a_prosecutor_member_sees_the_shared_exhibits_item below).
    "evidence-api:evidence-detail": Endpoint(
        kwargs=lambda w: {"pk": w.item.pk},
        missing=lambda w: {"pk": w.item.pk + 10_000},
        methods={"get": Call(member=by_role({PROSECUTOR}, 404, 200))},
    ),
    "evidence-api:evidence-custody": Endpoint(
        kwargs=lambda w: {"pk": w.item.pk},
        missing=lambda w: {"pk": w.item.pk + 10_000},
        methods={"get": Call(member={**by_action(Action.ITEM_RECORDS, 200, 403), PROSECUTOR: 404})},
    ),
    "evidence-api:evidence-content": Endpoint(
        kwargs=lambda w: {"pk": w.item.pk},
        missing=lambda w: {"pk": w.item.pk + 10_000},
        methods={
            "get": Call(
                member={**by_action(Action.CONTENT_VIEW, 200, 403), PROSECUTOR: 404},
                query={"reason": "access matrix"},
            )
        },
    ),
    "evidence-api:evidence-preview": Endpoint(
        kwargs=lambda w: {"pk": w.item.pk},
        missing=lambda w: {"pk": w.item.pk + 10_000},
        methods={"get": Call(member={**by_action(Action.CONTENT_VIEW, 200, 403), PROSECUTOR: 404})},
    ),
    "detection-api:evidence-ela": Endpoint(
        kwargs=lambda w: {"pk": w.item.pk},
        missing=lambda w: {"pk": w.item.pk + 10_000},
        methods={"get": Call(member={**by_action(Action.CONTENT_VIEW, 200, 403), PROSECUTOR: 404})},
    ),
    "access-api:break-glass-list": Endpoint(
        methods={
            "get": Call(member=200, outsider=200),
            "post": Call(
                member=403,
                outsider=403,
                admin=201,
                data=lambda w: {"case": w.target.number, "reason": "matrix", "minutes": 5},
                echoes_target=True,
            ),
        },
        grow=_grow_grants,
    ),
    "access-api:break-glass-detail": Endpoint(
        kwargs=lambda w: {"pk": w.grant.pk},
        missing=lambda w: {"pk": w.grant.pk + 10_000},
        methods={"get": Call(member=by_action(Action.BREAK_GLASS_SEE, 200, 404))},
    ),
    "access-api:break-glass-end": Endpoint(
        kwargs=lambda w: {"pk": w.grant.pk},
        missing=lambda w: {"pk": w.grant.pk + 10_000},
        methods={"post": Call(member=by_action(Action.BREAK_GLASS_SEE, 200, 404))},
    ),
    # Cases: the offence table, the case's own actions, team, authorities, people, channels, links
    "access-api:offence-list": Endpoint(methods={"get": Call(member=200, outsider=200)}, grow=_grow_offences),
    "access-api:offence-detail": Endpoint(
        kwargs=lambda w: {"code": "sc-14-2-possess"},
        methods={"get": Call(member=200, outsider=200)},
    ),
    "access-api:case-status": Endpoint(
        kwargs=CASE_KW,
        missing=CASE_MISSING,
        methods={
            "post": Call(
                member=by_action(Action.CASE_CHANGE, 200, 403),
                data=lambda w: {"status": "referred", "reason": "to the prosecutor"},
                format="json",
            )
        },
    ),
    "access-api:case-legal-hold": Endpoint(
        kwargs=CASE_KW,
        missing=CASE_MISSING,
        methods={
            "post": Call(
                member=by_action(Action.CASE_CHANGE, 200, 403),
                data=lambda w: {"legal_hold": True, "reason": "appeal pending"},
                format="json",
            )
        },
    ),
    "parties-api:case-graph": Endpoint(
        kwargs=CASE_KW, missing=CASE_MISSING, methods={"get": Call(member=200)}
    ),
    # Search: hits quote the material, so victim support, auditors and grants search nothing; a lead's
    # cross-case search tells a lead of another case only that the target has hits, and whom to ask.
    "search-api:case-search": Endpoint(
        kwargs=CASE_KW,
        missing=CASE_MISSING,
        methods={"get": Call(member=by_action(Action.CASE_SEARCH, 200, 403), query={"q": "target marker"})},
    ),
    "search-api:case-timeline": Endpoint(
        kwargs=CASE_KW,
        missing=CASE_MISSING,
        methods={"get": Call(member=by_action(Action.TIMELINE_READ, 200, 403))},
    ),
    "search-api:cross-case-search": Endpoint(
        methods={
            "get": Call(
                member=by_action(Action.CROSS_CASE_SEARCH, 200, 403),
                outsider=by_action(Action.CROSS_CASE_SEARCH, 200, 403),
                admin=403,
                query={"q": "target marker"},
            )
        }
    ),
    "access-api:case-member-list": Endpoint(
        kwargs=CASE_KW,
        missing=CASE_MISSING,
        methods={
            "get": Call(member=200),
            "post": Call(
                member=by_action(Action.TEAM_CHANGE, 201, 403),
                data=lambda w: {"username": w.newcomer.username, "role": "analyst"},
                format="json",
            ),
        },
        grow=_grow_members,
    ),
    "access-api:case-member-detail": Endpoint(
        kwargs=_in_case(username=lambda w: w.analyst.username),
        missing=_nowhere(username="nobody.here"),
        methods={"get": Call(member=200)},
    ),
    "access-api:case-member-role": Endpoint(
        kwargs=_in_case(username=lambda w: w.analyst.username),
        missing=_nowhere(username="nobody.here"),
        methods={
            "post": Call(
                member=by_action(Action.TEAM_CHANGE, 200, 403),
                data=lambda w: {"role": "investigator"},
                format="json",
            )
        },
    ),
    "access-api:case-member-remove": Endpoint(
        kwargs=_in_case(username=lambda w: w.analyst.username),
        missing=_nowhere(username="nobody.here"),
        methods={"post": Call(member=by_action(Action.TEAM_CHANGE, 204, 403), data=_reason, format="json")},
    ),
    "access-api:case-authority-list": Endpoint(
        kwargs=CASE_KW,
        missing=CASE_MISSING,
        methods={
            "get": Call(member=200),
            "post": Call(
                member=by_action(Action.PEOPLE_RECORD, 201, 403),
                data=lambda w: {"number": "W-2", "scope": "laptop", "issued_at": _now(w)},
                format="json",
            ),
        },
        grow=_grow_authorities,
    ),
    "access-api:case-authority-detail": Endpoint(
        kwargs=_in_case(pk=lambda w: w.authority.pk),
        missing=_nowhere(pk=NO_ID),
        methods={"get": Call(member=200)},
    ),
    "access-api:case-authority-executed": Endpoint(
        kwargs=_in_case(pk=lambda w: w.authority.pk),
        missing=_nowhere(pk=NO_ID),
        methods={
            "post": Call(
                member=by_action(Action.PEOPLE_RECORD, 200, 403),
                data=lambda w: {"executed_at": _now(w)},
                format="json",
            )
        },
    ),
    "parties-api:case-person-list": Endpoint(
        kwargs=CASE_KW,
        missing=CASE_MISSING,
        methods={
            "get": Call(member=200),
            "post": Call(
                member=by_action(Action.PEOPLE_RECORD, 201, 403),
                data=lambda w: {"kind": "witness"},
                format="json",
            ),
        },
        grow=_grow_people,
    ),
    "parties-api:case-person-detail": Endpoint(
        kwargs=_in_case(pseudonym=lambda w: "V-1"),
        missing=_nowhere(pseudonym="V-99"),
        methods={
            "get": Call(member=200),
            "patch": Call(
                member=by_action(Action.PEOPLE_RECORD, 200, 403),
                data=lambda w: {"description": "matrix"},
                format="json",
            ),
        },
    ),
    # Identity: read by the lead (and the victim's assigned support worker, whom the matrix's victim_support
    # member is not); recorded by leads and investigators (and that worker).
    "parties-api:case-person-identity": Endpoint(
        kwargs=_in_case(pseudonym=lambda w: "V-1"),
        missing=_nowhere(pseudonym="V-99"),
        methods={"post": Call(member=by_action(Action.IDENTITY_READ, 200, 403), data=_reason, format="json")},
    ),
    "parties-api:case-person-identity-change": Endpoint(
        kwargs=_in_case(pseudonym=lambda w: "V-1"),
        missing=_nowhere(pseudonym="V-99"),
        methods={
            "post": Call(
                member=by_action(Action.PEOPLE_RECORD, 200, 403),
                data=lambda w: {"identity": {"name": "another name"}, "reason": "statement taken"},
                format="json",
            )
        },
    ),
    "parties-api:case-person-accounts": Endpoint(
        kwargs=_in_case(pseudonym=lambda w: "S-1"),
        missing=_nowhere(pseudonym="S-99"),
        methods={
            "post": Call(
                member=by_action(Action.LINKS_RECORD, 201, 403),
                data=lambda w: {"platform": "telegram", "handle": "@uploader"},
                format="json",
            )
        },
    ),
    # The matrix's V-1 has no reference photo: the lead passes the role check and is told to add one (400).
    "parties-api:case-person-face-search": Endpoint(
        kwargs=_in_case(pseudonym=lambda w: "V-1"),
        missing=_nowhere(pseudonym="V-99"),
        methods={"post": Call(member=by_action(Action.FACE_SEARCH, 400, 403), format="json")},
    ),
    "parties-api:case-face-clusters": Endpoint(
        kwargs=CASE_KW,
        missing=CASE_MISSING,
        methods={"get": Call(member=by_action(Action.FACE_CLUSTERS, 200, 403))},
    ),
    # The matrix's finding is not a face: who may name groups is told so (400).
    "parties-api:case-face-clusters-name": Endpoint(
        kwargs=CASE_KW,
        missing=CASE_MISSING,
        methods={
            "post": Call(
                member=by_action(Action.FACE_CLUSTERS, 400, 403),
                data=lambda w: {"person": "S-1", "faces": [w.annotation.pk]},
                format="json",
            )
        },
    ),
    "parties-api:case-channel-list": Endpoint(
        kwargs=CASE_KW,
        missing=CASE_MISSING,
        methods={
            "get": Call(member=200),
            "post": Call(
                member=by_action(Action.LINKS_RECORD, 201, 403),
                data=lambda w: {"platform": "x", "handle": "@another_room"},
                format="json",
            ),
        },
        grow=_grow_channels,
    ),
    "parties-api:case-channel-detail": Endpoint(
        kwargs=_in_case(pk=lambda w: w.channel.pk),
        missing=_nowhere(pk=NO_ID),
        methods={"get": Call(member=200)},
    ),
    "parties-api:case-channel-observations": Endpoint(
        kwargs=_in_case(pk=lambda w: w.channel.pk),
        missing=_nowhere(pk=NO_ID),
        methods={
            "post": Call(
                member=by_action(Action.LINKS_RECORD, 201, 403),
                data=lambda w: {"member_count": 5},
                format="json",
            )
        },
    ),
    **_link_entries(),
    # Captures: requesters follow the status, the result only for those who may see it (the serializer)
    "captures-api:capture-list": Endpoint(
        kwargs=CASE_KW,
        missing=CASE_MISSING,
        methods={
            "get": Call(member=by_action(Action.CAPTURE_REQUEST, 200, 403)),
            # TEST-NET-1 (RFC 5737): a run, if the task runs at all, is refused before any connection.
            "post": Call(
                member=by_action(Action.CAPTURE_REQUEST, 202, 403),
                data=lambda w: {"url": "http://192.0.2.1/reported"},
                format="json",
            ),
        },
        grow=_grow_captures,
    ),
    "captures-api:capture-detail": Endpoint(
        kwargs=_in_case(pk=lambda w: w.capture.pk),
        missing=_nowhere(pk=NO_ID),
        methods={"get": Call(member=by_action(Action.CAPTURE_REQUEST, 200, 403))},
    ),
    # Victim support: the support worker reads and writes, the lead reads (never the notes)
    "support-api:support-file-list": Endpoint(
        kwargs=CASE_KW,
        missing=CASE_MISSING,
        methods={
            "get": Call(member=by_action(Action.SUPPORT_READ, 200, 403)),
            "post": Call(
                member=by_action(Action.SUPPORT_WRITE, 201, 403),
                data=lambda w: {"person": "V-2"},
                format="json",
            ),
        },
        grow=_grow_support_files,
    ),
    "support-api:support-file-detail": Endpoint(
        kwargs=_in_case(pk=lambda w: w.support_file.pk),
        missing=_nowhere(pk=NO_ID),
        methods={"get": Call(member=by_action(Action.SUPPORT_READ, 200, 403))},
    ),
    "support-api:support-file-set-status": Endpoint(
        kwargs=_in_case(pk=lambda w: w.support_file.pk),
        missing=_nowhere(pk=NO_ID),
        methods={
            "post": Call(
                member=by_action(Action.SUPPORT_WRITE, 200, 403),
                data=lambda w: {"status": "active"},
                format="json",
            )
        },
    ),
    "support-api:support-file-assign": Endpoint(
        kwargs=_in_case(pk=lambda w: w.support_file.pk),
        missing=_nowhere(pk=NO_ID),
        methods={
            "post": Call(
                member=by_action(Action.SUPPORT_WRITE, 200, 403),
                data=lambda w: {"assigned_worker": None},
                format="json",
            )
        },
    ),
    "support-api:support-file-notes": Endpoint(
        kwargs=_in_case(pk=lambda w: w.support_file.pk),
        missing=_nowhere(pk=NO_ID),
        methods={
            "get": Call(member=by_action(Action.SUPPORT_NOTES, 200, 403)),
            "post": Call(
                member=by_action(Action.SUPPORT_NOTES, 201, 403),
                data=lambda w: {"text": "called back"},
                format="json",
            ),
        },
    ),
    "support-api:support-file-items": Endpoint(
        kwargs=_in_case(pk=lambda w: w.support_file.pk),
        missing=_nowhere(pk=NO_ID),
        methods={"get": Call(member=by_action(Action.SUPPORT_READ, 200, 403))},
    ),
    "support-api:support-file-hash-export": Endpoint(
        kwargs=_in_case(pk=lambda w: w.support_file.pk),
        missing=_nowhere(pk=NO_ID),
        methods={
            "post": Call(
                member=by_action(Action.SUPPORT_WRITE, 200, 403),
                data=lambda w: {"recipient": "StopNCII"},
                format="json",
            )
        },
    ),
    "support-api:support-file-hash-exports": Endpoint(
        kwargs=_in_case(pk=lambda w: w.support_file.pk),
        missing=_nowhere(pk=NO_ID),
        methods={"get": Call(member=by_action(Action.SUPPORT_READ, 200, 403))},
    ),
    "support-api:support-consent-list": Endpoint(
        kwargs=_in_case(support_file_pk=lambda w: w.support_file.pk),
        missing=_nowhere(support_file_pk=NO_ID),
        methods={
            "get": Call(member=by_action(Action.SUPPORT_READ, 200, 403)),
            "post": Call(
                member=by_action(Action.SUPPORT_WRITE, 201, 403),
                data=lambda w: {"kind": "contact"},
                format="json",
            ),
        },
        grow=_grow_consents,
    ),
    "support-api:support-consent-withdraw": Endpoint(
        kwargs=_in_case(support_file_pk=lambda w: w.support_file.pk, pk=lambda w: w.consent.pk),
        missing=_nowhere(support_file_pk=NO_ID, pk=NO_ID + 1),
        methods={
            "post": Call(member=by_action(Action.SUPPORT_WRITE, 200, 403), data=lambda w: {}, format="json")
        },
    ),
    "support-api:takedown-list": Endpoint(
        kwargs=CASE_KW,
        missing=CASE_MISSING,
        methods={
            "get": Call(member=by_action(Action.SUPPORT_READ, 200, 403)),
            "post": Call(
                member=by_action(Action.SUPPORT_WRITE, 201, 403),
                data=lambda w: {
                    "support_file": w.support_file.pk,
                    "addressee": "kcsc",
                    "platform": "website",
                    "target_url": "https://example.org/another",
                    "items": [w.item.pk],
                },
                format="json",
            ),
        },
        grow=_grow_takedowns,
    ),
    "support-api:takedown-detail": Endpoint(
        kwargs=_in_case(pk=lambda w: w.draft.pk),
        missing=_nowhere(pk=NO_ID),
        methods={
            "get": Call(member=by_action(Action.SUPPORT_READ, 200, 403)),
            "patch": Call(
                member=by_action(Action.SUPPORT_WRITE, 200, 403),
                data=lambda w: {"description": "x"},
                format="json",
            ),
        },
    ),
    "support-api:takedown-send": Endpoint(
        kwargs=_in_case(pk=lambda w: w.draft.pk),
        missing=_nowhere(pk=NO_ID),
        methods={
            "post": Call(
                member=by_action(Action.SUPPORT_WRITE, 200, 403),
                data=lambda w: {"reference_number": "R-1"},
                format="json",
            )
        },
    ),
    "support-api:takedown-acknowledge": Endpoint(
        kwargs=_in_case(pk=lambda w: w.sent.pk),
        missing=_nowhere(pk=NO_ID),
        methods={
            "post": Call(member=by_action(Action.SUPPORT_WRITE, 200, 403), data=lambda w: {}, format="json")
        },
    ),
    "support-api:takedown-removed": Endpoint(
        kwargs=_in_case(pk=lambda w: w.sent.pk),
        missing=_nowhere(pk=NO_ID),
        methods={
            "post": Call(member=by_action(Action.SUPPORT_WRITE, 200, 403), data=lambda w: {}, format="json")
        },
    ),
    "support-api:takedown-refuse": Endpoint(
        kwargs=_in_case(pk=lambda w: w.sent.pk),
        missing=_nowhere(pk=NO_ID),
        methods={
            "post": Call(
                member=by_action(Action.SUPPORT_WRITE, 200, 403),
                data=lambda w: {"reason": "not illegal"},
                format="json",
            )
        },
    ),
    "support-api:takedown-reappearances": Endpoint(
        kwargs=_in_case(pk=lambda w: w.removed.pk),
        missing=_nowhere(pk=NO_ID),
        methods={
            "get": Call(member=by_action(Action.SUPPORT_READ, 200, 403)),
            "post": Call(
                member=by_action(Action.SUPPORT_WRITE, 201, 403),
                data=lambda w: {"url": "https://t.me/another_room/3"},
                format="json",
            ),
        },
    ),
    # The support worker captures the target URL as evidence; the answer is the capture's status only.
    "support-api:takedown-capture": Endpoint(
        kwargs=_in_case(pk=lambda w: w.sent.pk),
        missing=_nowhere(pk=NO_ID),
        methods={"post": Call(member=by_action(Action.SUPPORT_WRITE, 202, 403), format="json")},
    ),
    "support-api:takedown-overdue": Endpoint(
        kwargs=CASE_KW,
        missing=CASE_MISSING,
        methods={"get": Call(member=by_action(Action.SUPPORT_READ, 200, 403))},
    ),
    # Across the caller's cases where they are support worker or lead: everyone gets their own (maybe none).
    "support-api:takedown-all-overdue": Endpoint(methods={"get": Call(member=200, outsider=200)}),
    # Interchange: VICS and CASE/UCO exports (lead and investigators; an exported event per item)
    "exhibits-api:case-interchange-vics": Endpoint(
        kwargs=CASE_KW,
        missing=CASE_MISSING,
        methods={
            "post": Call(
                member=by_action(Action.INTERCHANGE_EXPORT, 200, 403),
                data=lambda w: {"recipient": "matrix"},
                format="json",
            )
        },
    ),
    "exhibits-api:case-interchange-case-uco": Endpoint(
        kwargs=CASE_KW,
        missing=CASE_MISSING,
        methods={
            "post": Call(
                member=by_action(Action.INTERCHANGE_EXPORT, 200, 403),
                data=lambda w: {"recipient": "matrix"},
                format="json",
            )
        },
    ),
    # Accounts: API tokens (everyone's own; an administrator's, anyone's)
    "accounts-api:token-list": Endpoint(
        methods={
            "get": Call(member=200, outsider=200),
            "post": Call(member=201, outsider=201, data=lambda w: {"name": "matrix"}, format="json"),
        },
        grow=_grow_tokens,
    ),
    # The token is the target case owner's: any other caller is told it does not exist.
    "accounts-api:token-revoke": Endpoint(
        kwargs=lambda w: {"pk": _owner_token(w)},
        missing=lambda w: {"pk": NO_ID},
        methods={"post": Call(member=404, admin=200, data=lambda w: {"reason": "matrix"}, format="json")},
    ),
    # Detection: detectors, runs, findings, jobs, progress (reads by membership; reviews: finding_review)
    "detection-api:detectors": Endpoint(methods={"get": Call(member=200, outsider=200)}),
    "detection-api:acquisition-progress": Endpoint(
        kwargs=lambda w: {"pk": w.item.acquisition_id},
        missing=lambda w: {"pk": NO_ID},
        methods={"get": Call(member=200)},
    ),
    "detection-api:run-list": Endpoint(methods={"get": Call(member=200, outsider=200)}, grow=_grow_runs),
    # The run and the finding are on ``item``, in no shared exhibit: "not found" to a prosecutor member.
    "detection-api:run-detail": Endpoint(
        kwargs=lambda w: {"pk": w.run.pk},
        missing=lambda w: {"pk": NO_ID},
        methods={"get": Call(member=by_role({PROSECUTOR}, 404, 200))},
    ),
    "detection-api:annotation-list": Endpoint(
        methods={"get": Call(member=200, outsider=200)}, grow=_grow_runs
    ),
    "detection-api:annotation-detail": Endpoint(
        kwargs=lambda w: {"pk": w.annotation.pk},
        missing=lambda w: {"pk": NO_ID},
        methods={"get": Call(member=by_role({PROSECUTOR}, 404, 200))},
    ),
    "detection-api:annotation-confirm": Endpoint(
        kwargs=lambda w: {"pk": w.annotation.pk},
        missing=lambda w: {"pk": NO_ID},
        methods={
            "post": Call(
                member={**by_action(Action.FINDING_REVIEW, 200, 403), PROSECUTOR: 404},
                data=_reason,
                format="json",
            )
        },
    ),
    "detection-api:annotation-reject": Endpoint(
        kwargs=lambda w: {"pk": w.annotation.pk},
        missing=lambda w: {"pk": NO_ID},
        methods={
            "post": Call(
                member={**by_action(Action.FINDING_REVIEW, 200, 403), PROSECUTOR: 404},
                data=_reason,
                format="json",
            )
        },
    ),
    "detection-api:job-list": Endpoint(
        methods={
            "get": Call(member=200, outsider=200),
            # A re-scan of the target case: the case is named in the body (echoed in its 404 as in the URL's).
            "post": Call(
                member=by_action(Action.DETECTION_RUN, 201, 403),
                data=lambda w: {"case": w.target.number, "detector": "pdq"},
                missing_data=lambda w: {"case": NOWHERE, "detector": "pdq"},
                format="json",
            ),
        },
        grow=_grow_jobs,
    ),
    "detection-api:job-detail": Endpoint(
        kwargs=lambda w: {"pk": w.job.pk}, missing=lambda w: {"pk": NO_ID}, methods={"get": Call(member=200)}
    ),
    # Hash banks (administrators manage; investigators on any team read the names) and matches
    "detection-banks-api:hash-bank-list": Endpoint(
        methods={
            "get": Call(
                member=by_action(Action.BANK_MATCHES_SEE, 200, 403),
                outsider=by_action(Action.BANK_MATCHES_SEE, 200, 403),
                admin=200,
            ),
            "post": Call(
                member=403,
                outsider=403,
                admin=201,
                data=lambda w: {"name": "shared list", "kind": "known_material"},
                format="json",
            ),
        },
        grow=_grow_banks,
    ),
    "detection-banks-api:hash-bank-detail": Endpoint(
        kwargs=lambda w: {"pk": w.bank.pk},
        missing=lambda w: {"pk": NO_ID},
        methods={
            "get": Call(
                member=by_action(Action.BANK_MATCHES_SEE, 200, 403),
                outsider=by_action(Action.BANK_MATCHES_SEE, 200, 403),
                admin=200,
            )
        },
    ),
    # The target's victim bank: its case's lead adds to it, as do administrators; nobody else reads it.
    "detection-banks-api:hash-bank-entries": Endpoint(
        kwargs=lambda w: {"pk": w.bank.pk},
        missing=lambda w: {"pk": NO_ID},
        methods={
            "get": Call(member=by_action(Action.VICTIM_BANK_CHANGE, 200, 403), outsider=403, admin=200),
            "post": Call(
                member=by_action(Action.VICTIM_BANK_CHANGE, 201, 403),
                outsider=403,
                admin=201,
                data=lambda w: {"md5": "d41d8cd98f00b204e9800998ecf8427e"},
                format="json",
            ),
        },
    ),
    "detection-banks-api:match-list": Endpoint(
        methods={
            "get": Call(member=200, query={"case": "2024-TARGET-0001"}, missing_query={"case": NOWHERE})
        },
        grow=_grow_matches,
    ),
    # Alerts go to one person (the target's owner): everyone else, members included, is told "not found".
    "detection-banks-api:match-alert-list": Endpoint(
        methods={"get": Call(member=200, outsider=200)}, grow=_grow_alerts
    ),
    "detection-banks-api:match-alert-seen": Endpoint(
        kwargs=lambda w: {"pk": w.alert.pk},
        missing=lambda w: {"pk": NO_ID},
        methods={"post": Call(member=404)},
    ),
    # Exapi: exhibits (E-001 shared, E-002 draft, E-003 approved), reports and bundles of E-001
    "exhibits-api:case-exhibit-list": Endpoint(
        kwargs=CASE_KW,
        missing=CASE_MISSING,
        methods={
            "get": Call(member=200),
            "post": Call(
                member=by_action(Action.EXHIBIT_DRAFT, 201, 403),
                data=lambda w: {"items": [w.item.pk], "description": "matrix"},
                format="json",
            ),
        },
        grow=_grow_exhibits,
    ),
    # E-002, a draft: a prosecutor does not see it.
    "exhibits-api:case-exhibit-detail": Endpoint(
        kwargs=_in_case(exhibit=lambda w: "E-002"),
        missing=_nowhere(exhibit="E-002"),
        methods={
            "get": Call(member=by_role({PROSECUTOR}, 404, 200)),
            "patch": Call(
                member={**by_action(Action.EXHIBIT_DRAFT, 200, 403), PROSECUTOR: 404},
                data=lambda w: {"description": "changed"},
                format="json",
            ),
        },
    ),
    "exhibits-api:case-exhibit-request-approval": Endpoint(
        kwargs=_in_case(exhibit=lambda w: "E-002"),
        missing=_nowhere(exhibit="E-002"),
        methods={"post": Call(member={**by_action(Action.EXHIBIT_DRAFT, 200, 403), PROSECUTOR: 404})},
    ),
    # Only a supervisor approves, and no caller here holds the supervisor role.
    "exhibits-api:case-exhibit-approve": Endpoint(
        kwargs=_in_case(exhibit=lambda w: "E-002"),
        missing=_nowhere(exhibit="E-002"),
        methods={"post": Call(member=by_role({PROSECUTOR}, 404, 403), data=lambda w: {}, format="json")},
    ),
    "exhibits-api:case-exhibit-share": Endpoint(
        kwargs=_in_case(exhibit=lambda w: "E-003"),
        missing=_nowhere(exhibit="E-003"),
        methods={"post": Call(member={**by_action(Action.EXHIBIT_SHARE, 200, 403), PROSECUTOR: 404})},
    ),
    # E-001, shared: the prosecutor sees it but may not withdraw it.
    "exhibits-api:case-exhibit-withdraw": Endpoint(
        kwargs=_in_case(exhibit=lambda w: "E-001"),
        missing=_nowhere(exhibit="E-001"),
        methods={"post": Call(member=by_action(Action.EXHIBIT_SHARE, 200, 403), data=_reason, format="json")},
    ),
    "exhibits-api:case-report-list": Endpoint(
        kwargs=CASE_KW,
        missing=CASE_MISSING,
        methods={
            "get": Call(member=by_action(Action.REPORT_READ, 200, 403)),
            # 202: the report job is queued (exhibits.reports.services).
            "post": Call(
                member=by_action(Action.REPORT_REQUEST, 202, 403),
                data=lambda w: {"exhibits": ["E-001"], "language": "en"},
                format="json",
            ),
        },
        grow=_grow_reports,
    ),
    "exhibits-api:case-bundle-list": Endpoint(
        kwargs=CASE_KW,
        missing=CASE_MISSING,
        methods={
            "get": Call(member=by_action(Action.REPORT_READ, 200, 403)),
            # 202: the export job is queued (exhibits.bundles).
            "post": Call(
                member=by_action(Action.BUNDLE_EXPORT, 202, 403),
                data=lambda w: {
                    "exhibits": ["E-001"],
                    "recipient": "matrix prosecutor",
                    "passphrase": "correct horse battery staple",
                },
                format="json",
            ),
        },
        grow=_grow_bundles,
    ),
    # Korean procedure records (records.api): readers see them, investigators write them, the lead returns
    # or deletes unrelated items (access.policy: procedure_read, procedure_record, unrelated_*).
    "records-api:case-procedure-document-list": Endpoint(
        kwargs=CASE_KW,
        missing=CASE_MISSING,
        methods={
            "get": Call(member=by_action(Action.PROCEDURE_READ, 200, 403)),
            "post": Call(
                member=by_action(Action.PROCEDURE_RECORD, 201, 403),
                data=lambda w: {"kind": "scene_confirmation", "confirmation": "H-001"},
                format="json",
            ),
        },
        grow=_grow_procedure_documents,
    ),
    "records-api:case-procedure-document-detail": Endpoint(
        kwargs=_in_case(document=lambda w: "L-001"),
        missing=_nowhere(document="L-001"),
        methods={"get": Call(member=by_action(Action.PROCEDURE_READ, 200, 403))},
    ),
    "records-api:case-procedure-document-download": Endpoint(
        kwargs=_in_case(document=lambda w: "L-001"),
        missing=_nowhere(document="L-001"),
        methods={"get": Call(member=by_action(Action.PROCEDURE_READ, 200, 403))},
    ),
    "records-api:case-scene-confirmation-list": Endpoint(
        kwargs=CASE_KW,
        missing=CASE_MISSING,
        methods={
            "get": Call(member=by_action(Action.PROCEDURE_READ, 200, 403)),
            "post": Call(
                member=by_action(Action.PROCEDURE_RECORD, 201, 403),
                data=lambda w: {
                    "subject": "matrix image",
                    "hashes": [{"name": "image.E01", "algorithm": "SHA-256", "value": "cd" * 32}],
                    "computed_by": "matrix officer",
                },
                format="json",
            ),
        },
        grow=_grow_scene_confirmations,
    ),
    "records-api:case-scene-confirmation-detail": Endpoint(
        kwargs=_in_case(confirmation=lambda w: "H-001"),
        missing=_nowhere(confirmation="H-001"),
        methods={"get": Call(member=by_action(Action.PROCEDURE_READ, 200, 403))},
    ),
    "records-api:case-unrelated-list": Endpoint(
        kwargs=CASE_KW,
        missing=CASE_MISSING,
        methods={
            "get": Call(member=by_action(Action.PROCEDURE_READ, 200, 403)),
            "post": Call(
                member=by_action(Action.UNRELATED_MARK, 201, 403),
                data=lambda w: {"items": [w.procedure_item.pk], "reason": "access matrix"},
                format="json",
            ),
        },
        grow=_grow_marks,
    ),
    "records-api:case-unrelated-withdraw": Endpoint(
        kwargs=_in_case(pk=lambda w: w.mark.pk),
        missing=_nowhere(pk=NO_ID),
        methods={
            "post": Call(member=by_action(Action.UNRELATED_MARK, 200, 403), data=_reason, format="json")
        },
    ),
    "records-api:case-unrelated-disposal-list": Endpoint(
        kwargs=CASE_KW,
        missing=CASE_MISSING,
        methods={
            "get": Call(member=by_action(Action.PROCEDURE_READ, 200, 403)),
            "post": Call(
                member=by_action(Action.UNRELATED_DISPOSE, 201, 403),
                data=lambda w: {
                    "items": [w.mark.item_id],
                    "kind": "deleted",
                    "person_searched": "matrix person",
                    "confirmation": "signed",
                },
                format="json",
            ),
        },
        grow=_grow_disposals,
    ),
    # Destruction (records.api.destruction): readers see the orders and the retention state; each step is the
    # service's, which adds its four-eyes rules (access.policy: destruction_*). D-001 requested, D-002
    # authorised by ``target.supervisor``, D-003 executed (matrix_world.destruction_records). The authoriser
    # and a refuser hold the supervisor global role, and only the requester withdraws or executes: no caller
    # here does, so those steps are refused to all.
    "records-api:case-destruction-order-list": Endpoint(
        kwargs=CASE_KW,
        missing=CASE_MISSING,
        methods={
            "get": Call(member=by_action(Action.DESTRUCTION_READ, 200, 403)),
            "post": Call(
                member=by_action(Action.DESTRUCTION_REQUEST, 201, 403),
                data=lambda w: {"legal_basis": "matrix", "items": [w.item.pk], "court_order": "17"},
                format="json",
            ),
        },
        grow=_grow_destruction_orders,
    ),
    "records-api:case-destruction-order-detail": Endpoint(
        kwargs=_in_case(order=lambda w: "D-001"),
        missing=_nowhere(order="D-001"),
        methods={"get": Call(member=by_action(Action.DESTRUCTION_READ, 200, 403))},
    ),
    "records-api:case-destruction-order-authorise": Endpoint(
        kwargs=_in_case(order=lambda w: "D-001"),
        missing=_nowhere(order="D-001"),
        methods={"post": Call(member={role: 403 for role in ROLES}, data=lambda w: {}, format="json")},
    ),
    "records-api:case-destruction-order-witness": Endpoint(
        kwargs=_in_case(order=lambda w: "D-002"),
        missing=_nowhere(order="D-002"),
        methods={"post": Call(member=by_action(Action.DESTRUCTION_WITNESS, 200, 403))},
    ),
    # D-002 is not yet witnessed: a lead is told so (400); only its requester would carry it out.
    "records-api:case-destruction-order-execute": Endpoint(
        kwargs=_in_case(order=lambda w: "D-002"),
        missing=_nowhere(order="D-002"),
        methods={"post": Call(member=by_action(Action.DESTRUCTION_REQUEST, 400, 403))},
    ),
    "records-api:case-destruction-order-refuse": Endpoint(
        kwargs=_in_case(order=lambda w: "D-001"),
        missing=_nowhere(order="D-001"),
        methods={"post": Call(member={role: 403 for role in ROLES}, data=_reason, format="json")},
    ),
    "records-api:case-destruction-order-withdraw": Endpoint(
        kwargs=_in_case(order=lambda w: "D-001"),
        missing=_nowhere(order="D-001"),
        methods={"post": Call(member={role: 403 for role in ROLES}, data=_reason, format="json")},
    ),
    # The certificate names each item's file: not the auditor's (access.policy: destruction_certificate).
    "records-api:case-destruction-order-certificate": Endpoint(
        kwargs=_in_case(order=lambda w: "D-003"),
        missing=_nowhere(order="D-003"),
        methods={"get": Call(member=by_action(Action.DESTRUCTION_CERTIFICATE, 200, 403))},
    ),
    # D-002 is not yet executed: who may sign a certificate again is told so (400).
    "records-api:case-destruction-order-certificate-reissue": Endpoint(
        kwargs=_in_case(order=lambda w: "D-002"),
        missing=_nowhere(order="D-002"),
        methods={"post": Call(member=by_action(Action.DESTRUCTION_CERTIFICATE_ISSUE, 400, 403))},
    ),
    "records-api:case-retention": Endpoint(
        kwargs=CASE_KW,
        missing=CASE_MISSING,
        methods={"get": Call(member=by_action(Action.DESTRUCTION_READ, 200, 403))},
    ),
    "exhibits-api:report-detail": Endpoint(
        kwargs=lambda w: {"pk": w.report.pk},
        missing=lambda w: {"pk": NO_ID},
        methods={"get": Call(member=by_action(Action.REPORT_READ, 200, 404))},
    ),
    # The report is still queued: those who may download it are told to wait (400); the auditor and the
    # analyst never may (access.policy: report_download, bundle_download).
    "exhibits-api:report-download": Endpoint(
        kwargs=lambda w: {"pk": w.report.pk},
        missing=lambda w: {"pk": NO_ID},
        methods={"get": Call(member=download(Action.REPORT_DOWNLOAD, yes=400))},
    ),
    "exhibits-api:bundle-detail": Endpoint(
        kwargs=lambda w: {"pk": w.bundle.pk},
        missing=lambda w: {"pk": NO_ID},
        methods={"get": Call(member=by_action(Action.REPORT_READ, 200, 404))},
    ),
    "exhibits-api:bundle-download": Endpoint(
        kwargs=lambda w: {"pk": w.bundle.pk},
        missing=lambda w: {"pk": NO_ID},
        methods={"get": Call(member=download(Action.BUNDLE_DOWNLOAD, yes=400))},
    ),
}


@pytest.fixture(scope="module")
def world(world: World, django_db_blocker: Any, world_root: Path) -> World:
    """The matrices' world with its destruction orders (``destruction_records``)."""
    with django_db_blocker.unblock(), override_settings(**data_settings(world_root)):
        destruction_records(world)
        settle()
    return world


# The resolver


def api_patterns() -> dict[str, tuple[str, list[str], bool]]:
    """Every named URL pattern under /api/v1/: name → (route, HTTP methods, is a list endpoint)."""
    found: dict[str, tuple[str, list[str], bool]] = {}

    def walk(patterns: list[Any], prefix: str, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                if not route.startswith("api/v1/"):
                    continue
                callback = pattern.callback
                actions = getattr(callback, "actions", None)
                if actions is not None:
                    methods, is_list = sorted(actions), "list" in actions.values()
                else:
                    view = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
                    methods = sorted(m for m in ("get", "post", "put", "patch", "delete") if hasattr(view, m))
                    is_list = False
                assert pattern.name, (
                    f"API route {route} has no name: name it so the access matrix can cover it"
                )
                found[namespace + pattern.name] = (route, methods, is_list)

    walk(get_resolver().url_patterns, "", "")
    return found


PATTERNS = api_patterns()
CASES = [
    (name, method, caller, role)
    for name, (_, methods, _) in sorted(PATTERNS.items())
    if name in ENDPOINTS
    for method in methods
    if method in ENDPOINTS[name].methods
    for caller, role in CALLERS
]


def test_every_api_endpoint_has_a_fixture() -> None:
    missing = sorted(name for name in PATTERNS if name not in ENDPOINTS)
    assert not missing, f"API endpoints without an access-matrix entry (add them to ENDPOINTS): {missing}"
    uncovered = [
        f"{name} {method.upper()}"
        for name, (_, methods, _) in PATTERNS.items()
        for method in methods
        if method not in ENDPOINTS[name].methods
    ]
    assert not uncovered, f"methods without an expected status in ENDPOINTS: {uncovered}"
    stale = sorted(set(ENDPOINTS) - set(PATTERNS))
    assert not stale, f"ENDPOINTS names no longer in the URL conf: {stale}"
    lists_without_growth = [
        name for name, (_, _, is_list) in PATTERNS.items() if is_list and not ENDPOINTS[name].grow
    ]
    assert not lists_without_growth, (
        f"list endpoints need `grow` for their query-count check: {lists_without_growth}"
    )


def client_for(callers: dict[tuple[str, str], Any], caller: str, role: str) -> APIClient:
    """An API client authenticated as the caller (made once for the module, tests/access/conftest.py), or
    nobody."""
    client = APIClient()
    if caller != "anonymous":
        client.force_authenticate(callers[caller, role])
    return client


def send(client: APIClient, method: str, url: str, call: Call, world: World) -> Any:
    if call.query:
        url += "?" + "&".join(f"{k}={v}" for k, v in call.query.items())
    body = call.data(world) if call.data else None
    return getattr(client, method)(url, body, format=call.format)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "method", "caller", "role"), CASES, ids=[" ".join(c).strip() for c in CASES]
)
def test_access_matrix(
    world: World, callers: dict[tuple[str, str], Any], name: str, method: str, caller: str, role: str
) -> None:
    endpoint, call = ENDPOINTS[name], ENDPOINTS[name].methods[method]
    client = client_for(callers, caller, role)
    events_before = CustodyEvent.objects.count()
    url = reverse(name, kwargs=endpoint.kwargs(world))
    response = send(client, method, url, call, world)
    text = response_text(response)
    expected = call.expected(caller, role)
    assert response.status_code == expected, f"{name} {method.upper()} as {caller} {role}: {text[-600:]}"
    if response.status_code >= 400:
        assert CustodyEvent.objects.count() == events_before, "a refused request wrote a custody event"
    if caller == "member":
        if role in NO_MEDIA_ROLES:
            media = response.get("Content-Type", "").split("/")[0] in {"image", "video", "audio"}
            assert not media and "X-Haetae-SHA256" not in response, (
                f"{name} {method.upper()} gives {role} media"
            )
        if role == "victim_support":
            names = [world.item.original_name, world.source_item.original_name, world.home_item.original_name]
            shown = [n for n in names if n in text]
            assert not shown, f"{name} {method.upper()} shows victim_support the file names {shown}"
        return
    # Off the target case: nothing of it may show, not even its count.
    # What the caller named may be echoed: in the URL, or (for a "not found") in a query or body that has a
    # nonexistent variant, since the identical-404 check below shows the echo says nothing more.
    names_elsewhere = call.missing_query is not None or call.missing_data is not None
    named = url
    if names_elsewhere and response.status_code == 404:
        named += repr(call.query) + repr(call.data(world) if call.data else None)
    if not (call.echoes_target and response.status_code < 300):
        leaked = [marker for marker in world.markers if marker in text and marker not in named]
        assert not leaked, f"{name} {method.upper()} as {caller} {role} leaks {leaked}"
    if response.status_code == 200 and response.get("Content-Type", "").startswith("application/json"):
        payload = response.json()
        if isinstance(payload, dict) and "count" in payload and "results" in payload:
            assert payload["count"] == len(payload["results"])
    if (endpoint.missing is not None or names_elsewhere) and response.status_code == 404:
        kwargs = endpoint.kwargs(world)
        missing_kwargs = endpoint.missing(world) if endpoint.missing is not None else kwargs
        nowhere_call = replace(
            call,
            query=call.missing_query if call.missing_query is not None else call.query,
            data=call.missing_data if call.missing_data is not None else call.data,
        )
        nowhere = send(client, method, reverse(name, kwargs=missing_kwargs), nowhere_call, world)
        assert nowhere.status_code == 404

        def values(one: Call, route: dict[str, Any]) -> list[Any]:
            body = one.data(world) if one.data else None
            return [*route.values(), *one.query.values(), *(body.values() if isinstance(body, dict) else [])]

        def normalised(text: str, echoed: list[Any]) -> str:
            for value in echoed:
                text = text.replace(str(value), "<id>")
            return text

        assert normalised(nowhere.content.decode(), values(nowhere_call, missing_kwargs)) == normalised(
            response.content.decode(), values(call, kwargs)
        )


LIST_ENDPOINTS = sorted(name for name, (_, _, is_list) in PATTERNS.items() if is_list and name in ENDPOINTS)


@pytest.mark.django_db
@pytest.mark.parametrize("name", LIST_ENDPOINTS)
def test_list_query_count_is_constant_in_rows(world: World, name: str) -> None:
    endpoint = ENDPOINTS[name]
    lead = UserFactory(username="counting.lead")
    CaseMemberFactory(case=world.target, user=lead, role=CaseMemberRole.LEAD)
    client = APIClient()
    client.force_authenticate(lead)
    url = reverse(name, kwargs=endpoint.kwargs(world))
    query = endpoint.methods["get"].query
    assert endpoint.grow is not None

    def queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, query)
        assert response.status_code == 200
        body = response.json()
        return len(captured), len(body) if isinstance(body, list) else body["count"]

    endpoint.grow(world, lead, 1)
    few, rows_before = queries()
    endpoint.grow(world, lead, 4)
    many, rows_after = queries()
    assert rows_after >= rows_before + 4, "grow must add rows the caller sees"
    assert many == few, f"{name}: {few} queries for {rows_before} rows, {many} for {rows_after}"


# A prosecutor member and the shared exhibit's item

SHARED_ITEM_CALLS = [
    ("evidence-api:evidence-detail", {}),
    ("evidence-api:evidence-custody", {}),
    ("evidence-api:evidence-preview", {}),
    ("evidence-api:evidence-content", {"reason": "prepare the indictment"}),
    ("evidence-api:evidence-preview", {"blur": "0", "reason": "prepare the indictment"}),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "query"), SHARED_ITEM_CALLS, ids=[f"{n} {q}" for n, q in SHARED_ITEM_CALLS])
def test_a_prosecutor_member_sees_the_shared_exhibits_item(
    world: World, callers: dict[tuple[str, str], Any], name: str, query: dict[str, str]
) -> None:
    """The one item of the target in a shared exhibit (E-001) reaches its prosecutor, each look on record;
    ``item`` (in a draft) is "not found" to them in ENDPOINTS, word for word as an item of another case."""
    client = client_for(callers, "member", PROSECUTOR)
    prosecutor = world.target.members.get(role=PROSECUTOR).user
    looks = [CustodyAction.VIEWED, CustodyAction.PREVIEW_SERVED]
    response = client.get(reverse(name, kwargs={"pk": world.shared_item.pk}), query)
    assert response.status_code == 200, response_text(response)[-400:]
    recorded = CustodyEvent.objects.filter(actor=prosecutor, item=world.shared_item, action__in=looks)
    assert recorded.count() == (1 if name.endswith(("content", "preview")) else 0)
    hidden = client.get(reverse(name, kwargs={"pk": world.item.pk}), query)
    foreign = client.get(reverse(name, kwargs={"pk": world.home_item.pk}), query)
    assert hidden.status_code == foreign.status_code == 404
    assert hidden.json()["detail"].replace(str(world.item.pk), "<id>") == foreign.json()["detail"].replace(
        str(world.home_item.pk), "<id>"
    )
