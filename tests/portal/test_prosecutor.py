"""Prosecutor pages: their cases, only the exhibits shared with them and those exhibits' items, finished
reports and bundles covering nothing else, and the how-to-verify page in both languages."""

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from access.choices import CaseMemberRole, GlobalRole
from evidence import crypto
from exhibits import services
from exhibits.choices import ReportStatus
from exhibits.models import ExportBundle, Report
from tests.factories import Team, item, jpeg_bytes, team
from tests.factories import portal_client as _client
from tests.portal.browser import browser_sign_in
from tests.portal.conftest import screenshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared_case() -> dict[str, Any]:
    """A case with E-001 shared (coffee), E-002 approved but not shared (chelsea), an item in no exhibit."""
    t = team()
    coffee = item(t, jpeg_bytes("coffee", quality=40), name="coffee.jpg")
    chelsea = item(t, jpeg_bytes("chelsea", quality=40), name="chelsea.jpg")
    loose = item(t, jpeg_bytes("camera", quality=40), name="never-exhibited.jpg")
    boss = t.member(CaseMemberRole.INVESTIGATOR)
    boss.groups.add(Group.objects.get_or_create(name=GlobalRole.SUPERVISOR)[0])
    shared = services.exhibit_create(
        case=t.case, item_ids=[coffee.pk], description="Posted image", actor=t.lead
    )
    services.exhibit_approve(exhibit=shared, actor=boss)
    services.exhibit_share(exhibit=shared, actor=t.lead)
    kept = services.exhibit_create(
        case=t.case, item_ids=[chelsea.pk], description="Internal only", actor=t.lead
    )
    services.exhibit_approve(exhibit=kept, actor=boss)
    prosecutor = t.member(CaseMemberRole.PROSECUTOR)
    return {
        "t": t,
        "coffee": coffee,
        "chelsea": chelsea,
        "loose": loose,
        "shared": shared,
        "kept": kept,
        "prosecutor": prosecutor,
    }


def _job(model: Any, t: Team, exhibits: list[Any], tag: str = "", status: str = ReportStatus.DONE) -> Any:
    common = {
        "case": t.case,
        "requested_by": t.lead,
        "scope": [e.number for e in exhibits],
        "status": status,
        "sha256": "cd" * 32,
        "size": 1000,
    }
    row: Report | ExportBundle
    if model is Report:
        row = Report.objects.create(report_id=f"R-{tag}", version=1, **common)
    else:
        row = ExportBundle.objects.create(recipient="Prosecutor Han", **common)
    row.exhibits.set(exhibits)
    return row


def test_home_lists_only_cases_where_the_user_is_the_prosecutor(shared_case: dict[str, Any]) -> None:
    t, prosecutor = shared_case["t"], shared_case["prosecutor"]
    elsewhere = team()
    elsewhere.member(CaseMemberRole.INVESTIGATOR, user=prosecutor)
    html = _client(prosecutor).get(reverse("portal:prosecutor_home")).content.decode()
    assert reverse("portal:prosecutor_case", args=[t.case.number]) in html
    assert elsewhere.case.number not in html
    assert "<td>1</td>" in html  # one shared exhibit


def test_case_page_shows_only_shared_exhibits_and_their_items(shared_case: dict[str, Any]) -> None:
    t = shared_case["t"]
    page = _client(shared_case["prosecutor"]).get(reverse("portal:prosecutor_case", args=[t.case.number]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "E-001" in html and "Posted image" in html and "coffee.jpg" in html
    assert shared_case["coffee"].blob_id in html
    assert "E-002" not in html and "Internal only" not in html
    assert "chelsea.jpg" not in html and "never-exhibited.jpg" not in html
    assert shared_case["chelsea"].blob_id not in html and shared_case["loose"].blob_id not in html
    for tag in ("<img", "<video", "/content/", "/preview"):
        assert tag not in html


def test_reports_and_bundles_listed_only_when_finished_and_covering_shared_exhibits(
    shared_case: dict[str, Any],
) -> None:
    t, shared, kept = shared_case["t"], shared_case["shared"], shared_case["kept"]
    mine = _job(Report, t, [shared], tag="a")
    mixed = _job(Report, t, [shared, kept], tag="b")
    running = _job(Report, t, [shared], tag="c", status=ReportStatus.RUNNING)
    bundle = _job(ExportBundle, t, [shared])
    other_bundle = _job(ExportBundle, t, [kept])
    client = _client(shared_case["prosecutor"])
    html = client.get(reverse("portal:prosecutor_case", args=[t.case.number])).content.decode()
    assert reverse("portal:report_download", args=[t.case.number, mine.pk]) in html
    assert reverse("portal:report_download", args=[t.case.number, mixed.pk]) not in html
    assert reverse("portal:report_download", args=[t.case.number, running.pk]) not in html
    assert reverse("portal:bundle_download", args=[t.case.number, bundle.pk]) in html
    assert reverse("portal:bundle_download", args=[t.case.number, other_bundle.pk]) not in html
    # The same rule behind the report and bundle pages: what is not listed is not found.
    assert client.get(reverse("portal:report_detail", args=[t.case.number, mixed.pk])).status_code == 404
    assert (
        client.get(reverse("portal:bundle_detail", args=[t.case.number, other_bundle.pk])).status_code == 404
    )
    assert client.get(reverse("portal:report_detail", args=[t.case.number, mine.pk])).status_code == 200
    assert client.get(reverse("portal:exhibit_detail", args=[t.case.number, "E-002"])).status_code == 404
    assert client.get(reverse("portal:exhibit_detail", args=[t.case.number, "E-001"])).status_code == 200


def test_others_are_refused_the_prosecutor_view(shared_case: dict[str, Any]) -> None:
    t = shared_case["t"]
    lead = _client(t.lead).get(reverse("portal:prosecutor_case", args=[t.case.number]))
    assert lead.status_code == 403 and "exhibit pages" in lead.content.decode()
    stranger = _client(team().lead).get(reverse("portal:prosecutor_case", args=[t.case.number]))
    assert stranger.status_code == 404
    support = _client(t.member(CaseMemberRole.VICTIM_SUPPORT)).get(
        reverse("portal:prosecutor_case", args=[t.case.number])
    )
    assert support.status_code == 403


@pytest.mark.parametrize(("language", "heading"), [("en", "How to verify a report and an export bundle")])
def test_verify_page_names_the_public_tools(language: str, heading: str, shared_case: dict[str, Any]) -> None:
    client = _client(shared_case["prosecutor"])
    client.cookies["django_language"] = language
    html = client.get(reverse("portal:prosecutor_verify"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert heading in html
    for command in (
        "sha256sum report.pdf",
        "pdfsig report.pdf",
        "python -m evidence.bundle bundle.zip",
        "manage.py verify_bundle bundle.zip",
        "pdfdetach -list report.pdf",
        "--agency-cert agency.pem",
    ):
        assert command in html
    # The ledger key a bundle verifier is anchored by, with its key id to compare with the signed report.
    public_key = crypto.public_key_hex(crypto.ledger_signing_key().public_key())
    assert public_key in html and crypto.public_key_id(public_key) in html and "NOT anchored" in html
    korean = _client(shared_case["prosecutor"])
    korean.cookies["django_language"] = "ko"
    page = korean.get(reverse("portal:prosecutor_verify"))
    assert page.status_code == 200 and '<html lang="ko">' in page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_browser_prosecutor_sees_the_shared_exhibit_and_the_verify_page(
    page: Any, shared_case: dict[str, Any]
) -> None:
    t = shared_case["t"]
    browser_sign_in(page, shared_case["prosecutor"])
    page.goto(page.base + reverse("portal:prosecutor_home"))
    page.click(f"a[href='{reverse('portal:prosecutor_case', args=[t.case.number])}']")
    page.wait_for_selector("table.shared-items")
    assert page.locator("table.shared-items tbody tr").count() == 1
    assert "E-002" not in page.content()
    assert page.locator("img, video, picture, canvas, object").count() == 0
    screenshot(page, "prosecutor-case")
    page.goto(page.base + reverse("portal:prosecutor_verify"))
    screenshot(page, "prosecutor-verify")
