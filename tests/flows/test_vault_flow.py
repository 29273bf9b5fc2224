"""A whole case through the vault, as an investigator and a defence expert would drive it.

Seized folder → ingest → re-run (nothing added) → checkpoint → API with proofs checked offline → upload →
a verified read → verify clean → one flipped byte in the vault → verify names the item and logs incidents.
"""

import hashlib
import io
import json
import os
import random
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from PIL import Image
from rest_framework.test import APIClient

from access.models import Case
from accounts.services import api_token_issue
from evidence.content import item_content_open
from evidence.crypto import ledger_signing_key, public_key_hex
from evidence.models import CustodyEvent, EvidenceItem
from evidence.proofcheck import verify_inclusion_proof
from evidence.vault import object_path
from tests.factories import UserFactory, case_opener


def _photo(seed: int, fmt: str) -> bytes:
    image = Image.linear_gradient("L").resize((320, 240)).convert("RGB")
    patch = Image.frombytes("RGB", (64, 64), random.Random(seed).randbytes(64 * 64 * 3))
    image.paste(patch, (seed * 7 % 256, seed * 5 % 176))  # distinct content survives JPEG compression
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def _seized_phone(root: Path) -> dict[str, bytes]:
    """A small phone extraction: photos, a Telegram export ZIP with a nested ZIP, odd names, a symlink."""
    (root / "DCIM").mkdir(parents=True)
    (root / "Telegram").mkdir()
    files = {
        "DCIM/IMG_0001.jpg": _photo(1, "JPEG"),
        "DCIM/IMG_0002.png": _photo(2, "PNG"),
        "DCIM/empty.jpg": b"",
    }
    for name, data in files.items():
        (root / name).write_bytes(data)
    nested = io.BytesIO()
    with zipfile.ZipFile(nested, "w") as archive:
        archive.writestr("notes/readme.txt", b"channel rules")
    export = io.BytesIO()
    with zipfile.ZipFile(export, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("photos/a.jpg", _photo(3, "JPEG"))
        archive.writestr("photos/b.jpg", _photo(4, "JPEG"))
        archive.writestr("inner.zip", nested.getvalue())
    files["Telegram/export.zip"] = export.getvalue()
    (root / "Telegram/export.zip").write_bytes(files["Telegram/export.zip"])
    korean = "한글.txt".encode("euc-kr")  # a name that is not UTF-8
    (Path(os.fsdecode(bytes(root))) / os.fsdecode(korean)).write_bytes(b"memo")
    (root / "latest.jpg").symlink_to(root / "DCIM/IMG_0001.jpg")
    return files


def _run(command: str, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:
    code = 0
    try:
        call_command(command, *args)
    except SystemExit as exited:
        code = int(exited.code or 0)
    out = capsys.readouterr().out
    return code, json.loads(out)


@pytest.mark.django_db
def test_a_seized_phone_through_the_vault(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lead = case_opener(username="kim")  # an investigator: they open cases
    outsider = UserFactory.create(username="lee")
    _, created = _run(
        "create_case",
        "2024-SEOUL-0001",
        "--title",
        "Deepfake channel",
        "--actor",
        "kim",
        "--json",
        capsys=capsys,
    )
    case = Case.objects.get(number=created["number"])
    phone = tmp_path / "phone"
    files = _seized_phone(phone)

    # 1. ingest: everything taken, the symlink recorded and refused, exit 1 because something was rejected
    args = [
        "2024-SEOUL-0001",
        str(phone),
        "--actor",
        "kim",
        "--source",
        "Galaxy S21 bag 7",
        "--seizure-ref",
        "2024-영장-1234",
        "--location",
        "Mapo PS",
        "--json",
    ]
    code, first = _run("ingest", *args, capsys=capsys)
    assert code == 1
    assert first["counts"] == {"ingested": 9, "duplicate": 0, "rejected": 1}
    by_path = {
        Path(item["path"]).name if "!/" not in item["path"] else item["path"].rsplit("!/", 1)[1]: item
        for item in first["items"]
    }
    assert by_path["latest.jpg"]["status"] == "rejected" and "not followed" in by_path["latest.jpg"]["reason"]
    assert by_path["IMG_0001.jpg"]["sha256"] == hashlib.sha256(files["DCIM/IMG_0001.jpg"]).hexdigest()
    assert by_path["IMG_0001.jpg"]["mime"] == "image/jpeg"
    assert by_path["notes/readme.txt"]["parent"] == by_path["inner.zip"]["id"]
    assert by_path["inner.zip"]["parent"] == by_path["export.zip"]["id"]
    assert any("\\x" in item["path"] for item in first["items"])  # the EUC-KR name, shown escaped
    items_after_first = EvidenceItem.objects.filter(case=case).count()

    # invariant 6: nothing in the vault holds a recognisable slice of any seized file
    slices = [
        data[offset : offset + 48]
        for data in files.values()
        if len(data) > 200
        for offset in (0, 100, len(data) - 60)
    ]
    for stored_file in (settings.VAULT_DIR).rglob("*"):
        if stored_file.is_file():
            raw = stored_file.read_bytes()
            assert not any(piece in raw for piece in slices), f"plaintext found in {stored_file}"

    # 2. the same ingest again adds nothing
    code, second = _run("ingest", *args, capsys=capsys)
    assert second["counts"] == {"ingested": 0, "duplicate": 9, "rejected": 1}
    assert EvidenceItem.objects.filter(case=case).count() == items_after_first

    # 3. a signed checkpoint, and every custody event of a photo proven against it, offline
    _, checkpoint = _run("checkpoint", "--json", capsys=capsys)
    trusted = public_key_hex(ledger_signing_key().public_key())
    photo_id = by_path["IMG_0001.jpg"]["id"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=lead, actor=None)[1]}")
    custody = api.get(f"/api/v1/evidence/{photo_id}/custody/").json()
    assert custody["pending_checkpoint"] is False
    assert [event["action"] for event in custody["events"]] == ["acquired", "stored"]
    for event in custody["events"]:
        assert verify_inclusion_proof(
            event["proof"], trusted_public_key=trusted, leaf_data=event["leaf_data"].encode()
        )
    detail = api.get(f"/api/v1/evidence/{photo_id}/").json()
    assert detail["acquisition"]["seizure_reference"] == "2024-영장-1234"
    assert "content" not in json.dumps(detail).lower() or files["DCIM/IMG_0001.jpg"][
        :64
    ].hex() not in json.dumps(detail)

    # 4. someone off the team learns nothing, not even that the item exists
    stranger = APIClient()
    stranger.force_authenticate(outsider)
    assert stranger.get(f"/api/v1/evidence/{photo_id}/").status_code == 404
    assert stranger.get("/api/v1/cases/").json()["results"] == []

    # 5. an upload through the API joins the same case
    upload = api.post(
        "/api/v1/cases/2024-SEOUL-0001/evidence/",
        {"files": [io.BytesIO(_photo(9, "JPEG"))], "source": "victim report"},
        format="multipart",
    )
    assert upload.status_code == 201, upload.content
    assert upload.json()["counts"]["ingested"] == 1

    # 6. reading content is a logged, verified act
    photo = EvidenceItem.objects.get(pk=photo_id)
    assert (
        b"".join(item_content_open(item=photo, actor=lead, purpose="identify the victim"))
        == files["DCIM/IMG_0001.jpg"]
    )
    assert CustodyEvent.objects.filter(item=photo, action="viewed", purpose="identify the victim").exists()

    # 7. verify is clean, then one flipped byte is found, named and logged
    code, clean = _run("verify", "--case", "2024-SEOUL-0001", "--json", capsys=capsys)
    assert (code, clean["ok"], clean["failures"]) == (0, True, [])
    target = object_path(photo.blob_id)
    target.chmod(0o600)
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01
    target.write_bytes(bytes(data))
    code, broken = _run("verify", "--case", "2024-SEOUL-0001", "--json", capsys=capsys)
    assert code == 1 and broken["ok"] is False
    assert {failure["item"] for failure in broken["failures"]} == {photo_id}
    assert CustodyEvent.objects.filter(item=photo, action="incident").exists()
    assert checkpoint["tree_size"] > 0
