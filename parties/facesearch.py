"""A victim's face across cases: search every case's faces with the victim's consented reference photos.

Only the victim's case lead searches (``Action.FACE_SEARCH``; the reference photos are the victim's
restricted identity). Each hit is a *suggestion* — "item depicts V-n", suspected — never a link: in the
victim's own case the detector already suggests links as faces land (``parties.faces``), and an item of
another case can only be linked by that case's team to a person of their own. What the searcher learns of a
hit is what a hash match tells (``detection.match_selectors.item_side``): a case they may see shows the
item; a case they are not on shows only that a hit exists there and whom to ask (its lead and unit).

Each search is an ``identity_read`` case-level custody event on the victim's case (the reference photos
were used): who, which photos, the threshold, the index's state and how many hits of each kind.
"""

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db import transaction

from access.models import Case
from access.policy import Action, require
from access.selectors import case_list
from detection.match_selectors import item_side, pseudonymised_case_ids, visible_case_ids
from detection.models import Annotation
from evidence.choices import CustodyAction
from evidence.custody import custody_append
from evidence.selectors import evidence_visible_to
from haetae.errors import NotFound, RejectedInput
from parties.choices import ItemPersonRelation, PersonKind
from parties.faceindex import eligible_faces, face_index, match_max_distance
from parties.models import ItemPersonLink, Person, ReferencePhoto

Caller = AbstractBaseUser | AnonymousUser


@dataclass
class FaceSearchHit:
    """One item a reference face was found in, as the searcher may see it."""

    visible: bool
    same_case: bool
    distance: float
    reference_photo: int
    item: dict[str, Any]
    annotation: int | None = None
    suggestion: str = ""
    link: dict[str, Any] | None = None


@dataclass
class FaceSearch:
    """A search's answer: the hits, best first, and what it searched with."""

    person: str
    case: str
    max_distance: float
    reference_photos: list[int]
    index: list[str]
    hits: list[FaceSearchHit] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "person": self.person,
            "case": self.case,
            "max_distance": self.max_distance,
            "reference_photos": self.reference_photos,
            "index": self.index,
            "count": len(self.hits),
            "results": [hit.__dict__ for hit in self.hits],
        }


def _searchable_case(*, person: Person, actor: Caller) -> Case:
    case = case_list(user=actor).filter(pk=person.case_id).first()
    if case is None:
        raise NotFound(f"no person {person.pseudonym} among your cases: ask the case lead")
    require(case=case, action=Action.FACE_SEARCH, doing=f"search other cases for {person.pseudonym}'s face")
    return case


def face_search(*, person: Person, actor: User) -> FaceSearch:
    """Every face, in every case, within the match distance of the victim's active reference photos."""
    case = _searchable_case(person=person, actor=actor)
    if person.kind != PersonKind.VICTIM:
        raise RejectedInput(f"{person.pseudonym} is a {person.kind}: faces are searched for victims only")
    references = list(
        ReferencePhoto.objects.filter(person=person, withdrawn_at__isnull=True)
        .order_by("id")
        .values_list("pk", "embedding", "model_sha256")
    )
    if not references:
        raise RejectedInput(
            f"{person.pseudonym} has no reference photo in use (none added, or consent withdrawn): add a "
            "consented reference photo first ('manage.py add_reference_photo')"
        )
    max_distance = match_max_distance()
    best: dict[int, tuple[float, int, int]] = {}  # annotation → (distance, reference photo, query row)
    versions = []
    for model_sha256 in sorted({sha for _, _, sha in references}):
        refs = [(pk, emb) for pk, emb, sha in references if sha == model_sha256]
        index = face_index(model_sha256)
        hits = index.search(np.asarray([e for _, e in refs]), max_distance)
        versions.append(f"{model_sha256[:12]} {index.version}")
        proposed = {hit.annotation_id for hit in hits}
        # The index only proposes: each face is re-read and measured on its stored embedding.
        rows = eligible_faces(model_sha256).filter(pk__in=proposed).values_list("pk", "details__embedding")
        queries = np.asarray([e for _, e in refs], dtype=np.float64)
        for pk, embedding in rows:
            distances = np.linalg.norm(queries - np.asarray(embedding, dtype=np.float64), axis=1)
            row = int(distances.argmin())
            distance = float(distances[row])
            if distance <= max_distance and (pk not in best or distance < best[pk][0]):
                best[pk] = (distance, refs[row][0], row)
    result = FaceSearch(
        person=person.pseudonym,
        case=case.number,
        max_distance=max_distance,
        reference_photos=[pk for pk, _, _ in references],
        index=versions,
    )
    result.hits = _hits(person=person, case=case, actor=actor, best=best)
    counts = {"this_case": 0, "other_case_seen": 0, "other_case_not_seen": 0}
    for hit in result.hits:
        key = "this_case" if hit.same_case else "other_case_seen" if hit.visible else "other_case_not_seen"
        counts[key] += 1
    with transaction.atomic():
        custody_append(
            case_id=person.case_id,
            action=CustodyAction.IDENTITY_READ,
            actor=actor,
            purpose=f"face search across cases for {person.pseudonym}",
            details={
                "what": "face_search",
                "person": person.pseudonym,
                "reference_photos": result.reference_photos,
                "max_distance": str(max_distance),
                "index": versions,
                "hits": counts,
            },
        )
    return result


def _hits(
    *, person: Person, case: Case, actor: User, best: dict[int, tuple[float, int, int]]
) -> list[FaceSearchHit]:
    """One hit per item (its nearest face); a case the searcher may not see is one hit, whom to ask."""
    faces = Annotation.objects.filter(pk__in=best).select_related("item", "item__case")
    visible = visible_case_ids(actor)
    pseudonymised = pseudonymised_case_ids(actor)
    # Item by item, as the vault's rule has it: on a case where the searcher is the prosecutor, only the
    # items of shared exhibits are theirs to see; any other is a hit in a case they may not look into.
    seen_items = set(
        evidence_visible_to(user=actor)
        .filter(pk__in={face.item_id for face in faces})
        .values_list("pk", flat=True)
    )
    per_item: dict[int, tuple[float, int, Annotation]] = {}
    for face in faces:
        distance, reference, _ = best[face.pk]
        if face.item_id not in per_item or distance < per_item[face.item_id][0]:
            per_item[face.item_id] = (distance, reference, face)
    links = {
        link.item_id: link
        for link in ItemPersonLink.objects.filter(
            person=person,
            relation=ItemPersonRelation.DEPICTS,
            item_id__in=[i for i, (_, _, f) in per_item.items() if f.item.case_id == person.case_id],
            withdrawn_at__isnull=True,
        ).order_by("asserted_at")
    }
    hits: list[FaceSearchHit] = []
    hidden: dict[int, tuple[float, int, Annotation]] = {}
    for item_id, (distance, reference, face) in per_item.items():
        if item_id not in seen_items:
            if face.item.case_id not in hidden or distance < hidden[face.item.case_id][0]:
                hidden[face.item.case_id] = (distance, reference, face)
            continue
        same = face.item.case_id == person.case_id
        side = item_side(face.item, visible, pseudonymised).__dict__
        link = links.get(item_id)
        where = "" if same else f" of case {case.number}"
        hits.append(
            FaceSearchHit(
                visible=True,
                same_case=same,
                distance=round(distance, 4),
                reference_photo=reference,
                item=side,
                annotation=face.pk,
                suggestion=f"item {item_id} may depict {person.pseudonym}{where} (suspected): an "
                "investigator confirms or rejects",
                link=(
                    {"id": link.pk, "confidence": link.confidence, "source": link.source}
                    if link is not None
                    else None
                ),
            )
        )
    for distance, reference, face in hidden.values():
        side = item_side(face.item, set(), pseudonymised).__dict__  # nothing of it: whom to ask
        hits.append(
            FaceSearchHit(
                visible=False,
                same_case=False,
                distance=round(distance, 4),
                reference_photo=reference,
                item=side,
                suggestion="a face in a case you are not on is within the match distance: ask its lead",
            )
        )
    hits.sort(key=lambda hit: (hit.distance, not hit.visible))
    return hits
