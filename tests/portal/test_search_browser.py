"""Search and the timeline in a real browser (Debian's Chromium through Playwright): the case page's search
box leads to highlighted hits; the timeline is drawn by the locally served vis-timeline, zooms, and its kind
filters hide points and rows. Screenshots go to test-artifacts/portal/."""

from datetime import UTC, datetime
from typing import Any

import pytest

from evidence.models import EvidenceItem
from search.services import search_reindex
from tests.factories import team
from tests.portal.conftest import screenshot
from tests.portal.test_cases_browser import _sign_in
from tests.search.corpus import build_corpus, finding

pytestmark = pytest.mark.django_db(transaction=True)


def test_browser_search_box_and_timeline(page: Any) -> None:
    t = team()
    items = build_corpus(t.case, t.lead)
    EvidenceItem.objects.filter(pk=items[0].pk).update(
        file_modified_at=datetime(2024, 4, 30, 10, 0, tzinfo=UTC)
    )
    finding(items[0], "metadata", "capture_time", "metadata", {"iso": "2024-05-01T23:30:00+09:00"})
    search_reindex(case=t.case)
    _sign_in(page, t.lead)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    missing: list[str] = []  # the browser asks for /favicon.ico on its own; every asset we name must load
    page.on(
        "response", lambda r: missing.append(r.url) if r.status >= 400 and "favicon" not in r.url else None
    )
    page.goto(page.base + f"/cases/{t.case.number}/")
    page.fill("#case-search-q", "피해자")
    page.get_by_role("button", name="Search").first.click()
    page.wait_for_selector("table.search-hits mark")
    assert page.locator("table.search-hits tbody tr").count() == 2
    assert page.locator("table.search-hits mark").first.inner_text() == "피해자"
    screenshot(page, "search-hits")
    page.goto(page.base + f"/cases/{t.case.number}/timeline/")
    page.wait_for_selector("#case-timeline .vis-item")
    drawn = page.locator("#case-timeline .vis-item").count()
    assert drawn >= 3  # the file time, the capture, acquisitions and custody events
    page.mouse.move(*_centre(page))
    page.mouse.wheel(0, -600)  # zoom in
    screenshot(page, "timeline")
    rows = page.locator(".timeline-table tbody tr[data-kind='capture']")
    assert rows.count() == 1 and rows.first.is_visible()
    page.locator("#timeline-kinds input[value='capture']").uncheck()
    assert not rows.first.is_visible()
    assert page.locator("#case-timeline .vis-item").count() < drawn
    assert not errors and not missing, (errors, missing)


def _centre(page: Any) -> tuple[float, float]:
    box = page.locator("#case-timeline").bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
