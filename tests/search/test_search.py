"""Search: exact results for a fixed corpus (the suite runs this on SQLite FTS5 and on PostgreSQL), Korean
as people type it, snippets, the index kept in step, and need-to-know through the API and the command."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from access.choices import CaseMemberRole
from detection.services import annotation_review
from evidence.models import CustodyEvent
from search.models import IndexEntry
from search.services import case_search, entry_rank, search_reindex, snippet
from search.tokens import QueryTerm, index_terms, query_terms
from tests.factories import exhibit_to, live_grant, new_user, screenshot, stored_item, team
from tests.search.corpus import build_corpus, finding

pytestmark = pytest.mark.django_db

# query → the hits in order, as (corpus position, field)
EXPECTED = {
    "피해자": [(0, "ocr"), (1, "document")],
    "피해": [(0, "ocr"), (1, "document"), (5, "document")],
    "텔레그램 방 3": [(0, "ocr")],
    "텔레그램": [(3, "name"), (0, "ocr")],
    "방": [(3, "name"), (6, "ocr"), (3, "ocr"), (0, "ocr")],  # shorter texts first within a field
    "3": [(3, "ocr"), (0, "ocr")],  # digits exactly: not 30
    "3번방": [(3, "ocr")],
    "samsung": [(2, "metadata")],
    "SAMSUNG sm": [(2, "metadata")],
    "png": [(0, "name"), (3, "name")],
    "졸업사진": [(4, "prompt")],
    "학교 캡션": [(1, "document")],
    "피해자 samsung": [],
    "script": [(6, "ocr")],
}


@pytest.fixture
def corpus(data_dir):
    t = team()
    items = build_corpus(t.case, t.lead)
    search_reindex(case=t.case)
    return t, items


def _hits(t, items, query, user=None):
    page = case_search(case=_case_of(t, user or t.lead), user=user or t.lead, query=query, limit=100)
    position = {item.pk: index for index, item in enumerate(items)}
    return page, [(position[hit["item"]], hit["field"]) for hit in page.results]


def _case_of(t, user):
    from access.selectors import case_get_for

    return case_get_for(user=user, number=t.case.number)


def test_terms_are_suffixes_of_korean_words_and_whole_other_words():
    assert index_terms("성범죄피해자가 Telegram 3번방") == (
        "성범죄피해자가 범죄피해자가 죄피해자가 피해자가 해자가 자가 가 telegram 3 번방 방"
    )
    assert query_terms("텔레그램 방 3") == [
        QueryTerm("텔레그램", True),
        QueryTerm("방", True),
        QueryTerm("3", False),
    ]
    assert query_terms("  ?!  ") == []


@pytest.mark.parametrize("query", sorted(EXPECTED))
def test_fixed_corpus_gives_exactly_the_expected_hits(corpus, query):
    t, items = corpus
    page, hits = _hits(t, items, query)
    assert hits == EXPECTED[query], connection.vendor
    assert page.count == len(EXPECTED[query])
    scores = [hit["score"] for hit in page.results]
    assert scores == sorted(scores, reverse=True)


def test_particles_and_longer_forms_are_found(corpus):
    t, items = corpus
    page, _ = _hits(t, items, "피해자")
    texts = " ".join(hit["snippet"] for hit in page.results)
    assert "<mark>피해자</mark>가" in texts and "<mark>피해자</mark>의" in texts


def test_snippet_highlights_and_escapes(corpus):
    t, items = corpus
    page, _ = _hits(t, items, "입장")
    assert page.results[0]["snippet"] == "방 30 <mark>입장</mark> &lt;script&gt;"
    long = "앞 " * 200 + "피해자가 " + "뒤 " * 200
    cut = snippet(long, query_terms("피해자"))
    assert cut.startswith("…") and cut.endswith("…") and "<mark>피해자</mark>가" in cut


def test_score_is_the_stored_rank(corpus):
    t, items = corpus
    page, _ = _hits(t, items, "samsung")
    entry = IndexEntry.objects.get(item=items[2], field="metadata")
    assert page.results[0]["score"] == entry.rank == entry_rank("metadata", entry.terms)


def test_reindex_rebuilds_the_same_index(corpus):
    t, items = corpus
    before = sorted(IndexEntry.objects.filter(case=t.case).values_list("item_id", "field", "terms"))
    IndexEntry.objects.filter(case=t.case).delete()
    out = StringIO()
    call_command("search_reindex", "--case", t.case.number, "--json", stdout=out)
    assert json.loads(out.getvalue())["entries"] == len(before)
    after = sorted(IndexEntry.objects.filter(case=t.case).values_list("item_id", "field", "terms"))
    assert after == before
    _, hits = _hits(t, items, "피해자")
    assert hits == EXPECTED["피해자"]


def test_a_rejected_finding_leaves_the_index(corpus):
    t, items = corpus
    annotation = items[1].annotations.get()
    annotation_review(annotation=annotation, actor=t.lead, decision="rejected", reason="misread")
    _, hits = _hits(t, items, "피해자")
    assert hits == [(0, "ocr")]


def test_destroyed_items_leave_the_index(corpus):
    from search.services import index_forget

    t, items = corpus
    index_forget(kind="item", object_ids=[items[0].pk])
    _, hits = _hits(t, items, "피해자")
    assert hits == [(1, "document")]


def test_real_ocr_run_is_searchable(data_dir):
    from detection.detectors.ocr import ocr_detector
    from detection.services import detection_run

    t = team()
    item = stored_item(
        case=t.case,
        data=screenshot(["가해자 계정 공유방", "Join the room"]),
        actor=t.lead,
        name="capture.png",
        mime="image/png",
    )
    detection_run(item=item, detector=ocr_detector(), actor=t.lead)
    page = case_search(case=_case_of(t, t.lead), user=t.lead, query="공유", limit=10)
    assert [(hit["item"], hit["field"]) for hit in page.results] == [(item.pk, "ocr")]


def test_a_search_is_a_custody_event(corpus):
    t, items = corpus
    before = CustodyEvent.objects.filter(case=t.case, action="searched").count()
    _hits(t, items, "피해자")
    event = CustodyEvent.objects.filter(case=t.case, action="searched").latest("seq")
    assert CustodyEvent.objects.filter(case=t.case, action="searched").count() == before + 1
    assert event.actor == t.lead and event.actor_role == "lead" and event.item_id is None
    assert event.details == {"query": "피해자", "hits": 2, "scope": "case"}


# --- need-to-know, through the API and the command -----------------------------------------------------


def _api(user, number, query, **params):
    client = APIClient()
    client.force_authenticate(user)
    return client.get(f"/api/v1/cases/{number}/search/", {"q": query, **params})


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (CaseMemberRole.LEAD, 200),
        (CaseMemberRole.INVESTIGATOR, 200),
        (CaseMemberRole.ANALYST, 200),
        (CaseMemberRole.PROSECUTOR, 200),
        (CaseMemberRole.VICTIM_SUPPORT, 403),
        (CaseMemberRole.AUDITOR, 403),
    ],
)
def test_api_by_role(corpus, role, status):
    t, _items = corpus
    user = t.lead if role == CaseMemberRole.LEAD else t.member(role)
    events = CustodyEvent.objects.filter(action="searched").count()
    response = _api(user, t.case.number, "피해자")
    assert response.status_code == status, response.content
    if status == 403:
        assert CustodyEvent.objects.filter(action="searched").count() == events  # a refusal writes nothing
        assert "피해자" not in response.content.decode()
    elif role == CaseMemberRole.PROSECUTOR:
        assert response.json()["count"] == 0  # no shared exhibit yet: nothing of the case's evidence
    else:
        body = response.json()
        assert body["count"] == 2 and set(body["results"][0]) == {
            "item",
            "object",
            "field",
            "snippet",
            "score",
        }


def test_prosecutor_finds_only_shared_exhibits_items(corpus):
    t, items = corpus
    prosecutor = t.member(CaseMemberRole.PROSECUTOR)
    exhibit_to(t, [items[1]])
    body = _api(prosecutor, t.case.number, "피해자").json()
    assert [hit["item"] for hit in body["results"]] == [items[1].pk]


def test_non_members_and_break_glass_get_nothing(corpus):
    t, _items = corpus
    outsider = new_user()
    assert _api(outsider, t.case.number, "피해자").status_code == 404
    assert _api(outsider, "NO-SUCH-CASE", "피해자").status_code == 404  # the same answer as a real case
    admin = new_user(is_staff=True)
    live_grant(case=t.case, user=admin)
    assert _api(admin, t.case.number, "피해자").status_code == 403


def test_api_paginates_and_rejects_empty_queries(corpus):
    t, items = corpus
    first = _api(t.lead, t.case.number, "방", limit=2).json()
    assert first["count"] == 4 and len(first["results"]) == 2 and first["next"] and first["previous"] is None
    second = APIClient()
    second.force_authenticate(t.lead)
    rest = second.get(first["next"]).json()
    assert [r["item"] for r in first["results"] + rest["results"]] == [items[i].pk for i, _ in EXPECTED["방"]]
    response = _api(t.lead, t.case.number, " !? ")
    assert response.status_code == 400 and "at least one word" in response.json()["detail"]


def test_command_prints_what_the_api_returns(corpus):
    t, _items = corpus
    out = StringIO()
    call_command("search", t.case.number, "피해자", "--actor", t.lead.username, "--json", stdout=out)
    printed = json.loads(out.getvalue())
    assert printed["count"] == 2
    assert printed["results"] == _api(t.lead, t.case.number, "피해자").json()["results"]


@pytest.mark.parametrize("who", [CaseMemberRole.VICTIM_SUPPORT, CaseMemberRole.AUDITOR, "outsider"])
def test_command_refuses_victim_support_auditors_and_outsiders(corpus, who):
    t, _items = corpus
    actor = new_user() if who == "outsider" else t.member(who)
    events = CustodyEvent.objects.filter(action="searched").count()
    out, err = StringIO(), StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("search", t.case.number, "피해자", "--actor", actor.username, stdout=out, stderr=err)
    assert exited.value.code == 1 and err.getvalue().strip()
    assert "피해자" not in out.getvalue() and "피해자가" not in err.getvalue()
    assert CustodyEvent.objects.filter(action="searched").count() == events  # a refusal writes nothing


# --- cross-case -----------------------------------------------------------------------------------------


def test_cross_case_search_discloses_only_existence_and_whom_to_ask(data_dir):
    mine, theirs = team(), team()
    mine_item = stored_item(case=mine.case, data=b"a", actor=mine.lead, name="a.png")
    finding(mine_item, "ocr", "ocr_text", "extracted_text", {"text": "졸업사진 유출 단체방"})
    their_item = stored_item(case=theirs.case, data=b"b", actor=theirs.lead, name="b.png")
    finding(their_item, "ocr", "ocr_text", "extracted_text", {"text": "한빛고 졸업사진 모음"})
    search_reindex()
    client = APIClient()
    client.force_authenticate(mine.lead)
    body = client.get("/api/v1/search/", {"q": "졸업사진"}).json()
    assert body["count"] == 1 and body["results"][0]["case"] == mine.case.number
    assert body["results"][0]["item"] == mine_item.pk
    assert len(body["elsewhere"]) == 1
    told = json.dumps(body["elsewhere"], ensure_ascii=False)
    assert theirs.lead.username in told or theirs.lead.get_full_name() in told
    for secret in (theirs.case.number, "한빛고", "b.png"):
        assert secret not in told
    # Nothing but that it exists and whom to ask: no item id, count or text in any field.
    assert body["elsewhere"] == [{"exists": True, "contacts": body["elsewhere"][0]["contacts"]}]
    assert all(set(contact) == {"name", "unit"} for contact in body["elsewhere"][0]["contacts"])
    # Both ledgers record the search; the other case's says only that existence was disclosed.
    other = CustodyEvent.objects.filter(case=theirs.case, action="searched").get()
    assert other.actor == mine.lead and other.details["disclosed"] == "exists"


def test_cross_case_search_is_for_leads(data_dir):
    t = team()
    investigator = t.member(CaseMemberRole.INVESTIGATOR)
    client = APIClient()
    client.force_authenticate(investigator)
    response = client.get("/api/v1/search/", {"q": "졸업사진"})
    assert response.status_code == 403 and "case leads" in response.json()["detail"]


def test_sealed_identity_fields_are_never_indexed(corpus):
    """A victim's and a suspect's sealed identities (name, birth date, contact, identifiers) are in no
    index entry after a rebuild, and a search for any of them finds nothing; their pseudonyms neither."""
    from parties.services.people import Identity, person_record
    from tests.factories import victim

    t, items = corpus
    sealed = [
        Identity(
            name="김지수",
            birth_date="2009-03-14",
            contact="jisoo.kim@example.kr",
            identifiers=(("phone", "010-2345-6789"),),
        ),
        Identity(name="박가해", contact="gahae@example.kr", identifiers=(("account", "gahae_tg"),)),
    ]
    victim(t, identity=sealed[0], is_minor=True)
    person_record(case=t.case, kind="suspect", actor=t.lead, identity=sealed[1])
    search_reindex(case=t.case)
    texts = " ".join(IndexEntry.objects.filter(case=t.case).values_list("text", flat=True))
    values = ["김지수", "2009-03-14", "jisoo.kim", "010-2345-6789", "박가해", "gahae", "V-1", "S-1"]
    assert not [value for value in values if value in texts]
    for query in ["김지수", "지수", "박가해", "jisoo", "gahae_tg", "2345"]:
        assert _hits(t, items, query)[1] == [], query


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner settings")
def test_searches_read_the_gin_index_and_leave_the_planner_as_they_found_it(corpus):
    """On a small table PostgreSQL scans the table, building every entry's vector (on 100,000 items a
    common word took over a second that way); inside ``index_plans`` it reads the GIN index."""
    from django.db import transaction

    from search import backends

    t, _items = corpus
    matched = backends.matching(IndexEntry.objects.filter(case=t.case), query_terms("방"))
    sql, params = matched.query.sql_with_params()

    def plan() -> str:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + sql, params)
            return "\n".join(row[0] for row in cursor.fetchall())

    def settings_now() -> tuple[str, str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('enable_seqscan'), current_setting('max_parallel_workers_per_gather')"
            )
            return cursor.fetchone()

    with transaction.atomic():
        before = settings_now()
        assert "search_terms_gin" not in plan()  # a handful of rows: the planner scans the table
        with backends.index_plans():
            assert "search_terms_gin" in plan()
            assert settings_now() == ("off", "0")
        assert settings_now() == before
    assert settings_now() == before


def test_a_reindex_larger_than_a_batch_stores_every_entry(corpus, monkeypatch):
    """Entries are written a batch at a time, each batch read before it is written (on PostgreSQL a COPY
    is open while a batch is written, and the providers' queries stream from the same connection)."""
    from search import services

    t, items = corpus
    before = sorted(IndexEntry.objects.filter(case=t.case).values_list("item_id", "field", "source", "terms"))
    monkeypatch.setattr(services, "BATCH", 2)
    assert search_reindex(case=t.case) == len(before) > 4
    after = sorted(IndexEntry.objects.filter(case=t.case).values_list("item_id", "field", "source", "terms"))
    assert after == before
    _, hits = _hits(t, items, "방")
    assert hits == EXPECTED["방"]
