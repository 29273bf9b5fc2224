"""Portal evidence item page (portal/views/evidence.py): hashes, metadata, custody with verification state,
findings review, matches, reveal (reason first, one `viewed` event, never cached), previews, greyscale,
exposure count; and every refusal."""

import hashlib
from typing import Any, cast

import pytest

from access.choices import CaseMemberRole
from detection.models import Annotation, HashBank
from evidence.choices import CustodyAction, DerivativeKind
from evidence.ledger import checkpoint_create
from evidence.models import CustodyEvent, Derivative, EvidenceItem
from portal.views import evidence as evidence_views
from tests.factories import (
    Team,
    bank_match,
    detection_rows,
    item,
    jpeg_bytes,
    new_user,
    stored_item,
    team,
)
from tests.factories import portal_client as _client

pytestmark = pytest.mark.django_db


def _viewed(photo: EvidenceItem) -> list[CustodyEvent]:
    return list(CustodyEvent.objects.filter(item=photo, action=CustodyAction.VIEWED))


@pytest.fixture
def photo_team() -> tuple[Team, EvidenceItem]:
    t = team()
    return t, item(t, jpeg_bytes(), name="scene.jpg")


def test_item_page_shows_hashes_metadata_children_and_custody_state(photo_team: Any) -> None:
    t, photo = photo_team
    child = item(t, b"inner bytes", name="inner.bin")
    EvidenceItem.objects.filter(pk=child.pk).update(parent=photo)
    client = _client(t.lead)
    response = client.get(f"/evidence/{photo.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    data = jpeg_bytes()
    for digest in (hashlib.sha256(data), hashlib.md5(data), hashlib.sha1(data)):  # noqa: S324 (court hashes)
        assert digest.hexdigest() in html
    assert "scene.jpg" in html and f"/evidence/{child.pk}/" in html
    rows = response.context["custody"]["rows"]
    assert [r["event"].action for r in rows] == [CustodyAction.ACQUIRED, CustodyAction.STORED]
    assert all(r["chain_ok"] and not r["signed"] for r in rows)
    assert "not yet" in html
    checkpoint_create()
    after = client.get(f"/evidence/{photo.pk}/")
    assert (
        all(r["signed"] for r in after.context["custody"]["rows"])
        and "in checkpoint" in after.content.decode()
    )
    child_page = client.get(f"/evidence/{child.pk}/").content.decode()
    assert f"/evidence/{photo.pk}/" in child_page  # the parent


class _Rows(list[CustodyEvent]):
    """Events as the selector would return them (a list standing in for the queryset)."""

    def select_related(self, *fields: Any) -> "_Rows":
        return self


def test_a_tampered_event_shows_as_altered(photo_team: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    t, photo = photo_team
    events = list(CustodyEvent.objects.filter(item=photo).order_by("seq"))
    events[1].purpose = "changed after the fact"  # in memory only: the ledger refuses UPDATE
    monkeypatch.setattr(evidence_views, "custody_events_for", lambda **kwargs: _Rows(events))
    timeline = evidence_views.custody_timeline(user=t.lead, item=photo)
    assert [r["chain_ok"] for r in timeline["rows"]] == [True, False]
    assert timeline["rows"][1]["leaf_ok"] is False and timeline["chain_ok"] is False


def test_non_member_gets_404_on_every_item_url(photo_team: Any) -> None:
    _, photo = photo_team
    _run, annotation = detection_rows(item=photo, name="nudenet")
    stranger = _client(new_user())
    for url in (f"/evidence/{photo.pk}/", f"/evidence/{photo.pk}/custody/", f"/evidence/{photo.pk}/preview/"):
        assert stranger.get(url).status_code == 404, url
    assert stranger.post(f"/evidence/{photo.pk}/reveal/", {"reason": "curious"}).status_code == 404
    review = stranger.post(
        f"/evidence/{photo.pk}/findings/{annotation.pk}/review/", {"decision": "confirmed", "reason": "x"}
    )
    assert review.status_code == 404
    assert _viewed(photo) == []
    assert not CustodyEvent.objects.filter(item=photo, action=CustodyAction.PREVIEW_SERVED).exists()


def test_victim_support_gets_no_media_and_no_item_page(photo_team: Any) -> None:
    t, photo = photo_team
    worker = _client(t.member(CaseMemberRole.VICTIM_SUPPORT))
    page = worker.get(f"/evidence/{photo.pk}/")
    assert page.status_code == 403 and "<img" not in page.content.decode()
    assert worker.get(f"/evidence/{photo.pk}/preview/").status_code == 403
    assert worker.post(f"/evidence/{photo.pk}/reveal/", {"reason": "support"}).status_code == 403
    assert _viewed(photo) == []
    assert not CustodyEvent.objects.filter(item=photo, action=CustodyAction.PREVIEW_SERVED).exists()


def test_auditor_sees_metadata_and_custody_but_no_media(photo_team: Any) -> None:
    t, photo = photo_team
    auditor = _client(t.member(CaseMemberRole.AUDITOR))
    page = auditor.get(f"/evidence/{photo.pk}/")
    html = page.content.decode()
    assert page.status_code == 200 and photo.blob_id in html
    assert "<img" not in html and "/preview/" not in html and "reveal-reason" not in html
    assert auditor.get(f"/evidence/{photo.pk}/preview/").status_code == 403
    assert auditor.post(f"/evidence/{photo.pk}/reveal/", {"reason": "audit"}).status_code == 403
    assert _viewed(photo) == []


def test_reveal_without_a_reason_is_refused_and_records_nothing(photo_team: Any) -> None:
    t, photo = photo_team
    client = _client(t.lead)
    response = client.post(f"/evidence/{photo.pk}/reveal/", {"reason": "  "}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    html = response.content.decode()
    assert "needs a stated purpose" in html and "/original/" not in html and 'id="reveal-reason"' in html
    assert _viewed(photo) == []


def test_reveal_writes_one_viewed_event_and_streams_the_original_uncached(photo_team: Any) -> None:
    t, photo = photo_team
    client = _client(t.lead)
    response = client.post(f"/evidence/{photo.pk}/reveal/", {"reason": "classify for charge sheet"})
    assert response.status_code == 200
    token = response.context["token"]
    assert f"/evidence/{photo.pk}/original/{token}/" in response.content.decode()
    assert _viewed(photo) == []  # nothing is shown yet: the view is recorded when the bytes are served
    original = client.get(f"/evidence/{photo.pk}/original/{token}/")
    assert original.status_code == 200
    assert b"".join(original.streaming_content) == jpeg_bytes()  # type: ignore[attr-defined]
    assert original["Cache-Control"] == "no-store, private"
    viewed = _viewed(photo)
    assert len(viewed) == 1
    assert viewed[0].purpose == "classify for charge sheet" and viewed[0].actor == t.lead
    again = client.get(f"/evidence/{photo.pk}/original/{token}/")
    assert again.status_code == 404
    assert len(_viewed(photo)) == 1
    page = client.get(f"/evidence/{photo.pk}/").content.decode()
    assert "1 content view (1 items)" in page


def test_reveal_token_is_bound_to_its_item_and_user(photo_team: Any) -> None:
    t, photo = photo_team
    other = item(t, b"other bytes", name="other.bin")
    client = _client(t.lead)
    token = client.post(f"/evidence/{photo.pk}/reveal/", {"reason": "compare"}).context["token"]
    assert client.get(f"/evidence/{other.pk}/original/{token}/").status_code == 404
    colleague = _client(t.member(CaseMemberRole.INVESTIGATOR))
    assert colleague.get(f"/evidence/{photo.pk}/original/{token}/").status_code == 404
    assert _viewed(photo) == [] and _viewed(other) == []


def test_reveal_needs_the_legal_basis_where_the_case_requires_one() -> None:
    t = team()
    t.case.content_requires_legal_basis = True
    t.case.save(update_fields=["content_requires_legal_basis"])
    photo = item(t, jpeg_bytes(), name="scene.jpg")
    client = _client(t.lead)
    page = client.get(f"/evidence/{photo.pk}/").content.decode()
    assert 'id="reveal-legal-basis"' in page
    refused = client.post(f"/evidence/{photo.pk}/reveal/", {"reason": "classify"})
    assert refused.status_code == 400 and "requires a legal basis" in refused.content.decode()
    token = client.post(
        f"/evidence/{photo.pk}/reveal/", {"reason": "classify", "legal_basis": "warrant 2026-1234"}
    ).context["token"]
    assert client.get(f"/evidence/{photo.pk}/original/{token}/").status_code == 200
    assert [e.legal_authority for e in _viewed(photo)] == ["warrant 2026-1234"]


def test_blurred_preview_goes_through_the_preview_service(photo_team: Any) -> None:
    t, photo = photo_team
    client = _client(t.lead)
    response = client.get(f"/evidence/{photo.pk}/preview/")
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "no-store, private"
    assert response.content != jpeg_bytes()
    served = CustodyEvent.objects.filter(item=photo, action=CustodyAction.PREVIEW_SERVED)
    assert served.count() == 1 and served.get().details["kind"] == DerivativeKind.PREVIEW_BLURRED
    assert _viewed(photo) == []


def test_greyscale_is_remembered_in_the_session(photo_team: Any) -> None:
    t, photo = photo_team
    client = _client(t.lead)
    toggled = client.post("/preferences/greyscale/", {"greyscale": "on", "next": f"/evidence/{photo.pk}/"})
    assert toggled.status_code == 302 and toggled["Location"] == f"/evidence/{photo.pk}/"
    page = client.get(f"/evidence/{photo.pk}/").content.decode()
    assert "viewer greyscale" in page and 'aria-pressed="true"' in page
    client.get(f"/evidence/{photo.pk}/preview/")
    assert Derivative.objects.filter(kind=DerivativeKind.PREVIEW_BLURRED_GREY).exists()
    client.post("/preferences/greyscale/", {"greyscale": "off", "next": "https://evil.example/"})
    assert "viewer greyscale" not in client.get(f"/evidence/{photo.pk}/").content.decode()


def test_confirm_a_finding_needs_a_reason_and_is_recorded(photo_team: Any) -> None:
    t, photo = photo_team
    _, annotation = detection_rows(item=photo, name="nudenet", label="EXPOSED")
    client = _client(t.lead)
    url = f"/evidence/{photo.pk}/findings/{annotation.pk}/review/"
    refused = client.post(url, {"decision": "confirmed", "reason": ""}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 400 and "a reason is required" in refused.content.decode()
    annotation.refresh_from_db()
    assert annotation.review_status == "lead"
    done = client.post(
        url, {"decision": "confirmed", "reason": "same face as reference"}, HTTP_HX_REQUEST="true"
    )
    assert done.status_code == 200 and done["HX-Trigger"] == "custody-changed"
    assert f'id="finding-{annotation.pk}"' in done.content.decode()
    annotation.refresh_from_db()
    assert (annotation.review_status, annotation.review_reason) == ("confirmed", "same face as reference")
    event = CustodyEvent.objects.get(item=photo, action=CustodyAction.FINDING_REVIEWED)
    assert event.details["decision"] == "confirmed"
    bad = client.post(url, {"decision": "maybe", "reason": "r"})
    assert bad.status_code == 400 and "decision must be" in bad.content.decode()


def test_auditor_cannot_review_findings(photo_team: Any) -> None:
    t, photo = photo_team
    _, annotation = detection_rows(item=photo, name="nudenet")
    auditor = _client(t.member(CaseMemberRole.AUDITOR))
    page = auditor.get(f"/evidence/{photo.pk}/").content.decode()
    assert "review-reason" not in page
    response = auditor.post(
        f"/evidence/{photo.pk}/findings/{annotation.pk}/review/", {"decision": "rejected", "reason": "no"}
    )
    assert response.status_code == 403
    assert Annotation.objects.get(pk=annotation.pk).review_status == "lead"


def test_matches_show_the_other_side_as_the_viewer_may_see_it(photo_team: Any) -> None:
    t, photo = photo_team
    bank = HashBank.objects.create(name="victim originals", kind="victim_originals")
    bank_match(item=photo, bank=bank, sha256=photo.blob_id or "")
    elsewhere = team()
    foreign = item(elsewhere, jpeg_bytes(), name="secret-name.jpg")
    from detection.models import Match

    Match.objects.create(item=foreign, other_item=photo, kind="pdq", distance=4)
    html = _client(t.lead).get(f"/evidence/{photo.pk}/").content.decode()
    assert "victim originals" in html
    assert "an item in another case" in html
    assert "secret-name" not in html and elsewhere.case.number not in html


def test_match_list_for_item_is_match_list_narrowed_to_the_item(photo_team: Any) -> None:
    from detection.match_selectors import match_list, match_list_for_item

    t, photo = photo_team
    bank = HashBank.objects.create(name="known", kind="known_material")
    bank_match(item=photo, bank=bank, sha256=photo.blob_id or "")
    other = item(t, b"unrelated", name="u.bin")
    bank_match(item=other, bank=bank, sha256=other.blob_id or "")
    narrowed = {m.pk for m in match_list(user=t.lead) if photo.pk in (m.item_id, m.other_item_id)}
    assert {m.pk for m in match_list_for_item(user=t.lead, item_id=photo.pk)} == narrowed
    assert len(narrowed) == 1
    assert list(match_list_for_item(user=new_user(), item_id=photo.pk)) == []


def test_an_original_that_could_run_in_the_browser_is_sent_as_a_download() -> None:
    from tests.factories import stored_item

    t = team()
    page = stored_item(
        case=t.case, data=b"<script>alert(1)</script>", actor=t.lead, name="x.html", mime="text/html"
    )
    client = _client(t.lead)
    token = client.post(f"/evidence/{page.pk}/reveal/", {"reason": "check the page"}).context["token"]
    response = client.get(f"/evidence/{page.pk}/original/{token}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert b"".join(response.streaming_content) == b"<script>alert(1)</script>"  # type: ignore[attr-defined]
    assert len(_viewed(page)) == 1


def test_revealed_image_is_inline(photo_team: Any) -> None:
    t, photo = photo_team
    client = _client(t.lead)
    token = client.post(f"/evidence/{photo.pk}/reveal/", {"reason": "r"}).context["token"]
    response = client.get(f"/evidence/{photo.pk}/original/{token}/")
    assert response["Content-Type"] == "image/jpeg" and response["Content-Disposition"].startswith("inline;")


def test_reveal_and_review_work_without_javascript(photo_team: Any) -> None:
    t, photo = photo_team
    _run, annotation = detection_rows(item=photo, name="nudenet")
    client = _client(t.lead)
    page = client.post(f"/evidence/{photo.pk}/reveal/", {"reason": "no js"})
    html = page.content.decode()
    assert page.status_code == 200 and "<html" in html and f"/evidence/{photo.pk}/original/" in html
    url = f"/evidence/{photo.pk}/findings/{annotation.pk}/review/"
    refused = client.post(url, {"decision": "rejected", "reason": ""})
    assert refused.status_code == 400 and "<html" in refused.content.decode()
    done = client.post(url, {"decision": "rejected", "reason": "a false positive: a landscape"})
    assert done.status_code == 302 and done["Location"] == f"/evidence/{photo.pk}/"


def test_findings_fold_by_detector_and_say_what_was_checked_and_found_nothing(photo_team: Any) -> None:
    t, photo = photo_team
    for label in ("FEMALE_BREAST_EXPOSED", "FACE_FEMALE", "BELLY_COVERED"):
        detection_rows(item=photo, name=f"nudenet-{label}", label=label, category="exposed")
    detection_rows(item=photo, name="c2pa", label="c2pa_none", category="not_probative")
    detection_rows(
        item=photo, name="generator-watermark", label="generator_watermark_none", category="not_probative"
    )
    detection_rows(item=photo, name="pdq", label="pdq", category="perceptual_hash")
    response = _client(t.lead).get(f"/evidence/{photo.pk}/")
    html = response.content.decode()
    findings = response.context["findings"]
    assert [group["detector"] for group in findings["groups"]][-1] == "pdq"  # records after signals
    assert {group["detector"] for group in findings["groups"] if group["has_signal"]} == {
        "nudenet-FEMALE_BREAST_EXPOSED",
        "nudenet-FACE_FEMALE",
        "nudenet-BELLY_COVERED",
    }
    assert [row["detector"] for row in findings["nothing_found"]] == ["c2pa", "generator-watermark"]
    assert "Checked and found nothing" in html and "c2pa 1" in html
    assert html.count('<details class="detector-group') == 4  # folded: one line per detector
    # Review is on demand: the form sits inside a closed <details> of its finding.
    assert html.count('<details class="review">') == 4 and "Confirm or reject" in html
    # Custody is one link away from the top of the page.
    assert html.index('href="#custody-section"') < html.index('id="h-findings"')


def test_grouping_puts_a_detectors_findings_together_and_counts_what_waits_for_review() -> None:
    class Row:
        def __init__(self, detector: str, label: str, category: str, review: str = "lead") -> None:
            self.detector_name, self.detector_version = detector, "1"
            self.label, self.category, self.review_status = label, category, review

    rows = [
        Row("nudenet", "FACE_FEMALE", "face"),
        Row("jpeg", "jpeg_quality", "forensic_indicator"),
        Row("nudenet", "FEET_EXPOSED", "exposed", review="confirmed"),
        Row("c2pa", "c2pa_none", "not_probative"),
        Row("nudenet", "FACE_FEMALE", "face"),
    ]
    grouped = evidence_views.findings_by_detector(cast(list[Annotation], rows))
    nudenet, jpeg = grouped["groups"]
    assert (nudenet["detector"], len(nudenet["findings"]), nudenet["to_review"]) == ("nudenet", 3, 2)
    assert nudenet["signal_labels"] == ["FACE_FEMALE", "FEET_EXPOSED"]
    assert (jpeg["detector"], jpeg["has_signal"], jpeg["signal_labels"]) == ("jpeg", False, [])
    assert grouped["nothing_found"] == [{"detector": "c2pa", "version": "1", "labels": ["c2pa_none"]}]


def test_item_page_links_the_ela_map_blurred_and_unblurred_with_a_reason(photo_team: Any) -> None:
    t, photo = photo_team
    client = _client(t.lead)
    html = client.get(f"/evidence/{photo.pk}/").content.decode()
    assert f'href="/evidence/{photo.pk}/ela/"' in html and 'id="ela-reason"' in html
    blurred = client.get(f"/evidence/{photo.pk}/ela/")
    assert blurred.status_code == 200 and blurred["Content-Type"] == "image/jpeg"
    assert blurred["Cache-Control"] == "no-store, private"
    served = CustodyEvent.objects.get(item=photo, action=CustodyAction.PREVIEW_SERVED)
    assert served.details["served"] == "ela_map" and _viewed(photo) == []
    no_reason = client.get(f"/evidence/{photo.pk}/ela/", {"blur": "0", "reason": " "})
    assert no_reason.status_code == 400 and _viewed(photo) == []
    unblurred = client.get(f"/evidence/{photo.pk}/ela/", {"blur": "0", "reason": "check a pasted region"})
    assert unblurred.status_code == 200 and unblurred["Content-Type"] == "image/png"
    assert [event.purpose for event in _viewed(photo)] == ["check a pasted region"]


def test_no_ela_link_or_map_for_roles_without_media_or_for_non_jpegs(photo_team: Any) -> None:
    t, photo = photo_team
    for role in (CaseMemberRole.VICTIM_SUPPORT, CaseMemberRole.AUDITOR):
        client = _client(t.member(role))
        assert "/ela/" not in client.get(f"/evidence/{photo.pk}/").content.decode()
        assert client.get(f"/evidence/{photo.pk}/ela/").status_code == 403
        assert client.get(f"/evidence/{photo.pk}/ela/", {"blur": "0", "reason": "x"}).status_code == 403
    assert not CustodyEvent.objects.filter(
        item=photo, action__in=[CustodyAction.PREVIEW_SERVED, CustodyAction.VIEWED, CustodyAction.DERIVED]
    ).exists()
    png = stored_item(case=t.case, data=b"\x89PNG\r\n\x1a\n", actor=t.lead, name="shot.png", mime="image/png")
    assert "ela-blurred" not in _client(t.lead).get(f"/evidence/{png.pk}/").content.decode()
