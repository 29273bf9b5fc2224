"""The Korean and English catalogues are complete, and pages speak Korean by default and English on request.

Decision (docs/portal.md, "Languages"): msgids are English, so the English catalogue may leave a msgstr empty,
which gettext reads as "the msgid itself"; the Korean catalogue must translate every msgid. Neither may hold
a fuzzy entry (gettext ignores those, so a fuzzy Korean string would silently show English).
"""

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.factories import team, verified_login

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "locale"
LANGUAGES = ["ko", "en"]
# Every app of the project (each has an apps.py), the project package, the templates and manage.py.
SOURCES = [
    *sorted(path.name for path in ROOT.iterdir() if (path / "apps.py").is_file()),
    "haetae",
    "templates",
    "manage.py",
]


@dataclass
class Entry:
    msgid: str
    msgstrs: list[str]
    flags: set[str] = field(default_factory=set)
    msgctxt: str | None = None
    obsolete: bool = False


def _unquote(text: str) -> str:
    body = text.strip()
    assert body.startswith('"') and body.endswith('"'), f"not a quoted PO string: {text!r}"
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body[1:-1])


def parse_po(path: Path) -> list[Entry]:
    """The entries of a PO file (header included, as the entry with msgid "")."""
    entries: list[Entry] = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
        lines = [line for line in block.splitlines() if line.strip()]
        if not lines:
            continue
        obsolete = all(line.startswith("#~") for line in lines if not line.startswith("#,"))
        fields: dict[str, str] = {}
        flags: set[str] = set()
        key = ""
        for raw in lines:
            line = raw[2:].strip() if raw.startswith("#~") else raw
            if line.startswith("#,"):
                flags |= {flag.strip() for flag in line[2:].split(",")}
                continue
            if line.startswith("#"):
                continue
            match = re.match(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(\".*\")$", line)
            if match:
                key = match.group(1)
                fields[key] = _unquote(match.group(2))
            else:
                fields[key] += _unquote(line)
        if "msgid" not in fields:
            continue
        msgstrs = [value for name, value in sorted(fields.items()) if name.startswith("msgstr")]
        entries.append(Entry(fields["msgid"], msgstrs, flags, fields.get("msgctxt"), obsolete))
    return entries


def _messages(language: str) -> list[Entry]:
    path = LOCALE / language / "LC_MESSAGES" / "django.po"
    assert path.exists(), f"{path} is missing: run manage.py makemessages -l ko -l en --ignore=.venv"
    return [entry for entry in parse_po(path) if entry.msgid and not entry.obsolete]


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_fuzzy_entries(language: str) -> None:
    fuzzy = [
        entry.msgid
        for entry in parse_po(LOCALE / language / "LC_MESSAGES" / "django.po")
        if "fuzzy" in entry.flags
    ]
    assert not fuzzy, f"{language}: fuzzy entries (check the translation, then remove the flag): {fuzzy[:10]}"


def test_every_korean_msgid_is_translated() -> None:
    untranslated = [entry.msgid for entry in _messages("ko") if not all(s.strip() for s in entry.msgstrs)]
    assert not untranslated, (
        f"{len(untranslated)} msgids have no Korean (add them to locale/ko/LC_MESSAGES/django.po; the terms "
        f"are in docs/_i18n/glossary.md): {untranslated[:15]}"
    )


def test_both_catalogues_hold_the_same_msgids_and_keep_placeholders() -> None:
    korean = {(entry.msgctxt, entry.msgid): entry for entry in _messages("ko")}
    english = {(entry.msgctxt, entry.msgid): entry for entry in _messages("en")}
    assert set(korean) == set(english), "run makemessages for both languages: -l ko -l en"
    for entry in korean.values():
        wanted = set(re.findall(r"%\(\w+\)s|\{\{ ?\w+ ?\}\}", entry.msgid))
        for translation in entry.msgstrs:
            assert set(re.findall(r"%\(\w+\)s|\{\{ ?\w+ ?\}\}", translation)) == wanted, entry.msgid


def test_the_catalogues_cover_every_string_in_the_code(tmp_path: Path) -> None:
    """makemessages over a copy of the sources finds no msgid the committed catalogue lacks."""
    if shutil.which("xgettext") is None:
        pytest.fail("GNU gettext (xgettext) is missing: scripts/sysdeps.sh installs it")
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(
                source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo", "vendor")
            )
        else:
            shutil.copy2(source, tmp_path / name)
    env = {
        **os.environ,
        "HAETAE_DATA_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "haetae.settings",
    }
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "ko", "--no-obsolete"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
    )
    found = {(e.msgctxt, e.msgid) for e in parse_po(tmp_path / "locale/ko/LC_MESSAGES/django.po") if e.msgid}
    committed = {(entry.msgctxt, entry.msgid) for entry in _messages("ko")}
    missing = sorted(msgid for _ctx, msgid in found - committed)
    assert not missing, (
        "strings in the code are not in locale/: run manage.py makemessages -l ko -l en --ignore=.venv "
        f"--ignore=node_modules and translate them: {missing[:15]}"
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("compiled_catalogues")
def test_pages_render_in_korean_by_default_and_in_english_after_switching(settings: Any) -> None:
    settings.LANGUAGE_CODE = "ko"  # the installation's default (the suite's fixture reads English)
    client = Client()
    sign_in = client.get("/login/").content.decode()
    assert '<html lang="ko">' in sign_in and "로그인" in sign_in and "일회용 코드" in sign_in
    t = team()
    verified_login(client, t.lead)
    korean = client.get("/").content.decode()
    assert "대시보드" in korean and "내 사건" in korean and "주임 수사관" in korean
    assert "My cases" not in korean
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    english = client.get("/").content.decode()
    assert '<html lang="en">' in english and "My cases" in english and "lead investigator" in english
    assert "내 사건" not in english


# --- raw codes: what a template shows must be words, never a stored code ---

# snake_case codes (c2pa_none, not_probative, derived_from) and NudeNet's classes (FEMALE_BREAST_EXPOSED).
RAW_CODE = re.compile(
    r"(?<![\w.@/-])(?:[a-z][a-z0-9]*(?:_[a-z0-9]+)+|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)(?![\w.-])"
)


class _VisibleText(HTMLParser):
    """The text a reader sees: no tags, attributes, scripts, or cells that show data verbatim (file names,
    hashes and JSON in ``mono``/``name`` cells, ``code`` and ``pre``)."""

    VOID = {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }
    VERBATIM_TAGS = {"script", "style", "code", "pre", "template"}
    VERBATIM_CLASSES = {"mono", "name"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []
        self.chunks: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        classes = set((dict(attrs).get("class") or "").split())
        self.stack.append(tag in self.VERBATIM_TAGS or bool(classes & self.VERBATIM_CLASSES))

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not any(self.stack):
            self.chunks.append(data)


def raw_codes(html: str, *, words: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    """Stored codes shown as visible text: snake_case or NUDENET_STYLE tokens, and the one-word ``words``."""
    parser = _VisibleText()
    parser.feed(html)
    text = " ".join(parser.chunks)
    found = RAW_CODE.findall(text)
    found += [word for word in words if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text)]
    return sorted(set(found))


def test_the_raw_code_finder_finds_codes_and_leaves_data_alone() -> None:
    page = (
        '<p>c2pa_none <span title="not_probative">증명력 없음</span> FEMALE_BREAST_EXPOSED depicts</p>'
        '<td class="mono">file_hashes</td><td class="name">my_photo.jpg</td><code>derived_from</code>'
        "<script>var x = 'ela_map';</script><p>E-001 V-1 2024-TEST-0001 image/jpeg SHA-256</p>"
    )
    assert raw_codes(page, words={"depicts", "pdq"}) == ["FEMALE_BREAST_EXPOSED", "c2pa_none", "depicts"]


def _finding(item: Any, detector: Any, label: str, category: str) -> None:
    from django.utils import timezone

    from detection.models import Annotation, DetectionRun
    from detection.models.runs import RunStatus

    run, _ = DetectionRun.objects.get_or_create(
        item=item,
        detector=detector,
        defaults={"status": RunStatus.DONE, "input_sha256": item.blob_id, "finished_at": timezone.now()},
    )
    Annotation.objects.create(
        run=run,
        item=item,
        label=label,
        category=category,
        score=0.9,
        details={},
        detector_name=detector.name,
        detector_version=detector.version,
        input_sha256=item.blob_id,
        ran_at=timezone.now(),
    )


@pytest.fixture
def korean_case_with_everything(settings: Any) -> tuple[Any, Any, Any]:
    """A case whose pages show a finding of every kind, every link relation, and a person and channel."""
    from detection.labels import FINDING_LABELS
    from detection.models import Detector
    from parties.choices import ItemPersonRelation, LinkConfidence, PersonChannelRelation
    from parties.services.links import (
        Assertion,
        link_assert_derivation,
        link_assert_item_channel,
        link_assert_item_person,
        link_assert_person_channel,
    )
    from tests.factories import channel, item, jpeg_bytes, suspect, victim

    settings.LANGUAGE_CODE = "ko"
    t = team()
    photo = item(t, jpeg_bytes(), name="scene_one.jpg")
    source = item(t, jpeg_bytes("camera"), name="source.jpg")
    categories = {
        "c2pa_none": "not_probative",
        "generator_metadata_none": "not_probative",
        "pdq": "perceptual_hash",
    }
    detector = Detector.objects.create(name="every-label", version="1")
    for label in FINDING_LABELS:
        category = categories.get(label) or (
            "exposed" if label.endswith("_EXPOSED") else "forensic_indicator"
        )
        _finding(photo, detector, label, category)
    for category in ("not_probative", "forensic_indicator", "perceptual_hash", "ai_provenance", "model_pack"):
        _finding(photo, Detector.objects.create(name=f"cat-{category}", version="1"), "face", category)
    sure = Assertion(confidence=LinkConfidence.CONFIRMED)
    v1, s1, room = victim(t), suspect(t), channel(t)
    for relation in ItemPersonRelation.values:
        link_assert_item_person(
            item=photo,
            person=s1 if relation != "depicts" else v1,
            relation=relation,
            assertion=sure,
            actor=t.lead,
        )
    for relation in PersonChannelRelation.values:
        link_assert_person_channel(person=s1, channel=room, relation=relation, assertion=sure, actor=t.lead)
    link_assert_item_channel(item=photo, channel=room, assertion=sure, actor=t.lead)
    link_assert_derivation(item=photo, source_item=source, assertion=sure, actor=t.lead)
    return t, photo, source


@pytest.mark.django_db
@pytest.mark.usefixtures("compiled_catalogues")
def test_korean_pages_show_words_not_stored_codes(korean_case_with_everything: Any) -> None:
    from detection.labels import FINDING_CATEGORIES
    from portal.labels import LINK_RELATIONS

    t, photo, _source = korean_case_with_everything
    client = Client()
    verified_login(client, t.lead)
    one_word_codes = {code for code in [*FINDING_CATEGORIES, *LINK_RELATIONS] if "_" not in code} - {"face"}
    for url in (f"/evidence/{photo.pk}/", f"/cases/{t.case.number}/evidence/", f"/cases/{t.case.number}/"):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert '<html lang="ko">' in html
        assert raw_codes(html, words=one_word_codes) == [], f"{url} shows stored codes instead of words"
    graph = client.get(f"/cases/{t.case.number}/graph.json").json()
    relations = {edge["relation"]: edge["relation_label"] for edge in graph["edges"]}
    assert set(relations) == set(LINK_RELATIONS)
    assert relations["derived_from"] == "원본" and relations["depicts"] == "등장"
    assert all(label != code for code, label in relations.items())


@pytest.mark.django_db
@pytest.mark.usefixtures("compiled_catalogues")
def test_the_korean_admin_names_every_model_in_korean(admin_client: Any, settings: Any) -> None:
    settings.LANGUAGE_CODE = "ko"
    html = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    for english in ("Legal authoritys", "Bank entrys", "Legal authorities", "Bank entries", "Evidence vault"):
        assert english not in html
    for korean in ("법적 근거", "해시 목록 항목", "증거 보관소", "보관 연속성 이벤트"):
        assert korean in html


def test_every_model_has_a_translated_name_and_plural() -> None:
    from django.apps import apps
    from django.utils.functional import Promise

    untranslated = [
        model.__name__
        for model in apps.get_models()
        if model._meta.app_label in {"evidence", "detection", "access", "parties", "support", "exhibits"}
        and not (
            isinstance(model._meta.original_attrs.get("verbose_name"), Promise)
            and isinstance(model._meta.original_attrs.get("verbose_name_plural"), Promise)
        )
    ]
    assert not untranslated, f"set a translated verbose_name and verbose_name_plural in Meta: {untranslated}"


@pytest.mark.django_db
@pytest.mark.usefixtures("compiled_catalogues")
def test_the_korean_timeline_shows_words_for_kinds_trust_and_sources(data_dir: Any, settings: Any) -> None:
    """Every kind of point the case timeline draws, its trust and where its time came from, in Korean on
    the page, in the CSV's label columns and in the API's labels (the codes stay for scripts)."""
    import csv
    import io
    from datetime import UTC, datetime

    from rest_framework.test import APIClient

    from access.choices import CaseMemberRole
    from evidence.models import EvidenceItem
    from parties.choices import LinkConfidence
    from parties.models import ItemChannelLink
    from search.choices import TimelineKind, TimeTrust
    from support import services as support
    from support.choices import TakedownAddressee, TakedownPlatform
    from tests.factories import channel, stored_item, victim
    from tests.search.corpus import finding

    settings.LANGUAGE_CODE = "ko"
    t = team()
    photo = stored_item(case=t.case, data=b"photo", actor=t.lead, name="photo.jpg")
    moment = datetime(2024, 4, 30, 10, 0, tzinfo=UTC)
    EvidenceItem.objects.filter(pk=photo.pk).update(
        file_modified_at=moment, file_created_at=moment, file_changed_at=moment, file_accessed_at=moment
    )
    finding(photo, "metadata", "capture_time", "metadata", {"iso": "2024-05-01T23:30:00+09:00"})
    finding(photo, "metadata", "digitised_time", "metadata", {"local": "2024-05-01T12:00:00"})
    ItemChannelLink.objects.create(
        item=photo,
        channel=channel(t, handle="@room"),
        confidence=LinkConfidence.CONFIRMED,
        posted_at=datetime(2024, 5, 2, 1, 0, tzinfo=UTC),
        first_seen_at=datetime(2024, 5, 3, 1, 0, tzinfo=UTC),
    )
    worker = t.member(CaseMemberRole.VICTIM_SUPPORT)
    sfile = support.support_file_open(case=t.case, person=victim(t), actor=worker, assigned_worker=worker)
    takedown = support.takedown_create(
        case=t.case,
        support_file=sfile,
        actor=worker,
        addressee=TakedownAddressee.PLATFORM,
        platform=TakedownPlatform.TELEGRAM,
        target_url="https://t.me/room/1",
    )
    support.takedown_send(takedown=takedown, actor=worker)

    client = Client()
    verified_login(client, t.lead)
    html = client.get(f"/cases/{t.case.number}/timeline/").content.decode()
    assert '<html lang="ko">' in html
    shown = {
        "acquired",
        "custody",
        "file_modified",
        "file_created",
        "file_changed",
        "file_accessed",
        "capture",
        "digitised",
        "posted",
        "first_seen",
        "takedown",
    }
    assert shown <= {value for value in TimelineKind.values if f'data-kind="{value}"' in html}
    codes = {code for code in [*TimelineKind.values, *TimeTrust.values] if "_" not in code}
    assert raw_codes(html, words=codes) == [], "the timeline page shows stored codes instead of words"
    for korean in (
        "촬영 시각 (EXIF)",
        "보관소에 수집됨",
        "약함",
        "주장",
        "촬영 시각이 아님",
        "텔레그램 @room에 게시",
    ):
        assert korean in html

    api = APIClient()
    api.force_authenticate(t.lead)
    body = api.get(f"/api/v1/cases/{t.case.number}/timeline/", {"kind": "capture"}).json()
    (point,) = body["points"]
    assert (point["kind"], point["trust"]) == ("capture", "claimed")  # codes for scripts
    assert (point["kind_label"], point["trust_label"]) == ("촬영 시각 (EXIF)", "주장")
    assert point["time_source"] == "파일의 EXIF (시간대 오프셋 포함)"
    response = api.get(f"/api/v1/cases/{t.case.number}/timeline/", {"kind": "file_modified", "format": "csv"})
    header, row = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert dict(zip(header, row, strict=True))["kind_label"] == "파일 수정 (파일 시스템)"
    assert dict(zip(header, row, strict=True))["trust_label"] == "약함"
