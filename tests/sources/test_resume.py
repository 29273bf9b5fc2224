"""kill -9 in the middle of recording an export's messages: whole batches survive, a re-run completes."""

import json
import signal
from pathlib import Path

import pytest

from tests.evidence.test_ingest_crash import ACTOR, CASE_NUMBER, manage, run_django
from tests.sources.exports import telegram_message, write_telegram_export

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

MESSAGES = 1234  # three batches of messages

_STATE = """
import json
from django.db.models import Count
from evidence.models import Acquisition
from sources.models import Message, MessageItem
from parties.models import ItemChannelLink
print(json.dumps({
    "messages": Message.objects.count(),
    "distinct": Message.objects.values("chat", "key").distinct().count(),
    "media": MessageItem.objects.count(),
    "links": ItemChannelLink.objects.count(),
    "acquisitions": list(Acquisition.objects.order_by("pk").values_list("status", flat=True)),
}))
"""


@pytest.mark.parametrize("kill_at", ["after_message_batch:2", "before_complete"])
def test_kill_while_recording_messages_then_rerun_completes(
    kill_at: str, tmp_path: Path, data_dir: Path
) -> None:
    from tests.evidence.test_ingest_crash import make_subprocess_env

    env = make_subprocess_env(data_dir, tmp_path)
    photo = "photos/photo_1@05-01-2024_15-04-05.jpg"
    export = write_telegram_export(
        tmp_path / "ChatExport",
        [
            telegram_message(n, text=f"message {n}", photo=photo if n % 100 == 0 else None)
            for n in range(1, MESSAGES + 1)
        ],
    )
    argv = ["ingest", CASE_NUMBER, str(export), "--actor", ACTOR, "--json"]
    killed = manage({**env, "HAETAE_TEST_KILL_AT": kill_at}, *argv)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    partial = json.loads(run_django(env, _STATE))
    assert partial["messages"] < MESSAGES or kill_at == "before_complete"
    assert partial["messages"] % 500 == 0 or partial["messages"] == MESSAGES  # whole batches only

    rerun = manage(env, *argv)
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout)
    assert report["counts"]["messages"] + report["counts"]["messages_duplicate"] == MESSAGES
    state = json.loads(run_django(env, _STATE))
    assert state["messages"] == state["distinct"] == MESSAGES
    assert state["media"] == MESSAGES // 100 == state["links"]
    assert state["acquisitions"] == ["interrupted", "completed"]
    verify = manage(env, "verify", "--json")
    assert verify.returncode == 0 and json.loads(verify.stdout)["ok"] is True, verify.stdout


def test_kill_while_recording_an_html_export_then_rerun_completes(tmp_path: Path, data_dir: Path) -> None:
    from tests.evidence.test_ingest_crash import make_subprocess_env
    from tests.sources.exports import html_message, html_page, html_photo

    env = make_subprocess_env(data_dir, tmp_path)
    export = write_telegram_export(tmp_path / "ChatExport", [])
    (export / "result.json").unlink()  # the HTML export alone, in the exporter's pages of a thousand
    photo = "photos/photo_1@05-01-2024_15-04-05.jpg"
    blocks = [
        html_message(n, text=f"message {n}", inner=html_photo(photo, thumb=False) if n % 100 == 0 else "")
        for n in range(1, MESSAGES + 1)
    ]
    (export / "messages.html").write_text(html_page("".join(blocks[:1000]), next_page="messages2.html"))
    (export / "messages2.html").write_text(html_page("".join(blocks[1000:])))
    argv = ["ingest", CASE_NUMBER, str(export), "--actor", ACTOR, "--json"]
    killed = manage({**env, "HAETAE_TEST_KILL_AT": "after_message_batch:2"}, *argv)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert json.loads(run_django(env, _STATE))["messages"] == 1000  # the first page's two whole batches

    rerun = manage(env, *argv)
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout)
    assert report["source_kind"] == "telegram"
    assert (report["counts"]["messages"], report["counts"]["messages_duplicate"]) == (MESSAGES - 1000, 1000)
    state = json.loads(run_django(env, _STATE))
    assert state["messages"] == state["distinct"] == MESSAGES
    assert state["media"] == MESSAGES // 100 == state["links"]
    assert state["acquisitions"] == ["interrupted", "completed"]


_SOURCE_STATE = """
import json
from evidence.models import Acquisition
from sources.models import DeviceFile, Message, MessageItem
print(json.dumps({
    "messages": Message.objects.count(),
    "distinct": Message.objects.values("chat", "key").distinct().count(),
    "media": MessageItem.objects.count(),
    "device_files": [
        DeviceFile.objects.filter(acquisition=a).count() for a in Acquisition.objects.order_by("pk")
    ],
    "acquisitions": list(Acquisition.objects.order_by("pk").values_list("status", flat=True)),
}))
"""


@pytest.mark.parametrize("kind", ["kakaotalk", "ufdr"])
def test_kill_while_recording_a_kakaotalk_or_ufdr_source_then_rerun_completes(
    kind: str, tmp_path: Path, data_dir: Path
) -> None:
    from tests.evidence.test_ingest_crash import make_subprocess_env
    from tests.sources.exports import kakaotalk_many_lines, ufdr_many_messages, write_ufdr

    env = make_subprocess_env(data_dir, tmp_path)
    if kind == "kakaotalk":
        source = tmp_path / "Talk_2024.1.5.txt"
        source.write_text(kakaotalk_many_lines(MESSAGES), encoding="utf-8")
        expected, media, kill_at = MESSAGES, 0, "after_message_batch:2"
    else:
        source = tmp_path / "phone.ufdr"
        write_ufdr(source, more_messages=ufdr_many_messages(MESSAGES - 3))  # with the report's own three
        expected, media = MESSAGES, 2 + (MESSAGES - 3) // 100
        kill_at = "after_message_batch:3"  # the first batch is the report's device files
    argv = ["ingest", CASE_NUMBER, str(source), "--as", kind, "--actor", ACTOR, "--json"]
    killed = manage({**env, "HAETAE_TEST_KILL_AT": kill_at}, *argv)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    partial = json.loads(run_django(env, _SOURCE_STATE))
    assert partial["messages"] == 1000  # two whole batches, nothing of the third
    assert partial["acquisitions"] == ["running"]

    rerun = manage(env, *argv)
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout)
    assert report["source_kind"] == kind
    assert (report["counts"]["messages"], report["counts"]["messages_duplicate"]) == (expected - 1000, 1000)
    state = json.loads(run_django(env, _SOURCE_STATE))
    assert state["messages"] == state["distinct"] == expected and state["media"] == media
    assert state["acquisitions"] == ["interrupted", "completed"]
    if kind == "ufdr":
        assert state["device_files"][1] == 4  # the completed run lists every file of the report
    verify = manage(env, "verify", "--json")
    assert verify.returncode == 0 and json.loads(verify.stdout)["ok"] is True, verify.stdout


def test_kill_while_recording_an_extraction_then_rerun_completes(tmp_path: Path, data_dir: Path) -> None:
    from tests.evidence.test_ingest_crash import make_subprocess_env

    env = make_subprocess_env(data_dir, tmp_path)
    root = tmp_path / "aleapp"
    files = 620  # more than one batch of device files
    for n in range(files):
        folder = root / "data" / "data" / f"app{n % 7}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"record-{n:04d}.db").write_bytes(b"SQLite format 3\x00" + str(n).encode())
    argv = ["ingest", CASE_NUMBER, str(root), "--as", "extraction", "--actor", ACTOR, "--json"]
    killed = manage({**env, "HAETAE_TEST_KILL_AT": "after_message_batch:1"}, *argv)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert json.loads(run_django(env, _SOURCE_STATE))["device_files"] == [500]  # one whole batch

    rerun = manage(env, *argv)
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout)
    assert report["source_kind"] == "extraction" and report["counts"]["device_files"] == files
    assert report["counts"]["duplicate"] == files  # the files themselves were all stored by the first run
    state = json.loads(run_django(env, _SOURCE_STATE))
    assert state["device_files"] == [500, files] and state["acquisitions"] == ["interrupted", "completed"]
    verify = manage(env, "verify", "--json")
    assert verify.returncode == 0 and json.loads(verify.stdout)["ok"] is True, verify.stdout
