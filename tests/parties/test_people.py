"""People: race-free pseudonyms, the sealed identity store and who may read it, suspects' accounts."""

import json
from pathlib import Path

import pytest

from access.services import case_status_change
from evidence.models import CustodyEvent
from haetae.errors import AccessDenied, IntegrityFailure, RejectedInput
from parties.models import Person, PersonAccount
from parties.services.people import (
    Identity,
    identity_open,
    identity_read,
    identity_set,
    person_account_add,
    person_record,
    person_update,
)
from tests.evidence.test_ingest_crash import ACTOR, CASE_NUMBER, REPO, make_subprocess_env, run_django
from tests.factories import IDENTITY, assign_worker, new_user, suspect, team, victim
from tests.processes import Forked, release_together

pytestmark = pytest.mark.django_db


def test_pseudonyms_count_per_case_and_kind() -> None:
    t, other = team(), team()
    made = [
        person_record(case=t.case, kind=kind, actor=t.lead)
        for kind in ["victim", "victim", "suspect", "witness", "victim", "other", "suspect"]
    ]
    assert [p.pseudonym for p in made] == ["V-1", "V-2", "S-1", "W-1", "V-3", "P-1", "S-2"]
    assert victim(other).pseudonym == "V-1"  # numbering is per case
    event = CustodyEvent.objects.filter(case=t.case, action="person_recorded").first()
    assert event is not None and event.item_id is None
    assert event.details == {
        "person": "V-1",
        "person_id": made[0].pk,
        "kind": "victim",
        "is_minor": False,
        "identity_fields": [],
    }


def test_unknown_kind_is_refused() -> None:
    t = team()
    with pytest.raises(RejectedInput, match="not a kind of person") as raised:
        person_record(case=t.case, kind="bystander", actor=t.lead)
    assert "kind" in raised.value.details
    assert not Person.objects.exists()


def test_closed_cases_take_no_new_people() -> None:
    t = team()
    case_status_change(case=t.case, actor=t.lead, status="closed", reason="done")
    t.case.refresh_from_db()
    with pytest.raises(RejectedInput, match="reopen it"):
        person_record(case=t.case, kind="victim", actor=t.lead)


_RECORD_AT = """
import sys, time
from pathlib import Path
from django.contrib.auth.models import User
from access.models import Case
from parties.services.people import person_record
case = Case.objects.get(number=sys.argv[1])
actor = User.objects.get(username=sys.argv[2])
ready, go = Path(sys.argv[3]), Path(sys.argv[4])
ready.touch()
while not go.exists():
    time.sleep(0.002)
for _ in range(5):
    person_record(case=case, kind="victim", actor=actor)
"""


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_pseudonyms_stay_unique_when_processes_record_people_at_once(data_dir: Path, tmp_path: Path) -> None:
    """Four processes record five victims each, starting together: V-1 … V-20, no gap, no duplicate."""
    env = make_subprocess_env(data_dir, tmp_path)
    prologue = "import django, os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'haetae.settings')\n"
    # The children start together: each says it is ready (Django set up), then waits for ``go``.
    ready, go = [tmp_path / f"ready-{n}" for n in range(4)], tmp_path / "go"
    children = [
        Forked(
            ["-c", prologue + "django.setup()\n" + _RECORD_AT, CASE_NUMBER, ACTOR, str(ready[n]), str(go)],
            env=env,
            cwd=REPO,
        )
        for n in range(4)
    ]
    release_together(children, ready, go)
    for child in children:
        _, err = child.communicate(timeout=300)
        assert child.returncode == 0, err.decode()
    state = json.loads(
        run_django(
            env,
            "import json\nfrom parties.models import Person\nfrom evidence.models import CustodyEvent\n"
            "print(json.dumps({'people': sorted(Person.objects.values_list('pseudonym_number', flat=True)),"
            " 'names': sorted(Person.objects.values_list('pseudonym', flat=True)),"
            " 'events': CustodyEvent.objects.filter(action='person_recorded').count()}))",
        )
    )
    assert state["people"] == list(range(1, 21))
    assert len(set(state["names"])) == 20
    assert state["events"] == 20


def test_identity_is_sealed_at_rest_and_bound_to_the_person() -> None:
    t = team()
    first = victim(t, identity=IDENTITY)
    raw = bytes(Person.objects.get(pk=first.pk).identity_ciphertext)
    for secret in ["김지수", "2008-03-14", "010-1234-5678", "@jisu.kim"]:
        assert secret.encode() not in raw
    assert identity_open(person=first) == IDENTITY
    event = CustodyEvent.objects.get(case=t.case, action="person_recorded")
    assert event.details["identity_fields"] == ["name", "birth_date", "contact", "identifiers"]
    assert "김지수" not in str(event.details)

    # The same ciphertext moved onto another person fails its tag: the person is associated data.
    second = victim(t)
    Person.objects.filter(pk=second.pk).update(identity_ciphertext=raw, identity_key_id=first.identity_key_id)
    with pytest.raises(IntegrityFailure, match="authentication tag"):
        identity_open(person=Person.objects.get(pk=second.pk))
    # And a flipped bit is caught too.
    tampered = bytearray(raw)
    tampered[-1] ^= 1
    Person.objects.filter(pk=first.pk).update(identity_ciphertext=bytes(tampered))
    with pytest.raises(IntegrityFailure):
        identity_open(person=Person.objects.get(pk=first.pk))


def test_identity_fields_are_validated() -> None:
    with pytest.raises(RejectedInput, match="YYYY-MM-DD"):
        Identity.from_json({"birth_date": "14/03/2008"})
    with pytest.raises(RejectedInput, match="not an identity field"):
        Identity.from_json({"address": "Seoul"})
    with pytest.raises(RejectedInput, match="identifier"):
        Identity.from_json({"identifiers": [{"value": "no kind"}]})


def _read(person: Person, user) -> Identity:
    return identity_read(person=person, actor=user, reason="contacting the victim about a takedown")


def test_identity_access_rule() -> None:
    """Lead yes; the victim's assigned support worker yes; another support worker, investigator, admin no."""
    t = team()
    person = victim(t, identity=IDENTITY)
    assigned = t.member("victim_support")
    other_worker = t.member("victim_support")
    investigator = t.member("investigator")
    admin = new_user(is_superuser=True, is_staff=True)
    admin_on_team = t.member("auditor", user=new_user(is_superuser=True, is_staff=True))
    assign_worker(person, assigned)

    assert _read(person, t.lead) == IDENTITY
    assert _read(person, assigned) == IDENTITY
    for refused in [
        other_worker,
        investigator,
        admin,
        admin_on_team,
        t.member("analyst"),
        t.member("prosecutor"),
    ]:
        with pytest.raises(AccessDenied, match="pseudonym"):
            _read(person, refused)
    reads = CustodyEvent.objects.filter(case=t.case, action="identity_read").order_by("seq")
    assert [(e.actor_id, e.actor_role, e.purpose) for e in reads] == [
        (t.lead.pk, "lead", "contacting the victim about a takedown"),
        (assigned.pk, "victim_support", "contacting the victim about a takedown"),
    ]
    assert all(e.details == {"person": "V-1", "person_id": person.pk, "kind": "victim"} for e in reads)


def test_an_assigned_worker_off_the_team_reads_nothing() -> None:
    t = team()
    person = victim(t, identity=IDENTITY)
    assign_worker(person, new_user())  # assigned, but not a member of the case
    with pytest.raises(AccessDenied):
        _read(person, person.support_file.assigned_worker)


def test_a_suspects_identity_is_for_the_lead_only() -> None:
    t = team()
    person = person_record(case=t.case, kind="suspect", actor=t.lead, identity=Identity(name="박민수"))
    worker = t.member("victim_support")
    assign_worker(person, worker)  # a support file on a suspect grants nothing
    assert _read(person, t.lead).name == "박민수"
    with pytest.raises(AccessDenied):
        _read(person, worker)


def test_an_identity_read_needs_a_reason_and_logs_nothing_without_one() -> None:
    t = team()
    person = victim(t, identity=IDENTITY)
    with pytest.raises(RejectedInput, match="say why"):
        identity_read(person=person, actor=t.lead, reason="   ")
    assert not CustodyEvent.objects.filter(action="identity_read").exists()


def test_investigators_record_identities_but_cannot_read_them_back() -> None:
    t = team()
    person = victim(t)
    investigator = t.member("investigator")
    updated = identity_set(
        person=person, identity=IDENTITY, actor=investigator, reason="victim statement taken"
    )
    assert updated.has_identity
    with pytest.raises(AccessDenied):
        _read(updated, investigator)
    assert _read(updated, t.lead) == IDENTITY
    event = CustodyEvent.objects.get(case=t.case, action="identity_changed")
    assert event.details["fields"] == ["name", "birth_date", "contact", "identifiers"]
    assert "김지수" not in str(event.details)
    for refused in [t.member("analyst"), t.member("victim_support")]:
        with pytest.raises(AccessDenied, match="change"):
            identity_set(person=updated, identity=Identity(name="x"), actor=refused, reason="r")
    assert identity_open(person=Person.objects.get(pk=person.pk)) == IDENTITY


def test_clearing_an_identity_removes_the_ciphertext() -> None:
    t = team()
    person = victim(t, identity=IDENTITY)
    cleared = identity_set(person=person, identity=Identity(), actor=t.lead, reason="recorded in error")
    assert not cleared.has_identity and cleared.identity_key_id == ""


def test_person_update_logs_the_minor_flag() -> None:
    t = team()
    person = victim(t)
    person_update(person=person, actor=t.lead, changes={"is_minor": True})
    assert Person.objects.get(pk=person.pk).is_minor
    event = CustodyEvent.objects.filter(action="person_recorded").order_by("-seq").first()
    assert event is not None and event.details["changed"] == {"is_minor": {"from": False, "to": True}}
    with pytest.raises(RejectedInput, match="cannot be changed here"):
        person_update(person=person, actor=t.lead, changes={"kind": "suspect"})


def test_suspects_known_accounts() -> None:
    t = team()
    person = suspect(t)
    account = person_account_add(person=person, platform="telegram", handle="@uploader", actor=t.lead)
    assert account.handle == "@uploader"
    with pytest.raises(RejectedInput, match="already recorded"):
        person_account_add(person=person, platform="telegram", handle="@uploader", actor=t.lead)
    with pytest.raises(RejectedInput, match="not a platform"):
        person_account_add(person=person, platform="myspace", handle="x", actor=t.lead)
    with pytest.raises(RejectedInput, match="identity store"):
        person_account_add(person=victim(t), platform="instagram", handle="@v", actor=t.lead)
    assert PersonAccount.objects.count() == 1
    event = CustodyEvent.objects.filter(action="person_recorded", details__has_key="account_added").get()
    assert event.details["account_added"]["handle"] == "@uploader"
