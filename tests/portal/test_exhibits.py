"""Exhibit pages: list, create with chosen items, edit while draft, the approval steps, withdraw; report and
bundle progress panels (read from their rows); who sees which buttons, and that the services still decide."""

import base64
import re
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from access.choices import CaseMemberRole, GlobalRole
from evidence.choices import CustodyAction, ItemStatus
from evidence.models import CustodyEvent, EvidenceItem
from exhibits import services
from exhibits.choices import ExhibitStatus, ReportStatus
from exhibits.models import Exhibit, Report
from portal.forms_exhibits import x25519_public_key
from tests.factories import Team, item, jpeg_bytes, new_user, team
from tests.factories import portal_client as client_for
from tests.portal.browser import browser_sign_in
from tests.portal.conftest import screenshot

pytestmark = pytest.mark.django_db


def supervisor(t: Team) -> User:
    user = t.member(CaseMemberRole.INVESTIGATOR)
    group, _ = Group.objects.get_or_create(name=GlobalRole.SUPERVISOR)
    user.groups.add(group)
    return user


def url(name: str, t: Team, *args: Any) -> str:
    return reverse(f"portal:{name}", args=[t.case.number, *args])


@pytest.fixture
def setup() -> dict[str, Any]:
    t = team()
    photos = [
        item(t, jpeg_bytes(name, quality=50), name=f"{name}.jpg") for name in ("coffee", "chelsea", "camera")
    ]
    return {"t": t, "photos": photos, "investigator": t.member(CaseMemberRole.INVESTIGATOR)}


def test_list_shows_exhibits_with_status_and_only_authors_get_the_new_button(setup: dict[str, Any]) -> None:
    t, photos = setup["t"], setup["photos"]
    services.exhibit_create(case=t.case, item_ids=[photos[0].pk], description="Shared photo", actor=t.lead)
    page = client_for(setup["investigator"]).get(url("exhibit_list", t))
    html = page.content.decode()
    assert page.status_code == 200
    assert "E-001" in html and "status-draft" in html and url("exhibit_create", t) in html
    auditor = client_for(t.member(CaseMemberRole.AUDITOR)).get(url("exhibit_list", t)).content.decode()
    assert "E-001" in auditor and url("exhibit_create", t) not in auditor


def test_victim_support_strangers_and_prosecutors_do_not_get_the_investigators_pages(
    setup: dict[str, Any],
) -> None:
    t = setup["t"]
    refused = client_for(t.member(CaseMemberRole.VICTIM_SUPPORT)).get(url("exhibit_list", t))
    assert refused.status_code == 403 and "support pages" in refused.content.decode()
    assert client_for(new_user()).get(url("exhibit_list", t)).status_code == 404
    prosecutor = client_for(t.member(CaseMemberRole.PROSECUTOR)).get(url("exhibit_list", t))
    assert prosecutor.status_code == 302
    assert prosecutor["Location"] == reverse("portal:prosecutor_case", args=[t.case.number])
    anonymous = Client().get(url("exhibit_list", t))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")


def test_create_with_chosen_items_records_the_custody_events(setup: dict[str, Any]) -> None:
    t, photos, investigator = setup["t"], setup["photos"], setup["investigator"]
    client = client_for(investigator)
    form = client.get(url("exhibit_create", t) + f"?items={photos[1].pk},{photos[0].pk}")
    html = form.content.decode()
    assert form.status_code == 200
    assert html.index(f'id="chosen-{photos[1].pk}"') < html.index(f'id="chosen-{photos[0].pk}"')
    assert reverse("evidence-api:evidence-preview", args=[photos[0].pk]) in html  # blurred by default
    assert "blur=0" not in html
    response = client.post(
        url("exhibit_create", t),
        {
            "items": [str(photos[1].pk), str(photos[0].pk)],
            "description": "Two posted images",
            "opinion": "Same room",
        },
    )
    exhibit = Exhibit.objects.get(case=t.case)
    assert response.status_code == 302 and response["Location"] == url("exhibit_detail", t, "E-001")
    assert list(exhibit.exhibit_items.values_list("item_id", flat=True)) == [photos[1].pk, photos[0].pk]
    assert (exhibit.description, exhibit.opinion, exhibit.created_by) == (
        "Two posted images",
        "Same room",
        investigator,
    )
    assert CustodyEvent.objects.filter(action=CustodyAction.EXHIBIT_CREATED, case=t.case).count() == 1
    assert set(
        CustodyEvent.objects.filter(action=CustodyAction.EXHIBITED).values_list("item_id", flat=True)
    ) == {
        photos[0].pk,
        photos[1].pk,
    }


def test_create_refusals_say_what_to_fix(setup: dict[str, Any]) -> None:
    t, photos = setup["t"], setup["photos"]
    other = team()
    foreign = item(other, jpeg_bytes("coffee", quality=30), name="foreign.jpg")
    client = client_for(setup["investigator"])
    no_items = client.post(url("exhibit_create", t), {"description": "Nothing"})
    assert no_items.status_code == 400 and "at least one evidence item" in no_items.content.decode()
    no_description = client.post(url("exhibit_create", t), {"items": [str(photos[0].pk)], "description": ""})
    assert no_description.status_code == 400
    assert f'id="chosen-{photos[0].pk}"' in no_description.content.decode()  # the choice is kept
    other_case = client.post(url("exhibit_create", t), {"items": [str(foreign.pk)], "description": "x"})
    assert other_case.status_code == 400 and f"no evidence item {foreign.pk}" in other_case.content.decode()
    garbage = client.post(url("exhibit_create", t), {"items": ["12; DROP"], "description": "x"})
    assert garbage.status_code == 400
    auditor = client_for(t.member(CaseMemberRole.AUDITOR))
    refused = auditor.post(url("exhibit_create", t), {"items": [str(photos[0].pk)], "description": "x"})
    assert refused.status_code == 403 and "only members with the role" in refused.content.decode()
    assert not Exhibit.objects.exists()


def test_item_search_finds_by_id_or_name_and_only_stored_items_of_the_case(setup: dict[str, Any]) -> None:
    t, photos = setup["t"], setup["photos"]
    other = team()
    item(other, jpeg_bytes("coffee", quality=30), name="coffee-elsewhere.jpg")
    EvidenceItem.objects.filter(pk=photos[2].pk).update(status=ItemStatus.REJECTED)
    client = client_for(setup["investigator"])
    by_name = client.get(
        url("exhibit_item_search", t), {"q": "coffee"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert f'value="{photos[0].pk}"' in by_name and "coffee-elsewhere" not in by_name
    assert (
        'class="thumb" src="' + reverse("evidence-api:evidence-preview", args=[photos[0].pk]) + '"' in by_name
    )
    by_id = client.get(url("exhibit_item_search", t), {"q": str(photos[1].pk)}).content.decode()
    assert f'value="{photos[1].pk}"' in by_id and f'value="{photos[0].pk}"' not in by_id
    everything = client.get(url("exhibit_item_search", t)).content.decode()
    assert f'value="{photos[2].pk}"' not in everything  # rejected: cannot be an exhibit
    for role in (CaseMemberRole.AUDITOR, CaseMemberRole.PROSECUTOR, CaseMemberRole.VICTIM_SUPPORT):
        reader = client_for(t.member(role))
        refused = reader.get(url("exhibit_item_search", t), {"q": "coffee"})
        assert refused.status_code == 403 and "coffee.jpg" not in refused.content.decode()
        assert reader.get(url("exhibit_create", t)).status_code == 403


def test_exhibit_page_shows_previews_only_to_roles_that_receive_them(setup: dict[str, Any]) -> None:
    t, photos = setup["t"], setup["photos"]
    services.exhibit_create(case=t.case, item_ids=[photos[0].pk], description="x", actor=t.lead)
    preview = reverse("evidence-api:evidence-preview", args=[photos[0].pk])
    assert (
        preview in client_for(setup["investigator"]).get(url("exhibit_detail", t, "E-001")).content.decode()
    )
    audited = (
        client_for(t.member(CaseMemberRole.AUDITOR)).get(url("exhibit_detail", t, "E-001")).content.decode()
    )
    assert "<img" not in audited and "/preview" not in audited and photos[0].blob_id in audited


def test_edit_while_draft_then_final_once_approved(setup: dict[str, Any]) -> None:
    t, photos, investigator = setup["t"], setup["photos"], setup["investigator"]
    exhibit = services.exhibit_create(
        case=t.case, item_ids=[photos[0].pk], description="First", actor=investigator
    )
    client = client_for(investigator)
    edit_page = client.get(url("exhibit_edit", t, "E-001")).content.decode()
    assert f'id="chosen-{photos[0].pk}" checked' in edit_page and "First" in edit_page
    saved = client.post(
        url("exhibit_edit", t, "E-001"),
        {"items": [str(photos[0].pk), str(photos[1].pk)], "description": "First, with the second copy"},
    )
    assert saved.status_code == 302
    exhibit.refresh_from_db()
    assert exhibit.description == "First, with the second copy" and exhibit.items.count() == 2
    services.exhibit_approve(exhibit=exhibit, actor=supervisor(t))
    detail = client.get(url("exhibit_detail", t, "E-001")).content.decode()
    assert url("exhibit_edit", t, "E-001") not in detail
    late = client.post(
        url("exhibit_edit", t, "E-001"), {"items": [str(photos[0].pk)], "description": "Changed"}
    )
    assert late.status_code == 400 and "can no longer be edited" in late.content.decode()


def _buttons(html: str) -> set[str]:
    return set(re.findall(r'action="/cases/[^/]+/exhibits/E-001/([a-z-]+)/"', html))


def test_approval_steps_and_who_sees_which_button(setup: dict[str, Any]) -> None:
    t, photos, investigator = setup["t"], setup["photos"], setup["investigator"]
    boss = supervisor(t)
    services.exhibit_create(
        case=t.case, item_ids=[photos[0].pk], description="Posted image", actor=investigator
    )
    author = client_for(investigator)
    assert _buttons(author.get(url("exhibit_detail", t, "E-001")).content.decode()) == {"request-approval"}
    assert author.post(url("exhibit_request_approval", t, "E-001")).status_code == 302
    assert Exhibit.objects.get().status == ExhibitStatus.PENDING
    # The author is not a supervisor: no approve button, and the service refuses the POST anyway.
    refused = author.post(url("exhibit_approve", t, "E-001"))
    assert refused.status_code == 403 and "only a supervisor approves" in refused.content.decode()
    approver = client_for(boss)
    assert "approve" in _buttons(approver.get(url("exhibit_detail", t, "E-001")).content.decode())
    assert approver.post(url("exhibit_approve", t, "E-001"), {"note": "checked hashes"}).status_code == 302
    exhibit = Exhibit.objects.get()
    assert exhibit.status == ExhibitStatus.APPROVED and exhibit.approved_by == boss
    event = CustodyEvent.objects.get(action=CustodyAction.EXHIBIT_APPROVED)
    assert event.purpose == "checked hashes"
    # Share: the lead only.
    assert "share" not in _buttons(author.get(url("exhibit_detail", t, "E-001")).content.decode())
    assert author.post(url("exhibit_share", t, "E-001")).status_code == 403
    lead = client_for(t.lead)
    assert {"share", "withdraw"} <= _buttons(lead.get(url("exhibit_detail", t, "E-001")).content.decode())
    assert lead.post(url("exhibit_share", t, "E-001")).status_code == 302
    assert Exhibit.objects.get().status == ExhibitStatus.SHARED
    history = lead.get(url("exhibit_detail", t, "E-001")).content.decode()
    for action in ("exhibit_created", "exhibit_approval_requested", "exhibit_approved", "exhibit_shared"):
        label = CustodyAction(action).label
        assert str(label) in history


def test_a_supervisor_never_approves_their_own_exhibit(setup: dict[str, Any]) -> None:
    t, photos = setup["t"], setup["photos"]
    boss = supervisor(t)
    services.exhibit_create(case=t.case, item_ids=[photos[0].pk], description="Mine", actor=boss)
    client = client_for(boss)
    assert "approve" not in _buttons(client.get(url("exhibit_detail", t, "E-001")).content.decode())
    refused = client.post(url("exhibit_approve", t, "E-001"))
    assert refused.status_code == 403 and "four eyes" in refused.content.decode()
    assert Exhibit.objects.get().status == ExhibitStatus.DRAFT


def test_withdraw_needs_a_reason_which_goes_on_record(setup: dict[str, Any]) -> None:
    t, photos = setup["t"], setup["photos"]
    services.exhibit_create(case=t.case, item_ids=[photos[0].pk], description="To withdraw", actor=t.lead)
    lead = client_for(t.lead)
    no_reason = lead.post(url("exhibit_withdraw", t, "E-001"), {"reason": "  "})
    assert no_reason.status_code == 400 and "say why" in no_reason.content.decode()
    assert lead.post(url("exhibit_withdraw", t, "E-001"), {"reason": "duplicate of E-002"}).status_code == 302
    exhibit = Exhibit.objects.get()
    assert exhibit.status == ExhibitStatus.WITHDRAWN and exhibit.withdrawn_reason == "duplicate of E-002"
    assert CustodyEvent.objects.get(action=CustodyAction.EXHIBIT_WITHDRAWN).purpose == "duplicate of E-002"
    page = lead.get(url("exhibit_detail", t, "E-001")).content.decode()
    assert "duplicate of E-002" in page and "withdraw" not in _buttons(page)
    assert lead.get(url("exhibit_detail", t, "e-001")).status_code == 200  # numbers are case-blind


def _report(t: Team, exhibit: Exhibit, **fields: Any) -> Report:
    report = Report.objects.create(
        case=t.case,
        report_id=f"R-{t.case.number}",
        version=Report.objects.filter(case=t.case).count() + 1,
        requested_by=t.lead,
        scope=[exhibit.number],
        **fields,
    )
    report.exhibits.add(exhibit)
    return report


def test_report_progress_is_polled_until_done_then_offers_the_download(setup: dict[str, Any]) -> None:
    t, photos = setup["t"], setup["photos"]
    exhibit = services.exhibit_create(case=t.case, item_ids=[photos[0].pk], description="x", actor=t.lead)
    report = _report(t, exhibit, status=ReportStatus.RUNNING, progress=40)
    client = client_for(t.lead)
    panel = client.get(url("report_detail", t, report.pk), HTTP_HX_REQUEST="true").content.decode()
    assert 'value="40"' in panel and 'hx-trigger="every 1s"' in panel and "report-download" not in panel
    Report.objects.filter(pk=report.pk).update(
        status=ReportStatus.DONE,
        progress=100,
        sha256="ab" * 32,
        size=2048,
        page_count=7,
        development_signer=True,
    )
    done = client.get(url("report_detail", t, report.pk), HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in done and 'value="100"' in done
    assert url("report_download", t, report.pk) in done and "ab" * 32 in done
    assert "not for court" in done
    Report.objects.filter(pk=report.pk).update(
        status=ReportStatus.FAILED, error="PII scan: V-1's name appears"
    )
    failed = client.get(url("report_detail", t, report.pk)).content.decode()
    assert "PII scan: V-1&#x27;s name appears" in failed and "report-download" not in failed
    listing = client.get(url("exhibit_list", t)).content.decode()
    assert url("report_detail", t, report.pk) in listing


def test_report_form_is_offered_to_lead_and_investigators_only(setup: dict[str, Any]) -> None:
    t, photos = setup["t"], setup["photos"]
    services.exhibit_create(case=t.case, item_ids=[photos[0].pk], description="x", actor=t.lead)
    assert url("report_create", t) in client_for(t.lead).get(url("exhibit_list", t)).content.decode()
    analyst = client_for(t.member(CaseMemberRole.ANALYST)).get(url("exhibit_list", t)).content.decode()
    assert url("report_create", t) not in analyst
    assert url("bundle_create", t) not in analyst


def test_bundle_form_checks_the_key_or_passphrase_before_anything_is_asked(setup: dict[str, Any]) -> None:
    t, photos = setup["t"], setup["photos"]
    exhibit = services.exhibit_create(case=t.case, item_ids=[photos[0].pk], description="x", actor=t.lead)
    client = client_for(t.lead)
    empty = client.get(url("bundle_create", t)).content.decode()
    assert "No exhibit is shared with the prosecutor yet" in empty
    services.exhibit_approve(exhibit=exhibit, actor=supervisor(t))
    assert "No exhibit is shared" in client.get(url("bundle_create", t)).content.decode()  # approved only
    services.exhibit_share(exhibit=exhibit, actor=t.lead)
    report = _report(t, exhibit, status=ReportStatus.DONE, progress=100, sha256="ab" * 32)
    form = client.get(url("bundle_create", t)).content.decode()
    assert 'value="E-001"' in form and f'<option value="{report.pk}">' in form
    assert '<option value="" selected>' in form  # by default a new report of exactly these exhibits
    base = {
        "exhibits": ["E-001"],
        "report": str(report.pk),
        "language": "ko",
        "recipient": "Seoul Central District Prosecutors' Office",
    }
    short = client.post(url("bundle_create", t), {**base, "protection": "passphrase", "passphrase": "short"})
    assert short.status_code == 400 and "at least 12 characters" in short.content.decode()
    differ = client.post(
        url("bundle_create", t),
        {
            **base,
            "protection": "passphrase",
            "passphrase": "correct horse battery",
            "passphrase_again": "other one",
        },
    )
    assert differ.status_code == 400 and "differ" in differ.content.decode()
    no_key = client.post(url("bundle_create", t), {**base, "protection": "key"})
    assert no_key.status_code == 400 and "public key file" in no_key.content.decode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    wrong = SimpleUploadedFile("key.pem", b"not a key at all")
    bad_key = client.post(url("bundle_create", t), {**base, "protection": "key", "public_key": wrong})
    assert bad_key.status_code == 400 and "not a public key file" in bad_key.content.decode()
    not_mine = client.post(url("bundle_create", t), {**base, "exhibits": ["E-009"], "protection": "key"})
    assert not_mine.status_code == 400
    unfinished = _report(t, exhibit, status=ReportStatus.RUNNING)
    running = client.post(
        url("bundle_create", t), {**base, "report": str(unfinished.pk), "protection": "key"}
    )
    assert running.status_code == 400  # only finished reports are offered
    assert not t.case.export_bundles.exists()


def test_public_keys_are_read_from_pem_der_raw_or_hex() -> None:
    private = X25519PrivateKey.generate()
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert x25519_public_key(pem) == x25519_public_key(der) == x25519_public_key(raw) == raw
    assert x25519_public_key(raw.hex().encode() + b"\n") == raw
    assert (
        x25519_public_key(base64.b64encode(raw))
        == x25519_public_key(base64.b64encode(raw).rstrip(b"="))
        == raw
    )
    ed = Ed25519PrivateKey.generate().public_key()
    with pytest.raises(ValueError, match="not an X25519 one"):
        x25519_public_key(
            ed.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
    with pytest.raises(ValueError, match="too large"):
        x25519_public_key(b"x" * 20000)


@pytest.mark.django_db(transaction=True)
def test_browser_drafts_approves_and_shares_an_exhibit(page: Any) -> None:
    t = team()
    photos = [item(t, jpeg_bytes(name, quality=50), name=f"{name}.jpg") for name in ("coffee", "chelsea")]
    investigator = t.member(CaseMemberRole.INVESTIGATOR)
    boss = supervisor(t)
    browser_sign_in(page, investigator)
    page.goto(page.base + url("exhibit_create", t))
    page.fill("#item-search", "coffee")
    page.wait_for_selector(f"#search-results[data-query='coffee'] #pick-{photos[0].pk}")
    assert page.locator(f"#search-results img[src*='/api/v1/evidence/{photos[0].pk}/preview/']").count() == 1
    page.wait_for_function("() => [...document.images].every(img => img.complete && img.naturalWidth > 0)")
    page.check(f"#pick-{photos[0].pk}")
    # A new search replaces the results; the ticked item has moved to the chosen ones and stays ticked.
    page.fill("#item-search", "chelsea")
    page.wait_for_selector(f"#search-results[data-query='chelsea'] #pick-{photos[1].pk}")
    assert page.locator(f"#chosen-items #chosen-{photos[0].pk}").is_checked()
    page.fill("#id_description", "Image posted in the channel on 3 November")
    page.fill("#id_opinion", "The face matches V-1's reference photograph (investigator's reading).")
    screenshot(page, "exhibit-create")
    page.click("#exhibit-form button[type=submit]")
    page.wait_for_url(page.base + url("exhibit_detail", t, "E-001"))
    assert list(Exhibit.objects.get().items.values_list("pk", flat=True)) == [photos[0].pk]
    page.click(f"form[action='{url('exhibit_request_approval', t, 'E-001')}'] button")
    page.wait_for_selector("#exhibit-status.status-pending")
    browser_sign_in(page, boss)
    page.goto(page.base + url("exhibit_detail", t, "E-001"))
    page.fill("#id_note", "hashes checked against the acquisition manifest")
    page.click("#approve-form button[type=submit]")
    page.wait_for_selector("#exhibit-status.status-approved")
    screenshot(page, "exhibit-approved")
    browser_sign_in(page, t.lead)
    page.goto(page.base + url("exhibit_detail", t, "E-001"))
    page.click(f"form[action='{url('exhibit_share', t, 'E-001')}'] button")
    page.wait_for_selector("#exhibit-status.status-shared")
    page.goto(page.base + url("exhibit_list", t))
    screenshot(page, "exhibit-list")
    assert Exhibit.objects.get().status == ExhibitStatus.SHARED


@pytest.mark.django_db(transaction=True)
def test_browser_report_progress_polls_the_row_until_done(page: Any) -> None:
    t = team()
    photo = item(t, jpeg_bytes("coffee", quality=50), name="coffee.jpg")
    exhibit = services.exhibit_create(
        case=t.case, item_ids=[photo.pk], description="Posted image", actor=t.lead
    )
    report = _report(t, exhibit, status=ReportStatus.RUNNING, progress=35)
    browser_sign_in(page, t.lead)
    page.goto(page.base + url("report_detail", t, report.pk))
    assert page.locator(".job-bar").get_attribute("value") == "35"
    screenshot(page, "report-running")
    Report.objects.filter(pk=report.pk).update(progress=80)
    page.wait_for_selector(".job-bar[value='80']")
    Report.objects.filter(pk=report.pk).update(
        status=ReportStatus.DONE,
        progress=100,
        sha256="ef" * 32,
        size=52_000,
        page_count=9,
        signer_subject="CN=Test",
    )
    page.wait_for_selector(".job-bar[data-status=done]")
    assert page.locator("#report-download").is_visible()
    screenshot(page, "report-done-row")
    page.goto(page.base + url("bundle_create", t))
    screenshot(page, "bundle-form")


def test_auditors_see_numbers_and_statuses_not_the_free_text_and_download_nothing(
    setup: dict[str, Any],
) -> None:
    t, photos = setup["t"], setup["photos"]
    exhibit = services.exhibit_create(
        case=t.case,
        item_ids=[photos[0].pk],
        description="Posted in the room",
        opinion="Same face",
        actor=t.lead,
    )
    report = _report(t, exhibit, status=ReportStatus.DONE, progress=100, sha256="ab" * 32)
    auditor = client_for(t.member(CaseMemberRole.AUDITOR))
    listing = auditor.get(url("exhibit_list", t)).content.decode()
    detail = auditor.get(url("exhibit_detail", t, "E-001")).content.decode()
    for html in (listing, detail):
        assert "E-001" in html and "Posted in the room" not in html and "Same face" not in html
    assert url("report_detail", t, report.pk) in listing
    refused = auditor.get(url("report_download", t, report.pk))
    assert refused.status_code == 403 and "does not download reports" in refused.content.decode()
    assert not CustodyEvent.objects.filter(action=CustodyAction.REPORT_DOWNLOADED).exists()
    lead = client_for(t.lead).get(url("exhibit_detail", t, "E-001")).content.decode()
    assert "Posted in the room" in lead and "Same face" in lead
