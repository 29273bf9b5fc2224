"""A victim's support through one case, as a support worker drives it, without ever touching the material.

Upload by the investigator → victim linked (one photo confirmed, one suspected) → PDQ hashed → the support
worker opens a file, records consent, takes a takedown to removed, closes the file → the material reappears
and monitoring reopens → hashes exported for blocking (confirmed photo only) → the ledger verifies clean.
"""

import csv
import hashlib
import io
import json

import pytest
import skimage.data
from django.core.management import call_command

from access.choices import CaseMemberRole
from access.models import Case
from evidence.choices import CustodyAction
from evidence.models import CustodyEvent, EvidenceItem
from parties.choices import LinkConfidence
from support.models import SupportFile
from tests.factories import CaseMemberFactory, UserFactory, case_opener, encode, link, pdq_annotate, person
from tests.factories import api_client as _client


def _json_out(command: str, *args: str, capsys: pytest.CaptureFixture[str]) -> dict:
    call_command(command, *args)
    return json.loads(capsys.readouterr().out)


@pytest.mark.django_db
def test_a_victims_support_from_upload_to_hash_export(capsys: pytest.CaptureFixture[str]) -> None:
    lead = case_opener(username="kim")  # an investigator: they open cases
    _json_out(
        "create_case",
        "2024-SEOUL-0007",
        "--title",
        "Deepfake room",
        "--actor",
        "kim",
        "--json",
        capsys=capsys,
    )
    case = Case.objects.get(number="2024-SEOUL-0007")
    investigator = CaseMemberFactory(case=case, role=CaseMemberRole.INVESTIGATOR, user=UserFactory()).user
    worker = CaseMemberFactory(
        case=case, role=CaseMemberRole.VICTIM_SUPPORT, user=UserFactory(username="park")
    ).user
    base = f"/api/v1/cases/{case.number}"

    # The investigator uploads two photos (real images with a face and without).
    photos = {
        "face.jpg": encode(skimage.data.astronaut(), quality=90),
        "cup.jpg": encode(skimage.data.coffee(), quality=90),
    }
    uploaded = _client(investigator).post(
        f"{base}/evidence/",
        {"files": [io.BytesIO(data) for data in photos.values()], "source": "reported by the victim"},
        format="multipart",
    )
    assert uploaded.status_code == 201, uploaded.content
    by_sha = {item.blob_id: item for item in EvidenceItem.objects.filter(case=case)}
    face = by_sha[hashlib.sha256(photos["face.jpg"]).hexdigest()]
    cup = by_sha[hashlib.sha256(photos["cup.jpg"]).hexdigest()]

    victim = person(case, pseudonym="V-1", actor=lead)
    link(face, victim, actor=investigator)
    link(cup, victim, confidence=LinkConfidence.SUSPECTED, actor=investigator)
    face_pdq = pdq_annotate(face)
    pdq_annotate(cup)

    support = _client(worker)
    opened = support.post(
        f"{base}/support-files/", {"person": "V-1", "assigned_worker": "park"}, format="json"
    )
    assert opened.status_code == 201
    file_url = f"{base}/support-files/{opened.json()['id']}"
    assert support.post(f"{file_url}/status/", {"status": "active"}, format="json").status_code == 200
    assert (
        support.post(
            f"{file_url}/consents/",
            {"kind": "share_hashes", "given_by": "victim", "how": "signed"},
            format="json",
        ).status_code
        == 201
    )

    drafted = support.post(
        f"{base}/takedowns/",
        {
            "support_file": opened.json()["id"],
            "addressee": "platform",
            "platform": "telegram",
            "target_url": "https://t.me/deepfake_room/812",
            "items": [face.pk],
        },
        format="json",
    )
    takedown_url = f"{base}/takedowns/{drafted.json()['id']}"
    for step, body in [("send", {"reference_number": "TG-1"}), ("acknowledge", {}), ("removed", {})]:
        assert support.post(f"{takedown_url}/{step}/", body, format="json").status_code == 200, step
    assert support.post(f"{file_url}/status/", {"status": "monitoring"}, format="json").status_code == 200
    assert (
        support.post(f"{file_url}/status/", {"status": "closed"}, format="json").json()["status"] == "closed"
    )

    again = support.post(
        f"{takedown_url}/reappearances/",
        {"url": "https://t.me/mirror/3", "draft_follow_up": True},
        format="json",
    )
    assert again.json()["support_file_reopened"] is True
    assert SupportFile.objects.get(pk=opened.json()["id"]).status == "monitoring"

    exported = support.post(
        f"{file_url}/hash-export/", {"recipient": "StopNCII", "format": "csv"}, format="json"
    )
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
    assert {(r["signal_type"], r["signal"]) for r in rows} == {
        ("sha256", face.blob_id),
        ("md5", face.blob.md5),
        ("pdq", face_pdq),
    }  # the suspected photo is not shared

    # Nothing in any support response carried the material or its names.
    for response in (opened, drafted, again, exported):
        assert photos["face.jpg"][:64] not in response.content
        assert b"face.jpg" not in response.content

    # Every step is in the ledger, and the ledger (items and the case chain) verifies clean.
    actions = list(
        CustodyEvent.objects.filter(
            case=case,
            item__isnull=True,
            action__in=[
                CustodyAction.SUPPORT_CHANGED,
                CustodyAction.TAKEDOWN_CHANGED,
                CustodyAction.HASHES_EXPORTED,
            ],
        )
        .values_list("action", "details__change")
        .order_by("seq")
    )
    assert actions[:3] == [
        (CustodyAction.SUPPORT_CHANGED, "opened"),
        (CustodyAction.SUPPORT_CHANGED, "status"),
        (CustodyAction.SUPPORT_CHANGED, "consent_given"),
    ]
    assert (CustodyAction.TAKEDOWN_CHANGED, "reappeared") in actions
    assert actions[-1] == (CustodyAction.HASHES_EXPORTED, None)
    _json_out("checkpoint", "--json", capsys=capsys)
    report = _json_out("verify", "--case", case.number, "--json", capsys=capsys)
    assert report["ok"] is True, report
