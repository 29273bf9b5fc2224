"""Portal: the search box on the case page, the search page (hits, fields, highlighted snippets) and the
timeline page, for the roles that may; victim support and auditors never get a hit."""

from datetime import UTC, datetime

import pytest
from django.core.cache import cache

from access.choices import CaseMemberRole
from evidence.models import CustodyEvent, EvidenceItem
from search.services import search_reindex
from tests.factories import portal_client as _client
from tests.factories import stored_item, team
from tests.search.corpus import build_corpus, finding

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(data_dir):
    cache.clear()
    t = team()
    items = build_corpus(t.case, t.lead)
    search_reindex(case=t.case)
    return t, items


def test_case_page_has_the_search_box_and_timeline_link(case):
    t, _ = case
    page = _client(t.lead).get(f"/cases/{t.case.number}/").content.decode()
    assert f'action="/cases/{t.case.number}/search/"' in page and f"/cases/{t.case.number}/timeline/" in page


def test_search_page_shows_hits_with_fields_and_marks(case):
    t, items = case
    response = _client(t.lead).get(f"/cases/{t.case.number}/search/", {"q": "피해자"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "<mark>피해자</mark>가" in page and "<mark>피해자</mark>의" in page
    assert f"/evidence/{items[0].pk}/" in page and "text read from the image (OCR)" in page
    assert CustodyEvent.objects.filter(case=t.case, action="searched", actor=t.lead).count() == 1


def test_search_page_escapes_the_text(case):
    t, _ = case
    page = _client(t.lead).get(f"/cases/{t.case.number}/search/", {"q": "입장"}).content.decode()
    assert "&lt;script&gt;" in page and "<script>" not in page.split("<main")[-1].split("</main>")[0]


@pytest.mark.parametrize("role", [CaseMemberRole.VICTIM_SUPPORT, CaseMemberRole.AUDITOR])
def test_victim_support_and_auditors_get_no_search(case, role):
    t, _ = case
    client = _client(t.member(role))
    assert 'role="search"' not in client.get(f"/cases/{t.case.number}/").content.decode()
    response = client.get(f"/cases/{t.case.number}/search/", {"q": "피해자"})
    assert response.status_code == 403 and "피해자가" not in response.content.decode()
    assert not CustodyEvent.objects.filter(action="searched").exists()


def test_outsiders_get_404(case):
    t, _ = case
    outsider = team().lead
    assert _client(outsider).get(f"/cases/{t.case.number}/search/", {"q": "피해자"}).status_code == 404
    assert _client(outsider).get(f"/cases/{t.case.number}/timeline/").status_code == 404


def test_timeline_page_lists_points_and_loads_the_local_library(case):
    t, items = case
    EvidenceItem.objects.filter(pk=items[0].pk).update(
        file_modified_at=datetime(2024, 4, 30, 10, 0, tzinfo=UTC)
    )
    finding(items[0], "metadata", "capture_time", "metadata", {"iso": "2024-05-01T23:30:00+09:00"})
    page = _client(t.lead).get(f"/cases/{t.case.number}/timeline/").content.decode()
    assert (
        "/static/portal/vendor/vis-timeline-graph2d.min.js" in page
        and "https://" not in page.split("<main")[0]
    )
    assert "2024-05-01T14:30:00Z" in page and "2024-05-01T23:30:00+09:00" in page
    assert "not a capture time" in page
    victim_support = _client(t.member(CaseMemberRole.VICTIM_SUPPORT))
    assert victim_support.get(f"/cases/{t.case.number}/timeline/").status_code == 403


def test_item_without_text_is_not_a_hit(case):
    t, _ = case
    stored_item(case=t.case, data=b"plain", actor=t.lead, name="plain.bin")
    page = _client(t.lead).get(f"/cases/{t.case.number}/search/", {"q": "zzzz"}).content.decode()
    assert "0 hits" in page


def test_item_page_shows_what_metadata_and_ocr_findings_say_to_reviewers_only(case):
    t, items = case
    investigator = _client(t.member(CaseMemberRole.INVESTIGATOR))
    camera_page = investigator.get(f"/evidence/{items[2].pk}/").content.decode()
    assert "Samsung SM-S918N" in camera_page
    ocr_page = investigator.get(f"/evidence/{items[0].pk}/").content.decode()
    assert "피해자가 텔레그램 방 3에서" in ocr_page
    auditor = _client(t.member(CaseMemberRole.AUDITOR))
    assert "피해자가 텔레그램" not in auditor.get(f"/evidence/{items[0].pk}/").content.decode()


def test_the_auditor_reads_each_search_in_the_ledger_who_and_what(case):
    """A search is case activity: the auditor finds it in the ledger with who searched and the query, and
    no hit, snippet or item of it."""
    t, _items = case
    _client(t.lead).get(f"/cases/{t.case.number}/search/", {"q": "피해자"})
    event = CustodyEvent.objects.get(case=t.case, action="searched")
    auditor = _client(t.member(CaseMemberRole.AUDITOR))
    listing = auditor.get("/audit/", {"action": "searched", "case": t.case.number}).content.decode()
    assert f'href="/audit/events/{event.seq}/"' in listing
    page = auditor.get(f"/audit/events/{event.seq}/").content.decode()
    assert "피해자" in page and (t.lead.get_full_name() or t.lead.get_username()) in page
    assert "피해자가" not in page and "<mark>" not in page  # the query, never what it found


def test_a_lead_searches_all_their_cases_from_the_dashboard_and_learns_only_whom_to_ask_elsewhere(data_dir):
    mine, theirs = team(), team(unit="서울경찰청 사이버수사대")
    mine_item = stored_item(case=mine.case, data=b"a", actor=mine.lead, name="a.png")
    finding(mine_item, "ocr", "ocr_text", "extracted_text", {"text": "졸업사진 유출 단체방"})
    their_item = stored_item(case=theirs.case, data=b"b", actor=theirs.lead, name="secret-b.png")
    finding(their_item, "ocr", "ocr_text", "extracted_text", {"text": "한빛고 졸업사진 모음"})
    search_reindex()
    lead = _client(mine.lead)
    assert 'action="/search/"' in lead.get("/").content.decode()
    response = lead.get("/search/", {"q": "졸업사진"})
    page = response.content.decode()
    assert response.status_code == 200
    assert f'href="/evidence/{mine_item.pk}/"' in page and "<mark>졸업사진</mark> 유출" in page
    assert mine.case.number in page and "서울경찰청 사이버수사대" in page
    for secret in (theirs.case.number, "한빛고", "secret-b.png", f"/evidence/{their_item.pk}/"):
        assert secret not in page
    assert CustodyEvent.objects.filter(case=theirs.case, action="searched", actor=mine.lead).count() == 1

    for role in (CaseMemberRole.INVESTIGATOR, CaseMemberRole.VICTIM_SUPPORT, CaseMemberRole.AUDITOR):
        other = _client(mine.member(role))
        assert 'action="/search/"' not in other.get("/").content.decode()
        refused = other.get("/search/", {"q": "졸업사진"})
        assert refused.status_code == 403 and "졸업사진 유출" not in refused.content.decode()
