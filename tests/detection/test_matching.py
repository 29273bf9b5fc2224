"""Matching after the pdq and file-hashes detectors: banks, allow lists, other cases, alerts, custody."""

from typing import cast

import numpy as np
import pytest

from access.choices import CaseMemberRole
from access.models import Case
from detection import pdq
from detection.banks import bank_create, bank_entry_add, bank_import
from detection.detectors.pdq import FileHashesDetector, PdqDetector
from detection.matching import live_index
from detection.models import Annotation, Match, MatchAlert
from detection.models.banks import HashBankKind, MatchKind
from detection.models.runs import RunStatus
from detection.services import detection_run
from detection.subject import Subject
from evidence.choices import CustodyAction
from evidence.models import CustodyEvent
from tests.factories import (  # noqa: F401 (fixture)
    CaseFactory,
    CaseMemberFactory,
    UserFactory,
    encode,
    fresh_hash_indexes,
    photo,
    resized,
    stored_item,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_hash_indexes")]

COPIES = {
    "rotated 90": lambda rgb: np.rot90(rgb, 1),
    "rotated 180": lambda rgb: np.rot90(rgb, 2),
    "rotated 270": lambda rgb: np.rot90(rgb, 3),
    "flipped": lambda rgb: rgb[:, ::-1],
    "upside down": lambda rgb: rgb[::-1],
    "transposed": lambda rgb: rgb.transpose(1, 0, 2),
    "half size": lambda rgb: resized(rgb, 0.5),
    "double size": lambda rgb: resized(rgb, 2.0),
}


def _case(**fields) -> Case:
    return cast(Case, CaseFactory(**fields))


def _lead(case):
    return CaseMemberFactory(case=case, role=CaseMemberRole.LEAD).user


def _image_item(case, rgb, *, name="photo.jpg", quality=85, fmt="JPEG"):
    mime = "image/jpeg" if fmt == "JPEG" else "image/png"
    params = {"quality": quality} if fmt == "JPEG" else {}
    return stored_item(case=case, data=encode(rgb, fmt, **params), actor=UserFactory(), name=name, mime=mime)


@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea", "camera"])
@pytest.mark.parametrize("copy", sorted(COPIES))
def test_rotated_flipped_resized_recompressed_copies_are_within_threshold(name, copy):
    original = pdq.pdq_from_bytes(encode(photo(name), quality=95))
    changed = np.ascontiguousarray(COPIES[copy](photo(name)))
    for quality in (90, 50):  # recompressed, lightly and hard
        variants = pdq.pdq_from_bytes(encode(changed, quality=quality)).dihedral
        nearest = min(pdq.hamming(h, original.hash) for h in variants.values())
        assert nearest <= pdq.DEFAULT_THRESHOLD, (name, copy, quality, nearest)
    other = pdq.pdq_from_bytes(encode(photo("astronaut" if name != "astronaut" else "coffee"), quality=90))
    assert min(pdq.hamming(h, other.hash) for h in variants.values()) > pdq.DEFAULT_THRESHOLD


def test_annotation_contract():
    case = _case()
    item = _image_item(case, photo("chelsea"))
    run = detection_run(item=item, detector=PdqDetector())
    assert run.status == RunStatus.DONE
    (ann,) = Annotation.objects.filter(item=item)
    assert (ann.label, ann.category, ann.detector_name) == ("pdq", "perceptual_hash", "pdq")
    assert len(ann.details["hash"]) == 64 and ann.details["quality"] >= 50
    assert set(ann.details["dihedral"]) == set(pdq.ORIENTATIONS)
    assert ann.details["dihedral"]["original"] == ann.details["hash"]
    assert ann.parameters["exif_orientation"].startswith("not applied")
    assert ann.parameters["jpeg_draft_min_side"] == 256 and "Pillow" in ann.parameters["decoder"]
    assert "half-resolution view" in ann.parameters["jpeg_draft_kept_when"]


def test_a_jpeg_records_its_draft_check():
    case = _case()
    item = _image_item(case, resized(photo("astronaut"), 2.0))
    detection_run(item=item, detector=PdqDetector())
    (ann,) = Annotation.objects.filter(item=item)
    assert ann.detector_version == "1.1"
    assert (ann.details["decoder"], ann.details["scale"]) == ("jpeg-draft-luma", 4)
    check = ann.details["draft_check"]
    assert check["kept"] is True and 0 <= check["coarser_bits"] <= 8 and 0 <= check["fragile_bits"] <= 8


def test_low_quality_image_gets_no_hash_and_matches_nothing():
    case = _case()
    flat = np.full((300, 300, 3), 90, dtype=np.uint8)
    bank = bank_create(name="known", kind=HashBankKind.KNOWN_MATERIAL, actor=None)
    bank_entry_add(bank=bank, actor=None, pdq=pdq.pdq_from_rgb(flat).hash)
    item = _image_item(case, flat, fmt="PNG", name="flat.png")
    detection_run(item=item, detector=PdqDetector())
    (ann,) = Annotation.objects.filter(item=item)
    assert ann.label == "pdq_low_quality" and "hash" not in ann.details and ann.details["quality"] < 50
    assert not Match.objects.exists()


def test_video_frames_given_as_pixels_are_hashed():
    frame = photo("coffee")
    findings = PdqDetector().analyze(Subject.from_pixels(frame, sha256="a" * 64))
    (finding,) = findings
    assert finding.label == "pdq" and finding.details["decoder"] == "pixels"
    assert finding.details["hash"] == pdq.pdq_from_rgb(frame).hash


def test_undecodable_image_fails_the_run():
    item = stored_item(case=_case(), data=b"\xff\xd8 not really", actor=UserFactory(), mime="image/jpeg")
    run = detection_run(item=item, detector=PdqDetector())
    assert run.status == RunStatus.FAILED and "cannot decode" in run.error


def test_rotated_copy_matches_a_victims_bank_and_is_recorded_in_custody():
    case = _case()
    bank = bank_create(name="V-1 originals", kind=HashBankKind.VICTIM_ORIGINALS, actor=None, case=case)
    entry = bank_entry_add(bank=bank, actor=None, pdq=pdq.pdq_from_bytes(encode(photo("astronaut"))).hash)
    item = _image_item(case, np.ascontiguousarray(np.rot90(photo("astronaut"), 1)), quality=70)

    detection_run(item=item, detector=PdqDetector())

    (match,) = Match.objects.filter(item=item)
    assert (match.entry_id, match.kind, match.threshold) == (entry.pk, MatchKind.PDQ, 31)
    assert match.distance <= 31 and match.orientation == "rotate270"  # turned back, it is the original
    assert match.index_version.startswith("mih16x16-v1 banks@")
    assert match.suppressed_by is None
    event = CustodyEvent.objects.get(item=item, action=CustodyAction.MATCHED)
    assert event.details["matches"] == [match.pk] and event.details["banks"] == ["V-1 originals"]
    assert not MatchAlert.objects.exists()  # the victim's own case: nothing crosses cases


def test_bank_threshold_is_the_banks_own():
    case = _case()
    strict = bank_create(name="strict", kind=HashBankKind.KNOWN_MATERIAL, actor=None, pdq_threshold=0)
    loose = bank_create(name="loose", kind=HashBankKind.KNOWN_MATERIAL, actor=None)
    original = pdq.pdq_from_bytes(encode(photo("coffee"))).hash
    bank_entry_add(bank=strict, actor=None, pdq=original)
    bank_entry_add(bank=loose, actor=None, pdq=original)
    item = _image_item(case, resized(photo("coffee"), 0.5), quality=60)
    detection_run(item=item, detector=PdqDetector())
    (match,) = Match.objects.filter(item=item)
    assert match.entry.bank.name == "loose" and 0 < match.distance <= 31


def test_entries_added_after_the_index_was_built_take_effect_without_rebuilding():
    case = _case()
    bank = bank_create(name="known", kind=HashBankKind.KNOWN_MATERIAL, actor=None)
    first = _image_item(case, photo("camera"), name="a.jpg")
    detection_run(item=first, detector=PdqDetector())  # builds the index: nothing to match yet
    built = live_index("banks").index
    assert not Match.objects.exists()
    bank_entry_add(bank=bank, actor=None, pdq=pdq.pdq_from_bytes(encode(photo("chelsea"))).hash)
    second = _image_item(case, photo("chelsea")[:, ::-1], name="b.jpg")
    detection_run(item=second, detector=PdqDetector())
    assert live_index("banks").index is built  # the same index, caught up live
    assert Match.objects.filter(item=second, entry__bank=bank).count() == 1


def test_allow_list_suppresses_alerts_but_keeps_the_record():
    case, other_case = _case(), _case()
    _lead(case), _lead(other_case)
    allow = bank_create(name="stock photos", kind=HashBankKind.ALLOW_LIST, actor=None)
    known = bank_create(name="known", kind=HashBankKind.KNOWN_MATERIAL, actor=None)
    hashed = pdq.pdq_from_bytes(encode(photo("chelsea"))).hash
    allow_entry = bank_entry_add(bank=allow, actor=None, pdq=hashed)
    bank_entry_add(bank=known, actor=None, pdq=hashed)
    detection_run(item=_image_item(other_case, photo("chelsea")), detector=PdqDetector())
    item = _image_item(case, photo("chelsea"), quality=60)
    detection_run(item=item, detector=PdqDetector())
    matches = Match.objects.filter(item=item)
    assert matches.count() == 3  # allow list, known material, the other case's item
    for match in matches:
        if match.entry_id == allow_entry.pk:
            assert match.suppressed_by_id is None
        else:
            assert match.suppressed_by_id == allow_entry.pk
    assert not MatchAlert.objects.exists()


def test_cross_case_match_alerts_both_leads_and_same_case_does_not_match():
    case_a, case_b = _case(), _case()
    lead_a, lead_b = _lead(case_a), _lead(case_b)
    first = _image_item(case_a, photo("coffee"), name="first.jpg")
    same_case_copy = _image_item(case_a, photo("coffee"), name="same.jpg", quality=60)
    detection_run(item=first, detector=PdqDetector())
    detection_run(item=same_case_copy, detector=PdqDetector())
    assert not Match.objects.exists()

    copy = _image_item(case_b, resized(photo("coffee")[::-1], 0.5), name="copy.jpg", quality=60)
    detection_run(item=copy, detector=PdqDetector())

    matches = Match.objects.filter(item=copy).order_by("other_item_id")
    assert [m.other_item_id for m in matches] == [first.pk, same_case_copy.pk]
    assert all(m.orientation == "flipx" and m.distance <= 31 for m in matches)
    alerts = MatchAlert.objects.filter(match__in=matches)
    assert {(a.recipient_id, a.case_id) for a in alerts} == {(lead_a.pk, case_a.pk), (lead_b.pk, case_b.pk)}
    # The other item's chain records the fact too, without naming the new item's case.
    event = CustodyEvent.objects.get(item=first, action=CustodyAction.MATCHED)
    assert set(event.details) == {"match", "kind", "distance", "cross_case"}


def test_digest_matches_banks_and_identical_files_in_other_cases():
    case_a, case_b = _case(), _case()
    data = encode(photo("astronaut"))
    first = stored_item(case=case_a, data=data, actor=UserFactory(), name="a.jpg")
    bank = bank_create(name="md5 list", kind=HashBankKind.IMPORTED, actor=None)
    entry = bank_entry_add(bank=bank, actor=None, md5=first.blob.md5.upper())
    detection_run(item=first, detector=FileHashesDetector())
    (bank_match,) = Match.objects.filter(item=first)
    assert (bank_match.entry_id, bank_match.kind) == (entry.pk, MatchKind.MD5)

    second = stored_item(case=case_b, data=data, actor=UserFactory(), name="b.jpg")
    detection_run(item=second, detector=FileHashesDetector())
    kinds = {(m.kind, m.entry_id, m.other_item_id) for m in Match.objects.filter(item=second)}
    assert kinds == {(MatchKind.MD5, entry.pk, None), (MatchKind.SHA256, None, first.pk)}
    (ann,) = Annotation.objects.filter(item=second)
    assert ann.details == {"md5": first.blob.md5, "sha1": first.blob.sha1, "sha256": first.blob_id}


def test_digest_allow_list_suppresses_pdq_matches_too():
    case = _case()
    data = encode(photo("coffee"))
    item = stored_item(case=case, data=data, actor=UserFactory(), name="c.jpg")
    allow = bank_create(name="benign", kind=HashBankKind.ALLOW_LIST, actor=None)
    allow_entry = bank_entry_add(bank=allow, actor=None, sha256=item.blob_id)
    known = bank_create(name="known", kind=HashBankKind.KNOWN_MATERIAL, actor=None)
    bank_entry_add(bank=known, actor=None, pdq=pdq.pdq_from_bytes(data).hash)
    detection_run(item=item, detector=PdqDetector())
    (match,) = Match.objects.filter(item=item)
    assert match.entry.bank == known and match.suppressed_by_id == allow_entry.pk


def test_inactive_banks_do_not_match():
    case = _case()
    bank = bank_create(name="retired", kind=HashBankKind.KNOWN_MATERIAL, actor=None)
    bank_entry_add(bank=bank, actor=None, pdq=pdq.pdq_from_bytes(encode(photo("coffee"))).hash)
    bank.active = False
    bank.save()
    detection_run(item=_image_item(case, photo("coffee")), detector=PdqDetector())
    assert not Match.objects.exists()


def test_load_builds_the_indexes_from_the_database():
    bank = bank_create(name="known", kind=HashBankKind.KNOWN_MATERIAL, actor=None)
    bank_entry_add(bank=bank, actor=None, pdq=pdq.pdq_from_bytes(encode(photo("coffee"))).hash)
    PdqDetector().load()
    assert len(live_index("banks").index) == 1


def test_entries_added_after_the_evidence_find_it_in_every_orientation(tmp_path):
    """A victim's originals usually arrive after the seized copies: importing them finds those copies."""
    case = _case()
    lead = _lead(case)
    rotated = _image_item(case, np.ascontiguousarray(np.rot90(photo("astronaut"), 1)), name="rotated.jpg")
    other = _image_item(case, photo("camera"), name="other.jpg")
    for item in (rotated, other):
        detection_run(item=item, detector=PdqDetector())
    assert not Match.objects.exists()

    original = pdq.pdq_from_bytes(encode(photo("astronaut"), quality=95)).hash
    hashes = tmp_path / "v1-originals.txt"
    hashes.write_text(original + "\n")
    result = bank_import(
        path=hashes,
        bank_name="V-1 originals",
        kind="pdq",
        actor=lead,
        bank_kind=HashBankKind.VICTIM_ORIGINALS,
    )

    (match,) = Match.objects.all()
    assert result.matches == 1 and match.item_id == rotated.pk and match.kind == MatchKind.PDQ
    assert match.orientation != "original" and match.distance <= match.threshold
    assert CustodyEvent.objects.filter(item=rotated, action=CustodyAction.MATCHED).count() == 1
    assert not CustodyEvent.objects.filter(item=other, action=CustodyAction.MATCHED).exists()

    # The same list again adds no entries and no matches; the entry stays live for new items.
    again = bank_import(path=hashes, bank_name="V-1 originals", kind="pdq", actor=lead)
    assert (again.created, again.matches) == (0, 0) and Match.objects.count() == 1


def test_a_digest_entry_added_later_finds_the_item_and_an_allow_list_finds_nothing():
    case = _case()
    lead = _lead(case)
    item = _image_item(case, photo("coffee"), name="coffee.jpg")
    assert item.blob is not None
    detection_run(item=item, detector=FileHashesDetector())  # its own lookup ran before the lists came
    allow = bank_create(name="benign", kind=HashBankKind.ALLOW_LIST, actor=lead)
    bank_entry_add(bank=allow, actor=lead, md5=item.blob.md5)
    assert not Match.objects.exists()

    known = bank_create(name="known material", kind=HashBankKind.KNOWN_MATERIAL, actor=lead)
    bank_entry_add(bank=known, actor=lead, sha256=item.blob.sha256)
    (match,) = Match.objects.filter(entry__bank=known)
    assert match.item_id == item.pk and match.kind == MatchKind.SHA256
    assert match.suppressed_by is not None  # the allow-list entry still silences it
