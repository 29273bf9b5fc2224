"""exhibits.services: numbering, items, the draft → pending → approved → shared → withdrawn lifecycle, who may
take each step, and the custody events each step writes in its own transaction."""

import json
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from access.choices import CaseMemberRole
from evidence.choices import CustodyAction, ItemStatus
from evidence.models import CustodyEvent, EvidenceItem
from exhibits import services as exhibits
from exhibits.choices import ExhibitStatus
from exhibits.models import Exhibit, ExhibitItem
from exhibits.services import (
    exhibit_approve,
    exhibit_create,
    exhibit_number,
    exhibit_request_approval,
    exhibit_share,
    exhibit_update,
    exhibit_withdraw,
    is_supervisor,
)
from haetae.errors import AccessDenied, NotFound, RejectedInput
from tests.evidence.test_ingest_crash import ACTOR, CASE_NUMBER, REPO, make_subprocess_env, run_django
from tests.factories import Team, custody_actions, exhibit_to, item, new_user, supervisor, team
from tests.processes import Forked, release_together

pytestmark = pytest.mark.django_db


def case_events(t: Team, action: str) -> list[CustodyEvent]:
    return list(CustodyEvent.objects.filter(case=t.case, item__isnull=True, action=action).order_by("seq"))


def item_events(one: EvidenceItem, action: str) -> list[CustodyEvent]:
    return list(CustodyEvent.objects.filter(item=one, action=action).order_by("seq"))


_made = {"n": 0}


def fresh_item(t: Team) -> EvidenceItem:
    """An item with bytes of its own (the same bytes twice in one case are one item)."""
    _made["n"] += 1
    return item(t, f"photo bytes {_made['n']}".encode())


def draft(t: Team, *items: EvidenceItem, actor: Any = None) -> Exhibit:
    return exhibit_create(
        case=t.case,
        item_ids=[i.pk for i in items] or [fresh_item(t).pk],
        description="Photos posted in the room",
        actor=actor or t.lead,
        opinion="The same face as V-1's reference photo",
    )


# --- numbering ---------------------------------------------------------------------------------------------


def test_numbers_run_e001_e002_and_widen_past_999() -> None:
    assert [exhibit_number(n) for n in (1, 2, 999, 1000)] == ["E-001", "E-002", "E-999", "E-1000"]
    t = team()
    first, second = draft(t), draft(t)
    assert (first.number, first.sequence, second.number, second.sequence) == ("E-001", 1, "E-002", 2)
    assert other_case_starts_at_one()


def other_case_starts_at_one() -> bool:
    return draft(team()).number == "E-001"


def test_a_withdrawn_exhibits_number_is_never_reused() -> None:
    t = team()
    first = draft(t)
    exhibit_withdraw(exhibit=first, actor=t.lead, reason="wrong item")
    second = draft(t)
    assert second.number == "E-002"
    assert Exhibit.objects.get(pk=first.pk).number == "E-001"  # the row and its number stay
    assert Exhibit.objects.filter(case=t.case).count() == 2


_ITEMS = """
from django.contrib.auth.models import User
from access.models import Case
from tests.factories import stored_item
case = Case.objects.get(number=CASE)
actor = User.objects.get(username=ACTOR)
print(",".join(str(stored_item(case=case, data=f"photo {n}".encode(), actor=actor).pk) for n in range(8)))
"""

_CREATE_AT = """
import sys, time
from pathlib import Path
from django.contrib.auth.models import User
from exhibits.services import exhibit_create
from access.models import Case
case = Case.objects.get(number=sys.argv[1])
actor = User.objects.get(username=sys.argv[2])
ready, go, ids = Path(sys.argv[3]), Path(sys.argv[4]), [int(i) for i in sys.argv[5].split(",")]
ready.touch()
while not go.exists():
    time.sleep(0.002)
for item_id in ids:
    print(exhibit_create(case=case, item_ids=[item_id], description="at once", actor=actor).number)
"""


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_exhibits_created_at_once_by_separate_processes_get_distinct_numbers(
    data_dir: Path, tmp_path: Path
) -> None:
    """Four processes (own connections, own transactions) draft two exhibits each of one case, starting
    together: E-001 … E-008, no gap, no duplicate, one exhibit_created event each."""
    env = make_subprocess_env(data_dir, tmp_path)
    code = _ITEMS.replace("CASE", repr(CASE_NUMBER)).replace("ACTOR", repr(ACTOR))
    ids = run_django(env, code).strip().split(",")
    prologue = "import django, os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'haetae.settings')\n"
    # The children start together: each says it is ready (Django set up), then waits for ``go``.
    ready, go = [tmp_path / f"ready-{n}" for n in range(4)], tmp_path / "go"
    children = [
        Forked(
            [
                "-c",
                prologue + "django.setup()\n" + _CREATE_AT,
                CASE_NUMBER,
                ACTOR,
                str(ready[n]),
                str(go),
                ",".join(ids[2 * n : 2 * n + 2]),
            ],
            env=env,
            cwd=REPO,
        )
        for n in range(4)
    ]
    release_together(children, ready, go)
    printed = []
    for child in children:
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0, err.decode()
        printed += out.decode().split()
    assert sorted(printed) == [f"E-00{n}" for n in range(1, 9)]
    state = json.loads(
        run_django(
            env,
            "import json\nfrom exhibits.models import Exhibit\nfrom evidence.models import CustodyEvent\n"
            "print(json.dumps({'numbers': sorted(Exhibit.objects.values_list('number', flat=True)),"
            " 'sequences': sorted(Exhibit.objects.values_list('sequence', flat=True)),"
            " 'events': CustodyEvent.objects.filter(action='exhibit_created').count(),"
            " 'exhibited': CustodyEvent.objects.filter(action='exhibited').count()}))",
        )
    )
    assert state == {
        "numbers": [f"E-00{n}" for n in range(1, 9)],
        "sequences": list(range(1, 9)),
        "events": 8,
        "exhibited": 8,
    }


# --- items -------------------------------------------------------------------------------------------------


def test_create_keeps_the_items_in_the_order_given_without_duplicates() -> None:
    t = team()
    a, b, c = item(t, b"a"), item(t, b"b"), item(t, b"c")
    exhibit = exhibit_create(
        case=t.case, item_ids=[c.pk, a.pk, c.pk, b.pk], description="  three photos  ", actor=t.lead
    )
    assert list(exhibit.exhibit_items.values_list("item_id", "position")) == [(c.pk, 0), (a.pk, 1), (b.pk, 2)]
    assert (exhibit.description, exhibit.status, exhibit.created_by) == ("three photos", "draft", t.lead)


def test_an_item_of_another_case_is_refused_by_its_id() -> None:
    t, other = team(), team()
    mine, foreign = item(t), item(other, b"elsewhere")
    with pytest.raises(RejectedInput, match=f"no evidence item {foreign.pk} in case {t.case.number}") as bad:
        exhibit_create(case=t.case, item_ids=[mine.pk, foreign.pk], description="d", actor=t.lead)
    assert bad.value.details == {"items": [f"no evidence item {foreign.pk} in case {t.case.number}"]}
    with pytest.raises(RejectedInput, match="no evidence item 987654"):
        exhibit_create(case=t.case, item_ids=[987654], description="d", actor=t.lead)
    assert not Exhibit.objects.exists()
    assert not CustodyEvent.objects.filter(action__startswith="exhibit").exists()


def test_a_rejected_item_is_refused_by_its_id() -> None:
    t = team()
    good = item(t)
    rejected = EvidenceItem.objects.create(
        case=t.case,
        acquisition=good.acquisition,
        status=ItemStatus.REJECTED,
        status_reason="unreadable archive member",
        original_name="broken.zip",
        acquired_by=t.lead,
    )
    with pytest.raises(RejectedInput, match=f"item {rejected.pk} has no stored content"):
        exhibit_create(case=t.case, item_ids=[good.pk, rejected.pk], description="d", actor=t.lead)
    assert not Exhibit.objects.exists()


def test_no_items_or_no_description_is_refused() -> None:
    t = team()
    with pytest.raises(RejectedInput, match="needs at least one evidence item") as bad:
        exhibit_create(case=t.case, item_ids=[], description="d", actor=t.lead)
    assert "items" in bad.value.details
    with pytest.raises(RejectedInput, match="describe the exhibit") as bad:
        exhibit_create(case=t.case, item_ids=[fresh_item(t).pk], description="   ", actor=t.lead)
    assert "description" in bad.value.details
    assert not Exhibit.objects.exists()


# --- who may draft -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["lead", "investigator"])
def test_leads_and_investigators_draft(role: str) -> None:
    t = team()
    author = t.lead if role == "lead" else t.member(role)
    assert draft(t, actor=author).created_by == author


@pytest.mark.parametrize("role", ["analyst", "prosecutor", "victim_support", "auditor"])
def test_other_roles_may_not_draft(role: str) -> None:
    t = team()
    one = item(t)
    with pytest.raises(AccessDenied, match=f"your role on case {t.case.number} is {role}"):
        draft(t, one, actor=t.member(role))
    assert not Exhibit.objects.exists()


def test_a_non_member_is_told_not_found() -> None:
    t = team()
    one = item(t)
    with pytest.raises(NotFound, match=f"no case {t.case.number} among your cases"):
        draft(t, one, actor=new_user())


# --- custody of creation -----------------------------------------------------------------------------------


def test_create_writes_a_case_event_and_an_exhibited_event_per_item() -> None:
    t = team()
    a, b = item(t, b"a"), item(t, b"b")
    exhibit = draft(t, a, b)
    [created] = case_events(t, CustodyAction.EXHIBIT_CREATED)
    assert created.details == {"exhibit": "E-001", "items": [a.pk, b.pk]}
    assert created.actor_id == t.lead.pk
    for one in (a, b):
        [event] = item_events(one, CustodyAction.EXHIBITED)
        assert event.details == {"exhibit": exhibit.number}


def test_a_failing_custody_write_rolls_the_exhibit_back(monkeypatch: pytest.MonkeyPatch) -> None:
    t = team()
    one = item(t)
    real = exhibits.custody_append_many

    def append_then_fail(specs: Any) -> Any:
        real(specs)  # the events are written…
        raise RuntimeError("disk full")  # …and the transaction fails after them

    monkeypatch.setattr(exhibits, "custody_append_many", append_then_fail)
    before = CustodyEvent.objects.count()
    with pytest.raises(RuntimeError):
        draft(t, one)
    assert not Exhibit.objects.exists() and not ExhibitItem.objects.exists()
    assert CustodyEvent.objects.count() == before


# --- editing -----------------------------------------------------------------------------------------------


def test_edit_a_draft_records_what_changed_and_items_in_and_out() -> None:
    t = team()
    a, b, c = item(t, b"a"), item(t, b"b"), item(t, b"c")
    exhibit = draft(t, a, b)
    changed = exhibit_update(
        exhibit=exhibit, actor=t.lead, description="Two photos", opinion=" mine ", item_ids=[b.pk, c.pk]
    )
    assert (changed.description, changed.opinion, changed.status) == ("Two photos", "mine", "draft")
    assert list(changed.exhibit_items.values_list("item_id", flat=True)) == [b.pk, c.pk]
    [event] = case_events(t, CustodyAction.EXHIBIT_CHANGED)
    assert event.details == {
        "exhibit": "E-001",
        "description": True,
        "opinion": True,
        "items": {"before": [a.pk, b.pk], "after": [b.pk, c.pk]},
    }
    assert [e.details["exhibit"] for e in item_events(a, CustodyAction.UNEXHIBITED)] == ["E-001"]
    assert len(item_events(c, CustodyAction.EXHIBITED)) == 1
    assert len(item_events(b, CustodyAction.EXHIBITED)) == 1  # stayed in: no second event


def test_an_edit_that_changes_nothing_writes_nothing() -> None:
    t = team()
    one = item(t)
    exhibit = draft(t, one)
    before = CustodyEvent.objects.count()
    exhibit_update(exhibit=exhibit, actor=t.lead, description=exhibit.description, item_ids=[one.pk])
    assert CustodyEvent.objects.count() == before


def test_editing_a_pending_exhibit_returns_it_to_draft() -> None:
    t = team()
    exhibit = exhibit_request_approval(exhibit=draft(t), actor=t.lead)
    assert exhibit.status == ExhibitStatus.PENDING
    changed = exhibit_update(exhibit=exhibit, actor=t.lead, opinion="a second look")
    assert changed.status == ExhibitStatus.DRAFT
    [event] = case_events(t, CustodyAction.EXHIBIT_CHANGED)
    assert event.details["returned_to_draft"] is True


@pytest.mark.parametrize("status", ["approved", "shared", "withdrawn"])
def test_approved_shared_and_withdrawn_exhibits_cannot_be_edited(status: str) -> None:
    t = team()
    exhibit = exhibit_to(t, [fresh_item(t)], status=status)
    before = CustodyEvent.objects.count()
    with pytest.raises(RejectedInput, match=f"exhibit E-001 is {status} and can no longer be edited"):
        exhibit_update(exhibit=exhibit, actor=t.lead, description="changed")
    assert Exhibit.objects.get(pk=exhibit.pk).description == "Photos posted in the room"
    assert CustodyEvent.objects.count() == before


def test_edit_refuses_an_empty_description_foreign_items_and_other_roles() -> None:
    t, other = team(), team()
    exhibit = draft(t)
    with pytest.raises(RejectedInput, match="description cannot be empty"):
        exhibit_update(exhibit=exhibit, actor=t.lead, description=" ")
    foreign = item(other, b"elsewhere")
    with pytest.raises(RejectedInput, match=f"no evidence item {foreign.pk}"):
        exhibit_update(exhibit=exhibit, actor=t.lead, item_ids=[foreign.pk])
    with pytest.raises(RejectedInput, match="at least one evidence item"):
        exhibit_update(exhibit=exhibit, actor=t.lead, item_ids=[])
    with pytest.raises(AccessDenied):
        exhibit_update(exhibit=exhibit, actor=t.member("analyst"), description="x")
    assert not case_events(t, CustodyAction.EXHIBIT_CHANGED)


def test_a_failing_custody_write_rolls_an_edit_back(monkeypatch: pytest.MonkeyPatch) -> None:
    t = team()
    a, b = item(t, b"a"), item(t, b"b")
    exhibit = draft(t, a)
    monkeypatch.setattr(exhibits, "custody_append_many", mock.Mock(side_effect=RuntimeError("disk full")))
    with pytest.raises(RuntimeError):
        exhibit_update(exhibit=exhibit, actor=t.lead, description="new", item_ids=[b.pk])
    fresh = Exhibit.objects.get(pk=exhibit.pk)
    assert fresh.description == "Photos posted in the room"
    assert list(fresh.exhibit_items.values_list("item_id", flat=True)) == [a.pk]


# --- asking for approval -----------------------------------------------------------------------------------


def test_request_approval_records_who_and_when() -> None:
    t = team()
    investigator = t.member("investigator")
    exhibit = exhibit_request_approval(exhibit=draft(t), actor=investigator)
    assert (exhibit.status, exhibit.approval_requested_by) == ("pending", investigator)
    assert exhibit.approval_requested_at is not None
    [event] = case_events(t, CustodyAction.EXHIBIT_APPROVAL_REQUESTED)
    assert (event.actor_id, event.details) == (investigator.pk, {"exhibit": "E-001"})


def test_only_a_draft_is_sent_for_approval_by_an_author_role() -> None:
    t = team()
    exhibit = exhibit_request_approval(exhibit=draft(t), actor=t.lead)
    with pytest.raises(RejectedInput, match="exhibit E-001 is pending: only a draft"):
        exhibit_request_approval(exhibit=exhibit, actor=t.lead)
    with pytest.raises(AccessDenied):
        exhibit_request_approval(exhibit=draft(t), actor=t.member("auditor"))
    assert len(case_events(t, CustodyAction.EXHIBIT_APPROVAL_REQUESTED)) == 1


# --- approval ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("via_pending", [False, True])
def test_a_supervisor_on_the_team_approves_a_draft_or_pending_exhibit(via_pending: bool) -> None:
    t = team()
    one = item(t)
    exhibit = draft(t, one)
    if via_pending:
        exhibit = exhibit_request_approval(exhibit=exhibit, actor=t.lead)
    boss = supervisor(t)
    assert is_supervisor(boss) and not is_supervisor(t.lead)
    approved = exhibit_approve(exhibit=exhibit, actor=boss, note="checked the hashes")
    assert (approved.status, approved.approved_by) == ("approved", boss)
    assert approved.approved_at is not None
    [event] = case_events(t, CustodyAction.EXHIBIT_APPROVED)
    assert (event.actor_id, event.purpose, event.details) == (
        boss.pk,
        "checked the hashes",
        {"exhibit": "E-001", "items": [one.pk]},
    )


def test_a_team_member_without_the_supervisor_role_may_not_approve() -> None:
    t = team()
    exhibit = draft(t)
    with pytest.raises(AccessDenied, match="only a supervisor approves exhibits"):
        exhibit_approve(exhibit=exhibit, actor=t.member("investigator"))
    assert Exhibit.objects.get(pk=exhibit.pk).status == "draft"
    assert not case_events(t, CustodyAction.EXHIBIT_APPROVED)


def test_a_supervisor_off_the_team_or_as_prosecutor_may_not_approve() -> None:
    t = team()
    exhibit = draft(t)
    off_team = new_user()
    off_team.groups.add(*supervisor(team()).groups.all())
    with pytest.raises(NotFound):
        exhibit_approve(exhibit=exhibit, actor=off_team)
    with pytest.raises(AccessDenied, match="is prosecutor"):
        exhibit_approve(exhibit=exhibit, actor=supervisor(t, role=CaseMemberRole.PROSECUTOR))
    assert not case_events(t, CustodyAction.EXHIBIT_APPROVED)


def test_nobody_approves_their_own_exhibit() -> None:
    t = team()
    boss = supervisor(t)
    exhibit = draft(t, actor=boss)
    with pytest.raises(AccessDenied, match="you drafted exhibit E-001; a different supervisor"):
        exhibit_approve(exhibit=exhibit, actor=boss)
    assert exhibit_approve(exhibit=exhibit, actor=supervisor(t)).status == "approved"


@pytest.mark.parametrize("status", ["approved", "shared", "withdrawn"])
def test_only_drafts_and_pending_exhibits_are_approved(status: str) -> None:
    t = team()
    exhibit = exhibit_to(t, [fresh_item(t)], status=status)
    with pytest.raises(RejectedInput, match=f"exhibit E-001 is {status}: only drafts and pending"):
        exhibit_approve(exhibit=exhibit, actor=supervisor(t))
    assert len(case_events(t, CustodyAction.EXHIBIT_APPROVED)) == 1


# --- sharing -----------------------------------------------------------------------------------------------


def test_the_lead_shares_an_approved_exhibit() -> None:
    t = team()
    one = item(t)
    exhibit = exhibit_to(t, [one], status="approved")
    shared = exhibit_share(exhibit=exhibit, actor=t.lead)
    assert (shared.status, shared.shared_by) == ("shared", t.lead)
    assert shared.shared_at is not None
    [event] = case_events(t, CustodyAction.EXHIBIT_SHARED)
    assert event.details == {"exhibit": "E-001", "items": [one.pk]}


@pytest.mark.parametrize("status", ["draft", "shared", "withdrawn"])
def test_only_an_approved_exhibit_is_shared(status: str) -> None:
    t = team()
    exhibit = exhibit_to(t, [fresh_item(t)], status=status)
    with pytest.raises(RejectedInput, match=f"exhibit E-001 is {status}: a supervisor approves"):
        exhibit_share(exhibit=exhibit, actor=t.lead)


def test_pending_is_not_shared_either() -> None:
    t = team()
    exhibit = exhibit_request_approval(exhibit=draft(t), actor=t.lead)
    with pytest.raises(RejectedInput, match="is pending"):
        exhibit_share(exhibit=exhibit, actor=t.lead)


@pytest.mark.parametrize("role", ["investigator", "analyst", "prosecutor", "auditor"])
def test_only_the_lead_shares(role: str) -> None:
    t = team()
    exhibit = exhibit_to(t, [fresh_item(t)], status="approved")
    with pytest.raises(AccessDenied, match="only members with the role lead may share exhibits"):
        exhibit_share(exhibit=exhibit, actor=t.member(role))
    assert Exhibit.objects.get(pk=exhibit.pk).status == "approved"


# --- withdrawal --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["draft", "approved", "shared"])
def test_withdraw_needs_a_reason_and_records_it(status: str) -> None:
    t = team()
    a, b = fresh_item(t), fresh_item(t)
    exhibit = exhibit_to(t, [a, b], status=status)
    with pytest.raises(RejectedInput, match="say why the exhibit is withdrawn") as bad:
        exhibit_withdraw(exhibit=exhibit, actor=t.lead, reason="  ")
    assert "reason" in bad.value.details
    withdrawn = exhibit_withdraw(exhibit=exhibit, actor=t.lead, reason="a better copy was seized")
    assert (withdrawn.status, withdrawn.withdrawn_by, withdrawn.withdrawn_reason) == (
        "withdrawn",
        t.lead,
        "a better copy was seized",
    )
    [event] = case_events(t, CustodyAction.EXHIBIT_WITHDRAWN)
    assert (event.purpose, event.details) == (
        "a better copy was seized",
        {"exhibit": "E-001", "from": status},
    )
    # Each item's own chain shows it left the exhibit, and why.
    for one in (a, b):
        [out] = item_events(one, CustodyAction.UNEXHIBITED)
        assert (out.purpose, out.details) == (
            "a better copy was seized",
            {"exhibit": "E-001", "withdrawn": True},
        )


def test_withdrawing_twice_or_by_another_role_is_refused() -> None:
    t = team()
    exhibit = exhibit_to(t, [fresh_item(t)], status="withdrawn")
    with pytest.raises(RejectedInput, match="already withdrawn"):
        exhibit_withdraw(exhibit=exhibit, actor=t.lead, reason="again")
    other = draft(t)
    with pytest.raises(AccessDenied, match="may withdraw exhibits"):
        exhibit_withdraw(exhibit=other, actor=t.member("investigator"), reason="r")
    assert len(case_events(t, CustodyAction.EXHIBIT_WITHDRAWN)) == 1


@pytest.mark.parametrize(
    ("step", "action"),
    [
        (lambda t, e: exhibit_request_approval(exhibit=e, actor=t.lead), "exhibit_approval_requested"),
        (lambda t, e: exhibit_approve(exhibit=e, actor=t.boss), "exhibit_approved"),
        (lambda t, e: exhibit_withdraw(exhibit=e, actor=t.lead, reason="r"), "exhibit_withdrawn"),
    ],
)
def test_a_failing_custody_write_rolls_each_step_back(
    monkeypatch: pytest.MonkeyPatch, step: Any, action: str
) -> None:
    t = team()
    t.boss = supervisor(t)  # type: ignore[attr-defined]
    exhibit = draft(t)
    monkeypatch.setattr(exhibits, "custody_append_many", mock.Mock(side_effect=RuntimeError("disk full")))
    with pytest.raises(RuntimeError):
        step(t, exhibit)
    fresh = Exhibit.objects.get(pk=exhibit.pk)
    assert fresh.status == "draft"
    assert fresh.approval_requested_by is None and fresh.approved_by is None and fresh.withdrawn_by is None
    assert not case_events(t, action)


def test_a_failing_custody_write_rolls_sharing_back(monkeypatch: pytest.MonkeyPatch) -> None:
    t = team()
    exhibit = exhibit_to(t, [fresh_item(t)], status="approved")
    monkeypatch.setattr(exhibits, "custody_append_many", mock.Mock(side_effect=RuntimeError("disk full")))
    with pytest.raises(RuntimeError):
        exhibit_share(exhibit=exhibit, actor=t.lead)
    assert Exhibit.objects.get(pk=exhibit.pk).status == "approved"
    assert not case_events(t, CustodyAction.EXHIBIT_SHARED)


def test_every_step_chains_into_the_ledger_in_order() -> None:
    t = team()
    one = item(t)
    exhibit = draft(t, one)
    exhibit = exhibit_request_approval(exhibit=exhibit, actor=t.lead)
    exhibit = exhibit_approve(exhibit=exhibit, actor=supervisor(t))
    exhibit = exhibit_share(exhibit=exhibit, actor=t.lead)
    exhibit_withdraw(exhibit=exhibit, actor=t.lead, reason="r")
    actions = custody_actions(case=t.case, action__startswith="exhibit_")
    assert actions == [
        "exhibit_created",
        "exhibit_approval_requested",
        "exhibit_approved",
        "exhibit_shared",
        "exhibit_withdrawn",
    ]
