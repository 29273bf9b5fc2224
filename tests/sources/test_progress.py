"""`ingest --as telegram|kakaotalk|ufdr` on a terminal: a bar of the messages being read, with the share
done, the time left and the messages recorded; none with --json or when the output is not a terminal."""

import io
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import call_command

from sources.models import Message
from tests.factories import CaseFactory, CaseMemberFactory, UserFactory
from tests.sources.exports import KAKAO_PC, write_telegram_export, write_ufdr

NUMBER = "2024-SEOUL-0707"
BAR = "reading messages"


class Terminal(io.StringIO):
    """What a terminal looks like to the command (isatty), kept as text for the test to read."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def case():
    case = CaseFactory(number=NUMBER)
    CaseMemberFactory(case=case, user=UserFactory(username="park"))
    return case


def _telegram(tmp_path: Path) -> Path:
    return write_telegram_export(tmp_path / "ChatExport")


def _kakaotalk(tmp_path: Path) -> Path:
    path = tmp_path / "Talk_2024.1.5.txt"
    path.write_text(KAKAO_PC, encoding="utf-8")
    return path


def _ufdr(tmp_path: Path) -> Path:
    write_ufdr(tmp_path / "phone.ufdr")
    return tmp_path / "phone.ufdr"


SOURCES: dict[str, Callable[[Path], Path]] = {"telegram": _telegram, "kakaotalk": _kakaotalk, "ufdr": _ufdr}


def _ingest(monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[str, str]:
    """Run the command with stdout and stderr on a (pretend) terminal; returns what each received."""
    terminal_out, terminal_err = Terminal(), Terminal()
    monkeypatch.setattr(sys, "stdout", terminal_out)
    monkeypatch.setattr(sys, "stderr", terminal_err)
    out = io.StringIO()
    call_command("ingest", NUMBER, *args, "--actor", "park", stdout=out, stderr=terminal_err)
    return out.getvalue() + terminal_out.getvalue(), terminal_err.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(SOURCES))
def test_a_terminal_sees_the_messages_being_read_with_the_time_left(
    case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    path = SOURCES[kind](tmp_path)
    out, err = _ingest(monkeypatch, str(path), "--as", kind)
    recorded = Message.objects.filter(case=case).count()
    assert recorded > 0
    assert f"read as {kind}: {recorded} messages" in out
    lines = [line for line in re.split(r"[\r\n]", err) if BAR in line]
    assert lines, err
    final = lines[-1]
    assert "100%" in final and "ETA" in final and f"{recorded} messages" in final


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(SOURCES))
def test_no_bar_with_json(case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    path = SOURCES[kind](tmp_path)
    out, err = _ingest(monkeypatch, str(path), "--as", kind, "--json")
    assert json.loads(out)["counts"]["messages"] > 0
    assert BAR not in err and "ETA" not in err


@pytest.mark.django_db
def test_no_bar_when_the_output_is_not_a_terminal(case, tmp_path: Path) -> None:
    err = io.StringIO()
    call_command(
        "ingest", NUMBER, str(_kakaotalk(tmp_path)), "--actor", "park", stdout=io.StringIO(), stderr=err
    )
    assert Message.objects.filter(case=case).exists()
    assert BAR not in err.getvalue()
