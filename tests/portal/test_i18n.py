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
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.factories_access import verified_login
from tests.factories_cases import team

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "locale"
LANGUAGES = ["ko", "en"]
SOURCES = [
    "access",
    "evidence",
    "detection",
    "parties",
    "support",
    "exhibits",
    "haetae",
    "portal",
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
