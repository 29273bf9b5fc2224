"""Unknown faces of a case, grouped, so that an investigator names a person once ("S-2") for all of them.

Unknown: a face finding (not rejected, its item not destroyed) that no active link names. Grouping is
agglomerative clustering on the embeddings with *complete* linkage cut at the match distance: every two
faces of a group are within it, so a group never chains two different people through a third face (single
linkage would). HDBSCAN would need a package this project does not ship; at case sizes (thousands of faces)
the exact hierarchy is cheap. Faces compare only within one embedding model.

Naming a group is a suggestion per item ("item depicts S-2", suspected, naming the face) through the link
service, with its ``link_asserted`` event each; an investigator confirms each item as for any suggestion.
"""

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.contrib.auth.models import User
from django.db import transaction

from access.models import Case
from access.policy import Action, require
from detection.models import Annotation
from detection.models.runs import ReviewStatus
from evidence.choices import ItemStatus
from haetae.errors import RejectedInput
from parties.choices import ItemPersonRelation, LinkConfidence, LinkSource
from parties.faceindex import DIM, FACE_DETECTOR, FACE_LABEL, match_max_distance
from parties.models import ItemPersonLink, Person
from parties.services.links import Assertion, link_assert_item_person

MAX_FACES = 5_000  # one clustering: the condensed distance matrix is 8 bytes × n²/2 (100 MB at 5,000)


@dataclass
class FaceCluster:
    """A group of unknown faces, each within ``max_distance`` of every other."""

    id: str
    size: int
    items: list[int]
    faces: list[dict[str, Any]]
    diameter: float
    model_sha256: str


@dataclass
class FaceClusters:
    """The case's groups (two faces or more), largest first, and how many faces stand alone."""

    case: str
    max_distance: float
    clusters: list[FaceCluster] = field(default_factory=list)
    unclustered: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "case": self.case,
            "max_distance": self.max_distance,
            "count": len(self.clusters),
            "unclustered": self.unclustered,
            "results": [cluster.__dict__ for cluster in self.clusters],
        }


def _unknown_faces(case: Case) -> list[tuple[int, int, dict[str, Any] | None, str, list[float]]]:
    named = ItemPersonLink.objects.filter(annotation__isnull=False, withdrawn_at__isnull=True).values(
        "annotation_id"
    )
    rows = (
        Annotation.objects.filter(item__case_id=case.pk, label=FACE_LABEL, detector_name=FACE_DETECTOR)
        .exclude(review_status=ReviewStatus.REJECTED)
        .exclude(item__status=ItemStatus.DESTROYED)
        .exclude(pk__in=named)
        .order_by("pk")
        .values_list("pk", "item_id", "region", "model_sha256", "details__embedding")
    )
    return [row for row in rows if isinstance(row[4], list) and len(row[4]) == DIM]


def face_clusters(*, case: Case) -> FaceClusters:
    """Group the case's unknown faces (``case`` from ``access.selectors``, with the caller's role)."""
    # Imported here: SciPy's clustering costs about 0.6 s of start-up, and the URL configuration (every web
    # process, every command run with the system checks) imports this module.
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import pdist

    require(case=case, action=Action.FACE_CLUSTERS, doing="see the case's faces grouped")
    max_distance = match_max_distance()
    faces = _unknown_faces(case)
    if len(faces) > MAX_FACES:
        raise RejectedInput(
            f"case {case.number} has {len(faces):,} unknown faces; grouping takes at most {MAX_FACES:,} at "
            "once: name or reject faces first, or ask an administrator to raise the limit"
        )
    result = FaceClusters(case=case.number, max_distance=max_distance)
    for model in sorted({row[3] for row in faces}):
        group = [row for row in faces if row[3] == model]
        if len(group) < 2:
            result.unclustered += len(group)
            continue
        vectors = np.asarray([row[4] for row in group], dtype=np.float64)
        labels = fcluster(linkage(vectors, method="complete"), t=max_distance, criterion="distance")
        for label in np.unique(labels):
            members = [group[i] for i in np.flatnonzero(labels == label)]
            if len(members) < 2:
                result.unclustered += 1
                continue
            member_vectors = np.asarray([row[4] for row in members], dtype=np.float64)
            result.clusters.append(
                FaceCluster(
                    id=f"F-{members[0][0]}",
                    size=len(members),
                    items=sorted({row[1] for row in members}),
                    faces=[
                        {"annotation": pk, "item": item, "region": region}
                        for pk, item, region, _, _ in members
                    ],
                    diameter=round(float(pdist(member_vectors).max()), 4),
                    model_sha256=model,
                )
            )
    result.clusters.sort(key=lambda cluster: (-cluster.size, cluster.id))
    return result


def face_cluster_name(
    *, case: Case, person: Person, annotation_ids: list[int], actor: User
) -> list[ItemPersonLink]:
    """Suggest "item depicts <person>" for the item of each named face (one link per item, suspected,
    naming its face); items already suggested or confirmed as depicting the person are left as they are."""
    require(case=case, action=Action.FACE_CLUSTERS, doing="name a group of faces")
    require(case=case, action=Action.LINKS_RECORD, doing="name a group of faces")
    if person.case_id != case.pk:
        raise RejectedInput(f"{person.pseudonym} is not a person of case {case.number}")
    wanted = sorted(set(annotation_ids))
    if not wanted:
        raise RejectedInput("name at least one face (the annotation ids of the group)")
    faces = list(
        Annotation.objects.filter(pk__in=wanted, item__case_id=case.pk, label=FACE_LABEL)
        .select_related("item")
        .order_by("pk")
    )
    eligible = _eligible_any(wanted)
    unknown = [pk for pk in wanted if pk not in {f.pk for f in faces}]
    if unknown:
        raise RejectedInput(
            f"faces {', '.join(map(str, unknown))} are not face findings of case {case.number}: name only "
            "the faces of a group listed for this case"
        )
    refused = [f.pk for f in faces if f.pk not in eligible]
    if refused:
        raise RejectedInput(
            f"faces {', '.join(map(str, refused))} were rejected or their items destroyed: leave them out"
        )
    already = set(
        ItemPersonLink.objects.filter(
            person=person, relation=ItemPersonRelation.DEPICTS, withdrawn_at__isnull=True
        ).values_list("item_id", flat=True)
    )
    note = (
        f"named {person.pseudonym} with a group of {len(faces)} faces, each within the match distance of "
        "every other: a suggestion for an investigator to confirm or reject"
    )
    links: list[ItemPersonLink] = []
    with transaction.atomic():
        for face in faces:
            if face.item_id in already:
                continue
            already.add(face.item_id)
            links.append(
                link_assert_item_person(
                    item=face.item,
                    person=person,
                    relation=ItemPersonRelation.DEPICTS,
                    assertion=Assertion(
                        confidence=LinkConfidence.SUSPECTED,
                        source=LinkSource.DETECTOR,
                        annotation=face,
                        note=note,
                    ),
                    actor=actor,
                )
            )
    return links


def _eligible_any(annotation_ids: list[int]) -> set[int]:
    """The faces among ``annotation_ids`` that are not rejected and whose item is not destroyed."""
    return set(
        Annotation.objects.filter(pk__in=annotation_ids)
        .exclude(review_status=ReviewStatus.REJECTED)
        .exclude(item__status=ItemStatus.DESTROYED)
        .values_list("pk", flat=True)
    )
