"""Auditor pages: the ledger of the audited cases only (filters, keyset pages), an event with its leaf,
previous hash and inclusion proof, checkpoints with their signatures checked, verification runs and results,
and never a media, thumbnail or content URL."""

import re
from typing import Any

import pytest
from django.test import Client

from access.choices import CaseMemberRole
from evidence.choices import CustodyAction
from evidence.custody import EventSpec, custody_append_many
from evidence.ledger import checkpoint_create
from evidence.models import Checkpoint, CustodyEvent
from evidence.verify import vault_verify
from tests.factories import item, jpeg_bytes, team, verified_login

pytestmark = pytest.mark.django_db

MEDIA = re.compile(r"<img|<video|<picture|<object|<canvas|/content|/preview|thumbnail", re.IGNORECASE)


def _client(user: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    verified_login(client, user)
    return client


def _audited() -> tuple[Any, Any, Any]:
    audited, other = team(), team()
    auditor = audited.member(CaseMemberRole.AUDITOR)
    return audited, other, auditor


def test_only_auditors_reach_the_audit_pages_and_are_told_how_to_become_one() -> None:
    t = team()
    response = _client(t.lead).get("/audit/")
    assert response.status_code == 403
    assert "add_member" in response.content.decode()
    assert "What to do next" in response.content.decode()


def test_the_ledger_shows_only_the_audited_cases_and_filters() -> None:
    audited, other, auditor = _audited()
    mine, theirs = item(audited, name="mine.jpg"), item(other, name="theirs.jpg")
    client = _client(auditor)
    page = client.get("/audit/").content.decode()
    assert audited.case.number in page and other.case.number not in page
    own_seqs = set(CustodyEvent.objects.filter(case=audited.case).values_list("seq", flat=True))
    shown = {int(s) for s in re.findall(r'href="/audit/events/(\d+)/"', page)}
    assert shown == own_seqs
    by_item = client.get(f"/audit/?item={mine.pk}").content.decode()
    assert {int(s) for s in re.findall(r'href="/audit/events/(\d+)/"', by_item)} == set(
        CustodyEvent.objects.filter(item=mine).values_list("seq", flat=True)
    )
    assert 'href="/audit/events/' not in client.get(f"/audit/?item={theirs.pk}").content.decode()
    by_action = client.get("/audit/?action=stored").content.decode()
    assert {int(s) for s in re.findall(r'href="/audit/events/(\d+)/"', by_action)} == set(
        CustodyEvent.objects.filter(case=audited.case, action="stored").values_list("seq", flat=True)
    )
    by_actor = client.get(f"/audit/?actor={audited.lead.username}").content.decode()
    assert len(re.findall(r'href="/audit/events/(\d+)/"', by_actor)) == len(own_seqs)
    assert 'href="/audit/events/' not in client.get("/audit/?actor=nobody").content.decode()
    refused = client.get("/audit/?action=deleted")
    assert refused.status_code == 400 and "not a custody action" in refused.content.decode()
    assert client.get("/audit/?item=abc").status_code == 400


def test_keyset_pages_walk_the_whole_ledger_without_gaps_or_repeats() -> None:
    audited, _other, auditor = _audited()
    custody_append_many(
        [
            EventSpec(
                case_id=audited.case.pk,
                action=CustodyAction.CASE_UPDATED,
                actor=audited.lead,
                details={"n": n},
            )
            for n in range(120)
        ]
    )
    client = _client(auditor)
    seen: list[int] = []
    url = "/audit/?case=" + audited.case.number
    pages = 0
    while url:
        page = client.get(url).content.decode()
        seen += [int(s) for s in re.findall(r'href="/audit/events/(\d+)/"', page)]
        older = re.search(r'rel="next" href="\?([^"]+)"', page)
        url = "/audit/?" + older.group(1).replace("&amp;", "&") if older else ""
        pages += 1
    expected = list(
        CustodyEvent.objects.filter(case=audited.case).order_by("-seq").values_list("seq", flat=True)
    )
    assert seen == expected and pages == 3
    # From the last page, "newer" comes back to the page before it.
    last = client.get(f"/audit/?case={audited.case.number}&before={expected[99]}").content.decode()
    newer = re.search(r'rel="prev" href="\?([^"]+)"', last)
    assert newer is not None
    back = client.get("/audit/?" + newer.group(1).replace("&amp;", "&")).content.decode()
    assert [int(s) for s in re.findall(r'href="/audit/events/(\d+)/"', back)] == expected[50:100]
    # Filtered paging: newer events exist, but none is a case_created event, so no "newer" link.
    updates = client.get(f"/audit/?action=case_created&before={expected[0]}").content.decode()
    assert 'rel="prev"' not in updates


def test_an_event_shows_its_hashes_and_its_inclusion_proof_once_checkpointed() -> None:
    audited, other, auditor = _audited()
    stored = item(audited)
    event = CustodyEvent.objects.filter(item=stored).order_by("seq").first()
    assert event is not None
    client = _client(auditor)
    pending = client.get(f"/audit/events/{event.seq}/").content.decode()
    assert event.leaf_hash in pending and event.prev_hash in pending
    assert "No checkpoint covers this event yet" in pending
    checkpoint = checkpoint_create()
    proved = client.get(f"/audit/events/{event.seq}/").content.decode()
    assert checkpoint.root_hash in proved and checkpoint.signature in proved
    assert "recomputed from the fields: matches" in proved
    assert "the proof does not check out" not in proved and "leads from this event" in proved
    foreign = CustodyEvent.objects.filter(case=other.case).first()
    assert foreign is not None
    missing = client.get(f"/audit/events/{foreign.seq}/")
    assert missing.status_code == 404 and "in the cases you audit" in missing.content.decode()


def test_checkpoints_list_their_signatures_checked() -> None:
    audited, _other, auditor = _audited()
    item(audited)
    good = checkpoint_create()
    page = _client(auditor).get("/audit/checkpoints/").content.decode()
    assert good.root_hash in page and "signature valid" in page
    # A checkpoint whose signature does not verify (signed over another root) is flagged.
    Checkpoint.objects.create(
        tree_size=good.tree_size,
        root_hash="0" * 64,
        created_at=good.created_at,
        key_id=good.key_id,
        public_key=good.public_key,
        signature=good.signature,
    )
    assert "signature invalid" in _client(auditor).get("/audit/checkpoints/").content.decode()


def test_verification_runs_and_their_results() -> None:
    audited, other, auditor = _audited()
    item(audited, data=jpeg_bytes("coffee"))
    item(other, data=jpeg_bytes("chelsea"))
    report = vault_verify(case=audited.case, actor=auditor)
    client = _client(auditor)
    runs = client.get("/audit/verification/").content.decode()
    assert report.run[:12] in runs and "all checks passed" in runs
    results = client.get(f"/audit/verification/{report.run}/").content.decode()
    assert "Items that passed (1)" in results
    other_run = vault_verify(case=other.case, actor=None)
    assert other_run.run[:12] not in client.get("/audit/verification/").content.decode()
    assert client.get(f"/audit/verification/{other_run.run}/").status_code == 404


def test_no_auditor_page_contains_media_thumbnail_or_content_urls() -> None:
    audited, _other, auditor = _audited()
    stored = item(audited, data=jpeg_bytes("astronaut"), name="astronaut.jpg")
    checkpoint_create()
    report = vault_verify(case=audited.case, actor=auditor)
    client = _client(auditor)
    event = CustodyEvent.objects.filter(item=stored).first()
    assert event is not None
    for url in [
        "/audit/",
        f"/audit/?item={stored.pk}",
        f"/audit/events/{event.seq}/",
        "/audit/checkpoints/",
        "/audit/verification/",
        f"/audit/verification/{report.run}/",
        "/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        found = MEDIA.search(response.content.decode())
        assert found is None, f"{url} contains {found.group(0) if found else ''}"


def test_ledger_page_queries_do_not_grow_with_events() -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    audited, _other, auditor = _audited()
    client = _client(auditor)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/audit/").status_code == 200
        return len(captured)

    item(audited)
    few = queries()
    for _ in range(3):
        item(audited, data=f"photo {_}".encode(), name=f"p{_}.jpg")
    assert queries() == few


def test_an_auditor_of_two_cases_pages_through_both_in_ledger_order() -> None:
    first, second, third = team(), team(), team()
    auditor = first.member(CaseMemberRole.AUDITOR)
    second.member(CaseMemberRole.AUDITOR, user=auditor)
    for n in range(40):
        for t in (first, second, third):
            custody_append_many(
                [
                    EventSpec(
                        case_id=t.case.pk, action=CustodyAction.CASE_UPDATED, actor=t.lead, details={"n": n}
                    )
                ]
            )
    client = _client(auditor)
    seen: list[int] = []
    url = "/audit/"
    while url:
        page = client.get(url).content.decode()
        seen += [int(s) for s in re.findall(r'href="/audit/events/(\d+)/"', page)]
        older = re.search(r'rel="next" href="\?([^"]+)"', page)
        url = "/audit/?" + older.group(1).replace("&amp;", "&") if older else ""
    expected = list(
        CustodyEvent.objects.filter(case__in=[first.case, second.case])
        .order_by("-seq")
        .values_list("seq", flat=True)
    )
    assert seen == expected
    only_second = client.get(f"/audit/?case={second.case.number}").content.decode()
    assert first.case.number not in re.sub(r"<select.*?</select>", "", only_second, flags=re.S)


def test_a_run_with_a_failure_lists_the_problem_first() -> None:
    audited, _other, auditor = _audited()
    good, bad = item(audited, data=b"good", name="good.jpg"), item(audited, data=b"bad", name="bad.jpg")
    problem = {"check": "blob_hash", "event": None, "message": "The vault object decrypts to other bytes."}
    run = "f" * 32
    custody_append_many(
        [
            EventSpec(
                case_id=audited.case.pk,
                item_id=good.pk,
                action=CustodyAction.VERIFIED,
                actor=auditor,
                details={"ok": True, "problems": [], "run": run},
            ),
            EventSpec(
                case_id=audited.case.pk,
                item_id=bad.pk,
                action=CustodyAction.VERIFIED,
                actor=auditor,
                details={"ok": False, "problems": [problem], "run": run},
            ),
            EventSpec(
                case_id=audited.case.pk,
                item_id=bad.pk,
                action=CustodyAction.INCIDENT,
                actor=auditor,
                details={"run": run, "source": "verify", "problems": [problem]},
            ),
        ]
    )
    client = _client(auditor)
    assert "1 failed, 1 incidents" in client.get("/audit/verification/").content.decode()
    page = client.get(f"/audit/verification/{run}/").content.decode()
    assert page.index("blob_hash") < page.index("Items that passed (1)")
    assert "decrypts to other bytes" in page and "all checks passed" not in page
