"""Victims' consented reference photos and the face matches they suggest ("item depicts victim?").

Only the case lead and the victim's assigned support worker may add, list or read reference photos; the
photos are part of the victim's restricted identity, so adding or withdrawing one is an
``identity_changed`` case-level custody event and reading one back an ``identity_read`` event.

A match is a *suggestion*: an ``ItemPersonLink`` (depicts, suspected, source detector) naming the face
annotation, with a ``link_asserted`` custody event on the item. Nothing here ever confirms a link; an
investigator does, and one that was withdrawn is never suggested again for the same face.
"""

import io
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from PIL import Image

from access.models import CaseMember
from access.policy import POLICY, Action
from detection.detectors.faces import LABEL, Face, FaceDetector, embedding_distances
from detection.models import Annotation, DetectionRun
from detection.models.runs import ReviewStatus
from detection.registry import detector_get
from detection.subject import Subject, UndecodableMedia
from evidence.choices import CustodyAction, ItemStatus
from evidence.custody import EventSpec, custody_append, custody_append_many, ledger_lock
from evidence.vault import WorkDir, blob_commit, read_verified
from haetae.db import ledger_transaction
from haetae.errors import AccessDenied, NotFound, RejectedInput
from parties.choices import ItemPersonRelation, LinkConfidence, LinkSource, PersonKind
from parties.faceindex import match_max_distance
from parties.hooks import assigned_worker_id
from parties.models import ItemPersonLink, Person, ReferencePhoto
from parties.services.links import link_withdraw

# A re-embedded reference keeps the face that covers at least this much (IoU) of the one recorded at adding.
REEMBED_MIN_OVERLAP = 0.3


def reference_photos_allowed(*, person: Person, user: AbstractBaseUser | AnonymousUser) -> bool:
    """The case lead and the victim's assigned support worker, nobody else."""
    if not user.is_authenticated:
        return False
    roles = POLICY[Action.IDENTITY_READ]
    if CaseMember.objects.filter(case_id=person.case_id, user_id=user.pk, role__in=roles).exists():
        return True
    return assigned_worker_id(person.pk) == user.pk


def _require_access(*, person: Person, user: AbstractBaseUser | AnonymousUser, action: str) -> None:
    if reference_photos_allowed(person=person, user=user):
        return
    if (
        not user.is_authenticated
        or not CaseMember.objects.filter(case_id=person.case_id, user_id=user.pk).exists()
    ):
        raise NotFound(f"no person {person.pseudonym} among your cases: ask the case lead")
    raise AccessDenied(
        f"only the case lead and {person.pseudonym}'s assigned support worker may {action} reference "
        "photos: ask one of them"
    )


def _face_detector() -> FaceDetector:
    detector = detector_get("faces")
    if not isinstance(detector, FaceDetector):
        raise RejectedInput("the registered 'faces' detector is not dlib's: reference photos need it")
    return detector


def _face_fields(face: Face, detector: FaceDetector) -> dict[str, Any]:
    """A reference photo's face as stored: its region, its embedding rounded, the detector that found it."""
    return {
        "face_region": {"x": face.x, "y": face.y, "w": face.w, "h": face.h},
        "embedding": [round(float(v), 6) for v in face.embedding],
        "detector_version": detector.info.version,
        "model_sha256": detector.info.model_sha256,
    }


def reference_photo_list(
    *, person: Person, user: AbstractBaseUser | AnonymousUser
) -> QuerySet[ReferencePhoto]:
    """The victim's reference photos (metadata only), for the case lead and the assigned support worker."""
    _require_access(person=person, user=user, action="see")
    return ReferencePhoto.objects.filter(person=person).order_by("id")


def reference_photo_add(
    *, person: Person, data: bytes, consent_reference: str, actor: User
) -> tuple[ReferencePhoto, list[ItemPersonLink]]:
    """Store a consented photo of a victim (exactly one face), then suggest the items that show that face;
    returns the photo and the links suggested now."""
    _require_access(person=person, user=actor, action="add")
    if person.kind != PersonKind.VICTIM:
        raise RejectedInput(f"{person.pseudonym} is a {person.kind}: reference photos are for victims only")
    consent_reference = consent_reference.strip()
    if not consent_reference:
        raise RejectedInput(
            "name where the victim's consent is recorded (e.g. the signed consent form's number) before "
            "adding their photo"
        )
    detector = _face_detector()
    try:
        with Image.open(io.BytesIO(data)) as probe:
            mime = Image.MIME.get(probe.format or "", "")
        subject = Subject.from_bytes(data, mime=mime or "application/octet-stream")
        faces = detector.faces(subject.upright)
    except (OSError, UndecodableMedia, Image.DecompressionBombError) as exc:
        raise RejectedInput(f"the reference photo cannot be read as an image: {exc}") from None
    if len(faces) != 1:
        found = "no face was" if not faces else f"{len(faces)} faces were"
        raise RejectedInput(
            f"{found} found in the reference photo; use a photo with exactly one frontal face, "
            "at least about 80 pixels wide (crop it to the victim's face if others are in it)"
        )
    (face,) = faces
    with WorkDir() as work:
        staged = work.stage(io.BytesIO(data))
        with transaction.atomic():
            blob, _ = blob_commit(work=work, staged=staged, mime=mime)
            ledger_lock()  # after the content lock, before the insert: the one lock order (docs/ledger.md)
            photo = ReferencePhoto.objects.create(
                person=person,
                blob=blob,
                mime=mime,
                consent_reference=consent_reference,
                **_face_fields(face, detector),
                added_by=actor,
            )
            custody_append(
                case_id=person.case_id,
                action=CustodyAction.IDENTITY_CHANGED,
                actor=actor,
                details={
                    "change": "reference_photo_added",
                    "person": person.pseudonym,
                    "reference_photo": photo.pk,
                    "sha256": blob.sha256,
                    "consent_reference": consent_reference,
                },
            )
            links = face_matches_suggest(person=person)
    return photo, links


def reference_photo_read(*, photo: ReferencePhoto, user: User, reason: str) -> bytes:
    """The photo's verified bytes, for the lead or support worker, with a stated reason (logged)."""
    _require_access(person=photo.person, user=user, action="see")
    if not reason.strip():
        raise RejectedInput("state why you need to see the reference photo; the reason is logged")
    custody_append(
        case_id=photo.person.case_id,
        action=CustodyAction.IDENTITY_READ,
        actor=user,
        purpose=reason.strip(),
        details={"what": "reference_photo", "person": photo.person.pseudonym, "reference_photo": photo.pk},
    )
    return b"".join(read_verified(photo.blob_id))


def reference_photo_withdraw(*, photo: ReferencePhoto, actor: User, reason: str) -> ReferencePhoto:
    """Consent withdrawn: the photo is no longer matched. Links already suggested stay for review."""
    _require_access(person=photo.person, user=actor, action="withdraw")
    if photo.withdrawn_at is not None:
        raise RejectedInput(
            f"reference photo {photo.pk} was already withdrawn on {photo.withdrawn_at:%Y-%m-%d}"
        )
    if not reason.strip():
        raise RejectedInput("state why the reference photo is withdrawn (e.g. consent withdrawn on DATE)")
    with ledger_transaction():
        photo.withdrawn_at = timezone.now()
        photo.withdrawn_by = actor
        photo.withdrawn_reason = reason.strip()
        photo.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawn_reason"])
        custody_append(
            case_id=photo.person.case_id,
            action=CustodyAction.IDENTITY_CHANGED,
            actor=actor,
            details={
                "change": "reference_photo_withdrawn",
                "person": photo.person.pseudonym,
                "reference_photo": photo.pk,
                "reason": photo.withdrawn_reason,
            },
        )
    return photo


@dataclass(frozen=True)
class ReembedOutcome:
    """What ``reference_photos_reembed`` did with one reference photo."""

    photo: int
    person: str
    case: str
    done: bool
    note: str
    suggested_links: int = 0


def _overlap(region: dict[str, int], face: Face) -> float:
    x0, y0 = max(region["x"], face.x), max(region["y"], face.y)
    x1 = min(region["x"] + region["w"], face.x + face.w)
    y1 = min(region["y"] + region["h"], face.y + face.h)
    inter = max(0, x1 - x0) * max(0, y1 - y0)
    union = region["w"] * region["h"] + face.w * face.h - inter
    return inter / union if union else 0.0


def reference_photos_reembed(*, actor: User | None = None) -> list[ReembedOutcome]:
    """Embed again, with the installed face detector, every active reference photo embedded by another
    model (an upgrade), then suggest links for the faces that model finds; old findings and links stay.

    The face kept is the one that overlaps the region recorded when the photo was added (the detector may
    now find a second, smaller face in the background). Each photo re-embedded is an ``identity_changed``
    case-level custody event naming the old and new models; a photo whose face is no longer found is left
    as it was and reported, for its lead to replace.
    """
    detector = _face_detector()
    current = detector.info.model_sha256
    outcomes: list[ReembedOutcome] = []
    stale = (
        ReferencePhoto.objects.filter(withdrawn_at__isnull=True)
        .exclude(model_sha256=current)
        .select_related("person__case")
        .order_by("id")
    )
    for photo in stale:
        person = photo.person
        where = (photo.pk, person.pseudonym, person.case.number)
        try:
            subject = Subject.from_bytes(b"".join(read_verified(photo.blob_id)), mime=photo.mime)
            faces = detector.faces(subject.upright)
        except (OSError, UndecodableMedia, Image.DecompressionBombError) as exc:
            outcomes.append(ReembedOutcome(*where, done=False, note=f"cannot be read as an image: {exc}"))
            continue
        best = max(faces, key=lambda face: _overlap(photo.face_region, face), default=None)
        if best is None or _overlap(photo.face_region, best) < REEMBED_MIN_OVERLAP:
            outcomes.append(
                ReembedOutcome(
                    *where,
                    done=False,
                    note="the face recorded when it was added is not found by the installed detector: the "
                    "case lead should add a clearer photo and withdraw this one",
                )
            )
            continue
        with ledger_transaction():
            previous = (photo.detector_version, photo.model_sha256)
            fields = _face_fields(best, detector)
            for name, value in fields.items():
                setattr(photo, name, value)
            photo.save(update_fields=list(fields))
            custody_append(
                case_id=person.case_id,
                action=CustodyAction.IDENTITY_CHANGED,
                actor=actor,
                details={
                    "change": "reference_photo_reembedded",
                    "person": person.pseudonym,
                    "reference_photo": photo.pk,
                    "from_detector_version": previous[0],
                    "from_model_sha256": previous[1],
                    "to_detector_version": detector.info.version,
                    "to_model_sha256": current,
                },
            )
            links = face_matches_suggest(person=person, actor=actor)
        outcomes.append(
            ReembedOutcome(
                *where,
                done=True,
                note=f"embedded by {detector.info.name} {detector.info.version}",
                suggested_links=len(links),
            )
        )
    return outcomes


def face_matches_suggest(
    *, person: Person, annotations: list[Annotation] | None = None, actor: User | None = None
) -> list[ItemPersonLink]:
    """Suggest "item depicts <victim>" for each face in the case within the match distance of one of the
    victim's active reference photos; returns the new links.

    Only faces embedded by the same model as the reference photo compare. ``annotations`` limits the
    search to those (new) faces. A face that already has a link to this person, even a withdrawn one, is
    not suggested again; neither is an item already confirmed to depict them, a face an investigator
    rejected, or a face of a destroyed item.
    """
    references = list(
        ReferencePhoto.objects.filter(person=person, withdrawn_at__isnull=True).values_list(
            "pk", "embedding", "model_sha256"
        )
    )
    if not references:
        return []
    max_distance = match_max_distance()
    faces = (
        Annotation.objects.filter(item__case_id=person.case_id, label=LABEL, detector_name="faces")
        .exclude(review_status=ReviewStatus.REJECTED)
        .exclude(item__status=ItemStatus.DESTROYED)
    )
    if annotations is not None:
        faces = faces.filter(pk__in=[a.pk for a in annotations])
    already = ItemPersonLink.objects.filter(person=person, annotation__isnull=False).values("annotation_id")
    confirmed = ItemPersonLink.objects.filter(
        person=person,
        relation=ItemPersonRelation.DEPICTS,
        confidence=LinkConfidence.CONFIRMED,
        withdrawn_at__isnull=True,
    ).values("item_id")
    candidates = list(faces.exclude(pk__in=already).exclude(item_id__in=confirmed).order_by("id"))
    links: list[ItemPersonLink] = []
    specs: list[EventSpec] = []
    # The ledger lock comes before the inserts, which share-lock items and people (docs/ledger.md)
    with ledger_transaction():
        for model_sha256 in {sha for _, _, sha in references}:
            refs = [(pk, emb) for pk, emb, sha in references if sha == model_sha256]
            group = [a for a in candidates if a.model_sha256 == model_sha256 and "embedding" in a.details]
            if not group:
                continue
            distances = embedding_distances(
                np.asarray([a.details["embedding"] for a in group], dtype=np.float64),
                np.asarray([emb for _, emb in refs], dtype=np.float64),
            )
            for annotation, row in zip(group, distances, strict=True):
                nearest = int(row.argmin())
                distance = float(row[nearest])
                if distance > max_distance:
                    continue
                reference_pk = refs[nearest][0]
                link = ItemPersonLink.objects.create(
                    item_id=annotation.item_id,
                    person=person,
                    relation=ItemPersonRelation.DEPICTS,
                    confidence=LinkConfidence.SUSPECTED,
                    source=LinkSource.DETECTOR,
                    annotation=annotation,
                    note=(
                        f"face embedding distance {distance:.3f} (match at or below {max_distance}) to "
                        f"reference photo {reference_pk}: a suggestion for an investigator to confirm or "
                        "reject"
                    ),
                )
                links.append(link)
                specs.append(
                    EventSpec(
                        case_id=person.case_id,
                        item_id=annotation.item_id,
                        action=CustodyAction.LINK_ASSERTED,
                        actor=actor,
                        details={
                            "link": link.pk,
                            "person": person.pseudonym,
                            "relation": ItemPersonRelation.DEPICTS.value,
                            "confidence": LinkConfidence.SUSPECTED.value,
                            "source": LinkSource.DETECTOR.value,
                            "annotation": annotation.pk,
                            "reference_photo": reference_pk,
                            "distance": f"{distance:.4f}",
                            "max_distance": str(max_distance),
                        },
                    )
                )
        custody_append_many(specs)
    return links


def faces_stored(run: DetectionRun, annotations: list[Annotation]) -> None:
    """Listener for new face annotations (``detection.detectors.faces``): match the case's victims."""
    with_photos = ReferencePhoto.objects.filter(
        person__case_id=run.item.case_id, withdrawn_at__isnull=True
    ).values("person_id")
    victims = Person.objects.filter(pk__in=with_photos, kind=PersonKind.VICTIM).order_by("id")
    for person in victims:
        face_matches_suggest(person=person, annotations=annotations)


def face_finding_reviewed(annotation: Annotation, actor: User | None, decision: str) -> list[ItemPersonLink]:
    """Listener for reviews (``detection.listeners.review_listeners``): a face finding rejected by an
    investigator withdraws the links it suggested (a ``link_withdrawn`` event each), in the review's
    transaction; returns them. Links a person asserted stand on their own and are left alone."""
    if decision != ReviewStatus.REJECTED or annotation.label != LABEL:
        return []
    suggested = ItemPersonLink.objects.filter(
        annotation=annotation, source=LinkSource.DETECTOR, withdrawn_at__isnull=True
    ).order_by("id")
    reason = f"the face finding {annotation.pk} that suggested it was rejected: {annotation.review_reason}"
    withdrawn = []
    for link in suggested.select_related("person"):
        result = link_withdraw(link=link, actor=actor, reason=reason)
        assert isinstance(result, ItemPersonLink)
        withdrawn.append(result)
    return withdrawn
