"""kill -9 in the middle of a capture: the dead run is recorded as failed (its acquisition interrupted), a
new capture of the same address completes, and the ledger verifies."""

import json
import signal
from pathlib import Path
from typing import Any

import pytest

from tests.captures.site import TEXT, Site, site
from tests.evidence.test_ingest_crash import ACTOR, CASE_NUMBER, make_subprocess_env, manage, run_django

__all__ = ["site"]

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.browser]

_STATE = """
import json
from captures.models import Capture
from evidence.models import Acquisition
print(json.dumps({
    "captures": list(Capture.objects.order_by("pk").values_list("status", flat=True)),
    "reasons": list(Capture.objects.order_by("pk").values_list("reason", flat=True)),
    "acquisitions": list(Acquisition.objects.order_by("pk").values_list("status", flat=True)),
}))
"""

# What a dead run looks like once its time limit has long passed (the test cannot wait the real minutes).
_BACKDATE = """
from datetime import timedelta
from django.utils import timezone
from captures.models import Capture
Capture.objects.filter(status="running").update(started_at=timezone.now() - timedelta(hours=1))
"""


def test_kill_during_a_capture_then_a_new_capture_completes(
    site: Site, tmp_path: Path, data_dir: Path, settings: Any
) -> None:
    if not Path(settings.HAETAE_CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {settings.HAETAE_CHROMIUM}: run scripts/sysdeps.sh --test")
    env = {
        **make_subprocess_env(data_dir, tmp_path),
        "HAETAE_CAPTURE_ALLOW_PRIVATE": "1",
        "HAETAE_CAPTURE_TIMEOUT_SECONDS": "8",
        "HAETAE_CAPTURE_SCROLL_STEPS": "4",
    }
    argv = ["capture", CASE_NUMBER, site.url("/index.html"), "--actor", ACTOR, "--json"]
    # Killed once the page is fetched and its files' acquisition has started: the worst moment.
    killed = manage({**env, "HAETAE_TEST_KILL_AT": "after_start"}, *argv)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    state = json.loads(run_django(env, _STATE + _BACKDATE))  # read, then backdated (one child, not two)
    assert state == {"captures": ["running"], "reasons": [""], "acquisitions": ["running"]}

    rerun = manage(env, *argv)
    assert rerun.returncode == 0, rerun.stderr
    (outcome,) = json.loads(rerun.stdout)["captures"]
    assert outcome["status"] == "captured"
    state_line, dom = run_django(
        env,
        _STATE + "from evidence.models import EvidenceItem\nfrom evidence.vault import read_verified\n"
        f"item = EvidenceItem.objects.get(acquisition_id={outcome['acquisition']}, original_name='dom.txt')\n"
        "print(b''.join(read_verified(item.blob_id)).decode())",
    ).split("\n", 1)
    state = json.loads(state_line)
    assert state["captures"] == ["failed", "captured"] and "interrupted" in state["reasons"][0]
    assert state["acquisitions"] == ["interrupted", "completed"]
    assert TEXT in dom
    verify = manage(env, "verify", "--json")
    assert verify.returncode == 0 and json.loads(verify.stdout)["ok"] is True, verify.stdout
