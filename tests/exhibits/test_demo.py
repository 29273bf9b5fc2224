"""manage.py demo: a whole demo case through the real services, once; a second run refuses and says why."""

import io
import json
import stat
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from access.models import Case
from detection.models import Annotation, MatchAlert
from evidence.models import Checkpoint, CustodyEvent, EvidenceItem
from exhibits.models import Exhibit
from parties.models import Channel, ItemChannelLink, ItemDerivationLink, ItemPersonLink, Person
from support.models import SupportFile, TakedownRequest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def seeded() -> None:
    """The offence table and role groups as the migrations seed them (an earlier transactional test's flush
    empties them)."""
    from django.apps import apps

    from access.seed import seed_all

    seed_all(apps)


@override_settings(HAETAE_REQUIRE_TOTP=True)
@pytest.mark.usefixtures("seeded")
def test_demo_loads_a_whole_case_once_and_refuses_a_second_time(data_dir: Path, eager: None) -> None:
    out = io.StringIO()
    call_command("demo", "--json", stdout=out, stderr=io.StringIO())
    result = json.loads(out.getvalue())
    case = Case.objects.get(number=result["case"])
    assert sorted(case.offences.values_list("code", flat=True)) == ["sc-14-2-create", "sc-14-2-distribute"]
    assert result["verified"] is True and result["exhibit"] == "E-001" and result["detection"] == "done"
    names = set(EvidenceItem.objects.filter(case=case).values_list("original_name", flat=True))
    assert {"astronaut.jpg", "coffee.jpg", "chelsea.jpg", "camera.jpg", "rocket.jpg"} <= names
    assert "demo-phone-export.zip" in names
    # Real detector runs: PDQ hashes and faces on the photographs.
    assert Annotation.objects.filter(item__case=case, label="pdq").count() == 6
    assert Annotation.objects.filter(item__case=case, label="face").exists()
    assert set(Person.objects.filter(case=case).values_list("pseudonym", flat=True)) == {"V-1", "S-1"}
    assert SupportFile.objects.filter(person__case=case, assigned_worker__username="demo-support").exists()
    assert Channel.objects.filter(case=case, handle="@demo_room").exists()
    assert ItemPersonLink.objects.filter(person__case=case).count() == 2
    assert ItemChannelLink.objects.filter(channel__case=case).exists()
    assert ItemDerivationLink.objects.filter(item__case=case).exists()
    assert Exhibit.objects.filter(case=case, number="E-001").exists()
    assert Checkpoint.objects.exists() and CustodyEvent.objects.filter(case=case, action="verified").exists()
    # The second case's original photograph matches: each lead is alerted.
    assert Case.objects.filter(number="DEMO-2026-0002").exists()
    assert MatchAlert.objects.filter(recipient__username="demo-lead", case=case).exists()
    assert TakedownRequest.objects.filter(support_file__person__case=case, status="sent").exists()
    roles = {a["username"]: a["case_role"] for a in result["accounts"]}
    assert roles["demo-auditor"] == "auditor" and roles["demo-admin"] is None
    assert TOTPDevice.objects.filter(user__username="demo-lead", confirmed=True).exists()
    accounts = Path(result["accounts_file"])
    assert stat.S_IMODE(accounts.stat().st_mode) == 0o600
    lead = next(a for a in result["accounts"] if a["username"] == "demo-lead")
    assert lead["password"] in accounts.read_text() and lead["totp_uri"].startswith("otpauth://")

    errors = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("demo", stdout=io.StringIO(), stderr=errors)
    assert exited.value.code == 1
    assert "already loaded" in errors.getvalue() and str(accounts) in errors.getvalue()
