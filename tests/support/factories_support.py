"""Helpers for victim-support tests: a case team, victims, links, and real PDQ annotations on real photos."""

import io
from dataclasses import dataclass

import numpy as np
import pdqhash
import skimage.data
from PIL import Image

from access.choices import CaseMemberRole
from access.models import Case
from detection.registry import DetectorInfo, Finding
from detection.services import detection_run
from detection.subject import Subject
from evidence.models import EvidenceItem
from parties.choices import ItemPersonRelation, LinkConfidence, PersonKind
from parties.models import ItemPersonLink, Person
from tests.factories import CaseFactory, CaseMemberFactory, UserFactory, stored_item


@dataclass
class Team:
    case: Case
    lead: object
    investigator: object
    analyst: object
    prosecutor: object
    support: object
    support2: object
    auditor: object

    def by_role(self, role: str):
        roles: dict[str, object] = {
            CaseMemberRole.LEAD: self.lead,
            CaseMemberRole.INVESTIGATOR: self.investigator,
            CaseMemberRole.ANALYST: self.analyst,
            CaseMemberRole.PROSECUTOR: self.prosecutor,
            CaseMemberRole.VICTIM_SUPPORT: self.support,
            CaseMemberRole.AUDITOR: self.auditor,
        }
        return roles[role]


def team(case: Case | None = None) -> Team:
    """A case with one member of every role (two support workers)."""
    the_case: Case = case or CaseFactory()  # type: ignore[assignment]
    members = {}
    for name, role in [
        ("lead", CaseMemberRole.LEAD),
        ("investigator", CaseMemberRole.INVESTIGATOR),
        ("analyst", CaseMemberRole.ANALYST),
        ("prosecutor", CaseMemberRole.PROSECUTOR),
        ("support", CaseMemberRole.VICTIM_SUPPORT),
        ("support2", CaseMemberRole.VICTIM_SUPPORT),
        ("auditor", CaseMemberRole.AUDITOR),
    ]:
        members[name] = CaseMemberFactory(case=the_case, role=role, user=UserFactory()).user
    return Team(case=the_case, **members)


def _number(pseudonym: str) -> int:
    """V-2 → 2: the per-case, per-kind number the pseudonym shows (unique with case and kind)."""
    return int(pseudonym.rsplit("-", 1)[-1])


def person(
    case: Case, *, pseudonym: str, kind: str = PersonKind.VICTIM, actor=None, minor: bool = False
) -> Person:
    """A person under a given pseudonym, made directly (the people services are tested with their code)."""
    return Person.objects.create(
        case=case,
        kind=kind,
        pseudonym=pseudonym,
        pseudonym_number=_number(pseudonym),
        is_minor=minor,
        created_by=actor or UserFactory(),  # type: ignore[misc]
    )


def jpeg(pixels: np.ndarray, quality: int = 90) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG", quality=quality)
    return out.getvalue()


def photo_item(case: Case, actor, *, which: str = "astronaut", name: str | None = None) -> EvidenceItem:
    pixels = getattr(skimage.data, which)()
    if pixels.ndim == 2:
        pixels = np.stack([pixels] * 3, axis=-1)
    return stored_item(
        case=case, data=jpeg(pixels), actor=actor, name=name or f"{which}.jpg", mime="image/jpeg"
    )


def link(item: EvidenceItem, victim: Person, *, confidence: str = LinkConfidence.CONFIRMED, actor=None):
    return ItemPersonLink.objects.create(
        item=item,
        person=victim,
        relation=ItemPersonRelation.DEPICTS,
        confidence=confidence,
        asserted_by=actor,
    )


class PdqTestDetector:
    """Computes real PDQ hashes with pdqhash and stores them in the agreed shape (detection's contract).

    Stands in for the detection helper's PDQ detector, which is not in this branch: the rows it writes are
    what that detector writes (detector_name "pdq", label "pdq", category "perceptual_hash", details hash
    + quality).
    """

    def __init__(self) -> None:
        self.info = DetectorInfo(
            name="pdq", version="test-1", media_types=frozenset({"image"}), parameters={}
        )

    def load(self) -> None:
        pass

    def analyze(self, subject: Subject) -> list[Finding]:
        return [Finding(label="pdq", category="perceptual_hash", details=pdq_details(subject.pixels))]


class FramePdqTestDetector(PdqTestDetector):
    """Like a video detector hashing sampled frames: one PDQ per frame, with the frame's time.

    The "frames" here are the picture, the same picture again (a repeat: one hash), and it mirrored."""

    def __init__(self) -> None:
        self.info = DetectorInfo(
            name="video_pdq", version="test-1", media_types=frozenset({"image"}), parameters={}
        )

    def analyze(self, subject: Subject) -> list[Finding]:
        frames = [(0, subject.pixels), (1000, subject.pixels), (2000, subject.pixels[:, ::-1])]
        return [
            Finding(
                label="pdq",
                category="perceptual_hash",
                time_start_ms=at,
                time_end_ms=at,
                details=pdq_details(pixels),
            )
            for at, pixels in frames
        ]


def pdq_details(pixels: np.ndarray) -> dict:
    bits, quality = pdqhash.compute(np.ascontiguousarray(pixels))
    value = int("".join(str(int(b)) for b in bits), 2)
    return {"hash": f"{value:064x}", "quality": int(quality)}


def pdq_annotate(item: EvidenceItem) -> str:
    """Run the PDQ stand-in on the item; returns the hash it stored."""
    detection_run(item=item, detector=PdqTestDetector())
    annotation = item.annotations.get(detector_name="pdq", label="pdq")
    return str(annotation.details["hash"])


def frame_pdq_annotate(item: EvidenceItem) -> list[str]:
    """Run the frame-hashing stand-in on the item; returns the hashes it stored, in frame order."""
    detection_run(item=item, detector=FramePdqTestDetector())
    rows = item.annotations.filter(detector_name="video_pdq", label="pdq").order_by("time_start_ms")
    return [str(a.details["hash"]) for a in rows]
