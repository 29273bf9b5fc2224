"""The access matrices' world: two cases with one of everything, and the expectations read from POLICY.

``tests/access/test_matrix.py`` (API), ``test_matrix_portal.py`` (portal pages) and
``test_matrix_commands.py`` (management commands) each build this world once per module
(``tests/access/conftest.py``) and derive every expected answer from ``access.policy.POLICY`` through
``by_action`` / ``by_role`` / ``download``.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import Group
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from access.choices import CaseMemberRole
from access.models import BreakGlassGrant, Case
from access.policy import NEVER_CONTENT_ROLES, POLICY, Action
from access.services import legal_authority_record
from captures.services import capture_request
from detection.models import HashBank, ScanJob
from evidence.models import EvidenceItem
from exhibits.models import ExportBundle, Report
from exhibits.services import exhibit_approve, exhibit_create, exhibit_share
from parties.services.channels import channel_observe, channel_record
from parties.services.links import (
    Assertion,
    link_assert_derivation,
    link_assert_item_channel,
    link_assert_item_person,
    link_assert_person_channel,
)
from parties.services.people import Identity, person_record
from records.documents import seized_list_issue
from records.procedure import scene_confirmation_record, unrelated_mark
from records.services import (
    destruction_order_authorise,
    destruction_order_execute,
    destruction_order_request,
    destruction_order_witness,
)
from search.services import search_reindex
from support import services as support
from support.models import TakedownRequest
from tests.factories import (
    CaseFactory,
    CaseMemberFactory,
    UserFactory,
    bank_match,
    chat_with_messages,
    detection_rows,
    jpeg_bytes,
    live_grant,
    stored_item,
)

ROLES = [r.value for r in CaseMemberRole]
# Every expected status below comes from access.policy: ``by_action`` reads POLICY, so a rule changed there
# changes what this matrix expects; no role set is written again here.
(PROSECUTOR,) = POLICY[
    Action.CONTENT_VIEW_SHARED
]  # sees only the items of shared exhibits (docs/exhibits.md)
NO_MEDIA_ROLES = NEVER_CONTENT_ROLES  # never receive content or previews (DESIGN.md, invariant 4)
TARGET_MARKERS = [
    "2024-TARGET-0001",
    "Target case title marker",
    "target-marker.jpg",
    "target-source-marker.jpg",
    "target grant reason",
    "TARGET-WARRANT-0417",
    "@target_marker_room",
    "Target channel title marker",
    "https://t.me/target_marker_room/17",
    "Target victim identity marker",
    "target takedown description marker",
    "Target exhibit description marker",
    "target-shared-marker.jpg",
    "Target message text marker",
    "Target chat title marker",
    "Target sender name marker",
]
NOWHERE = "2024-NOWHERE-0404"
# A digest in no case (a victim bank's entry): not a marker, administrators manage the banks.
BANK_SHA256 = "5" * 64


@dataclass
class World:
    """Two cases: the target (whose objects are asked for) and home (where non-members are members).

    The target case holds one of everything the API serves: a team (owner as lead, an analyst), items,
    a victim with an identity and a support file (a consent in force, takedowns as draft, sent and
    removed), a victim without one, a suspect, a channel, one link of each type, a legal authority, a
    chat export's messages and sender, a detector run with a finding, a detection job, a victim's hash
    bank, a match and its alert, exhibits with a report and a bundle, a URL capture, the search index,
    and Korean procedure records (a scene confirmation, a detailed list, an unrelated-item mark).
    """

    target: Case
    home: Case
    item: EvidenceItem
    home_item: EvidenceItem
    grant: BreakGlassGrant
    markers: list[str]
    owner: Any = None
    analyst: Any = None
    newcomer: Any = None
    source_item: Any = None
    victim: Any = None
    suspect: Any = None
    channel: Any = None
    authority: Any = None
    links: dict[str, Any] = field(default_factory=dict)
    support_file: Any = None
    consent: Any = None
    draft: Any = None
    sent: Any = None
    removed: Any = None
    run: Any = None
    annotation: Any = None
    job: Any = None
    bank: Any = None
    match: Any = None
    alert: Any = None
    shared_item: Any = None
    exhibits: dict[str, Any] = field(default_factory=dict)
    report: Any = None
    bundle: Any = None
    chat: Any = None
    sender: Any = None
    capture: Any = None
    procedure_item: Any = None
    mark: Any = None
    destruction_items: list[Any] = field(default_factory=list)


def settle() -> None:
    """Checks now the foreign keys of what a module fixture just wrote into the world's outer transaction.

    Left pending (PostgreSQL defers them to the end of the outer transaction), they were all checked again by
    every test's teardown: Django's TestCase runs ``SET CONSTRAINTS ALL IMMEDIATE`` inside the test's
    savepoint, whose rollback makes them pending once more. That was about 5 ms a test, 2,500 tests a module.
    Every module fixture that writes to the world ends with this."""
    connection.check_constraints()


def build_world() -> World:
    target = CaseFactory(number="2024-TARGET-0001", title="Target case title marker")
    home = CaseFactory(number="2024-HOME-0002", title="Home case")
    owner = UserFactory(username="target.owner")
    CaseMemberFactory(case=target, user=owner, role=CaseMemberRole.LEAD)
    analyst = CaseMemberFactory(case=target, user=UserFactory(username="target.analyst"), role="analyst").user
    item = stored_item(
        case=target, data=jpeg_bytes("chelsea", quality=70), actor=owner, name="target-marker.jpg"
    )
    source_item = stored_item(
        case=target, data=b"target source bytes", actor=owner, name="target-source-marker.jpg"
    )
    home_item = stored_item(case=home, data=b"home case bytes", actor=owner, name="home.jpg")
    holder = UserFactory(username="grant.holder", is_staff=True)
    grant = live_grant(case=target, user=holder, reason="target grant reason")
    assert item.blob is not None and source_item.blob is not None
    markers = [*TARGET_MARKERS]
    for blob in (item.blob, source_item.blob):
        markers += [blob.sha256, blob.md5, blob.sha1]
    world = World(
        target=target,
        home=home,
        item=item,
        home_item=home_item,
        grant=grant,
        markers=markers,
        owner=owner,
        analyst=analyst,
        newcomer=UserFactory(username="matrix.newcomer"),
        source_item=source_item,
    )
    _case_records(world)
    _support_records(world)
    _detection_records(world)
    _exhibit_records(world)
    world.capture = capture_request(case=target, url="http://192.0.2.1/target-capture-marker", actor=owner)
    world.markers.append("target-capture-marker")
    search_reindex()  # the text index of both cases (file names), as ingest would have left it
    _procedure_records(world)
    return world


def _case_records(w: World) -> None:
    sure = Assertion(confidence="confirmed")
    w.victim = person_record(
        case=w.target, kind="victim", actor=w.owner, identity=Identity(name="Target victim identity marker")
    )
    person_record(case=w.target, kind="victim", actor=w.owner)  # V-2: no support file yet
    w.suspect = person_record(case=w.target, kind="suspect", actor=w.owner)
    w.channel = channel_record(
        case=w.target,
        platform="telegram",
        handle="@target_marker_room",
        title="Target channel title marker",
        actor=w.owner,
    )
    channel_observe(channel=w.channel, actor=w.owner, member_count=220_000)
    w.authority = legal_authority_record(
        case=w.target,
        actor=w.owner,
        number="TARGET-WARRANT-0417",
        scope="the suspect's phone",
        issued_at=timezone.now() - timedelta(days=2),
    )
    w.links = {
        "item-person": link_assert_item_person(
            item=w.item, person=w.victim, relation="depicts", assertion=sure, actor=w.owner
        ),
        "item-channel": link_assert_item_channel(
            item=w.item, channel=w.channel, assertion=sure, actor=w.owner, message_reference="17"
        ),
        "person-channel": link_assert_person_channel(
            person=w.suspect, channel=w.channel, relation="administers", assertion=sure, actor=w.owner
        ),
        "item-derivation": link_assert_derivation(
            item=w.item, source_item=w.source_item, assertion=sure, actor=w.owner
        ),
    }
    w.chat, messages = chat_with_messages(
        source_item=w.source_item,
        media_item=w.item,
        channel=w.channel,
        text="Target message text marker",
        title="Target chat title marker",
        sender_name="Target sender name marker",
    )
    w.sender = messages[0].sender


def takedown_draft(w: World, **fields: Any) -> TakedownRequest:
    return support.takedown_create(
        case=w.target,
        support_file=w.support_file,
        actor=w.owner,
        addressee="platform",
        platform="telegram",
        target_url="https://t.me/target_marker_room/17",
        description="target takedown description marker",
        item_ids=[w.item.pk],
        **fields,
    )


def _support_records(w: World) -> None:
    w.support_file = support.support_file_open(case=w.target, person=w.victim, actor=w.owner)
    w.consent = support.consent_give(
        support_file=w.support_file, kind="share_hashes", actor=w.owner, given_by="victim"
    )
    w.draft = takedown_draft(w)
    w.sent = support.takedown_send(
        takedown=takedown_draft(w), actor=w.owner, sent_at=timezone.now() - timedelta(days=10)
    )  # overdue
    w.removed = support.takedown_mark_removed(
        takedown=support.takedown_send(takedown=takedown_draft(w), actor=w.owner), actor=w.owner
    )


def _detection_records(w: World) -> None:
    w.run, w.annotation = detection_rows(item=w.item, name="matrix-detector")
    w.job = ScanJob.objects.create(kind="manual", case=w.target, detector_name="pdq", requested_by=w.owner)
    w.bank = HashBank.objects.create(name="V-1 originals", kind="victim_originals", case=w.target)
    w.match, w.alert = bank_match(item=w.item, bank=w.bank, sha256=BANK_SHA256, recipient=w.owner)


def _procedure_records(w: World) -> None:
    """Korean procedure records: a scene confirmation H-001, a detailed list L-001, an unexhibited item to
    mark, and an item marked unrelated whose bytes the home case also holds (so that a return or deletion
    inside a rolled-back call keeps the bytes: crypto-erasure is not rolled back)."""
    w.procedure_item = stored_item(
        case=w.target, data=b"matrix unrelated", actor=w.owner, name="unrelated.txt"
    )
    shared_bytes = b"matrix unrelated, held by two cases"
    marked = stored_item(case=w.target, data=shared_bytes, actor=w.owner, name="marked.txt")
    stored_item(case=w.home, data=shared_bytes, actor=w.owner, name="home-copy.txt")
    (w.mark,) = unrelated_mark(case=w.target, actor=w.owner, item_ids=[marked.pk], reason="matrix")
    scene_confirmation_record(
        case=w.target,
        actor=w.owner,
        subject="matrix image",
        hashes=[{"name": "image.E01", "algorithm": "SHA-256", "value": "ab" * 32}],
        computed_by="matrix officer",
    )
    # The world is built once per module, outside the per-test settings of tests/conftest.py.
    with override_settings(HAETAE_ALLOW_DEVELOPMENT_SIGNER=True):
        seized_list_issue(acquisition=w.procedure_item.acquisition, actor=w.owner)


def destruction_records(w: World) -> None:
    """Destruction orders of three items made for them, under a court order (the target is open): D-001
    requested by the lead, D-002 authorised by ``target.supervisor``, D-003 executed and certified. Only the
    API and portal matrices add them (``world`` overridden there); the command matrix orders its own."""
    boss = w.target.members.get(user__username="target.supervisor").user
    w.destruction_items = [
        stored_item(case=w.target, data=f"matrix destruction {n}".encode(), actor=w.owner, name=f"d{n}.txt")
        for n in (1, 2, 3)
    ]
    orders = [
        destruction_order_request(
            case=w.target,
            actor=w.owner,
            item_ids=[one.pk],
            legal_basis="matrix court order",
            court_order="2024-GA-17",
        )
        for one in w.destruction_items
    ]
    for order in orders[1:]:
        destruction_order_authorise(order=order, actor=boss)
    destruction_order_witness(order=orders[2], actor=w.analyst)
    with override_settings(HAETAE_ALLOW_DEVELOPMENT_SIGNER=True):
        destruction_order_execute(order=orders[2], actor=w.owner)


def _exhibit_records(w: World) -> None:
    """E-001 shared (of ``shared_item``, the only item a prosecutor member sees), E-002 a draft of ``item``,
    E-003 approved (of ``source_item``); a queued report and a queued bundle of E-001."""
    w.shared_item = stored_item(
        case=w.target, data=jpeg_bytes("coffee", quality=70), actor=w.owner, name="target-shared-marker.jpg"
    )
    assert w.shared_item.blob is not None
    w.markers += [w.shared_item.blob.sha256, w.shared_item.blob.md5, w.shared_item.blob.sha1]
    boss: Any = UserFactory(username="target.supervisor")
    boss.groups.add(Group.objects.get(name="supervisor"))
    CaseMemberFactory(case=w.target, user=boss, role=CaseMemberRole.INVESTIGATOR)
    text = "Target exhibit description marker"
    shared = exhibit_create(case=w.target, item_ids=[w.shared_item.pk], description=text, actor=w.owner)
    exhibit_share(exhibit=exhibit_approve(exhibit=shared, actor=boss), actor=w.owner)
    draft = exhibit_create(case=w.target, item_ids=[w.item.pk], description=text, actor=w.owner)
    approved = exhibit_create(case=w.target, item_ids=[w.source_item.pk], description=text, actor=w.owner)
    exhibit_approve(exhibit=approved, actor=boss)
    w.exhibits = {"shared": shared, "draft": draft, "approved": approved}
    w.report = Report.objects.create(
        case=w.target, report_id="R-TARGET", version=1, scope=["E-001"], requested_by=w.owner
    )
    w.report.exhibits.set([shared])
    w.bundle = ExportBundle.objects.create(
        case=w.target, scope=["E-001"], recipient="prosecutor", requested_by=w.owner
    )
    w.bundle.exhibits.set([shared])


def by_role(allowed: set[str] | frozenset[str], yes: int, no: int) -> dict[str, int]:
    return {role: yes if role in allowed else no for role in ROLES}


def by_action(action: Action, yes: int, no: int) -> dict[str, int]:
    """``yes`` for the team roles ``POLICY`` lets take ``action``, ``no`` for the others."""
    return by_role(POLICY[action], yes, no)


def download(action: Action, *, yes: int) -> dict[str, int]:
    """A download: ``yes`` for who may take ``action``; 403 for who sees the row (``report_read``) but may
    not download it; 404 for who does not see the row at all."""
    return {
        role: yes if role in POLICY[action] else 403 if role in POLICY[Action.REPORT_READ] else 404
        for role in ROLES
    }


def expected_status(
    caller: str,
    role: str,
    *,
    member: int | dict[str, int],
    outsider: int | dict[str, int],
    admin: int | None,
    anonymous: int,
) -> int:
    """What a caller should get (the API matrix's ``Call``, the portal matrix's ``Visit``): ``member`` for a
    member of the target case, ``outsider`` for a member of another case only and (unless ``admin`` says
    otherwise) an administrator without a grant; each one status, or one per role."""
    if caller == "anonymous":
        return anonymous
    if caller == "admin":
        if admin is not None:
            return admin
        assert isinstance(outsider, int), "say what the admin gets when outsiders differ by role"
        return outsider
    if caller == "non_member":
        return outsider if isinstance(outsider, int) else outsider[role]
    return member if isinstance(member, int) else member[role]


NO_ID = 990_000  # an id no row of these tests reaches
CALLERS = [(caller, role) for role in ROLES for caller in ("member", "non_member")] + [
    ("anonymous", ""),
    ("admin", ""),
]


def caller_users(world: World) -> dict[tuple[str, str], Any]:
    """Every signed-in caller of ``CALLERS`` as a user: ``{role}.member`` on the target case's team,
    ``{role}.non_member`` on the home case's only, and an administrator without a grant."""
    users: dict[tuple[str, str], Any] = {}
    for caller, role in CALLERS:
        if caller == "anonymous":
            continue
        if caller == "admin":
            users[caller, role] = UserFactory(
                username="admin.without.grant", is_staff=True, is_superuser=True
            )
            continue
        user = UserFactory(username=f"{role}.{caller}")
        CaseMemberFactory(case=world.target if caller == "member" else world.home, user=user, role=role)
        users[caller, role] = user
    return users


def response_text(response: Any) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    headers = "\n".join(f"{k}: {v}" for k, v in response.items())
    return headers + "\n" + body.decode("utf-8", errors="replace")
