"""Face pages: a victim's face searched across cases (the case lead), and the case's unknown faces in groups
(leads, investigators, analysts) with a form to name a group once.

The services decide who may (``parties.facesearch``, ``parties.faceclusters``); these views parse, call and
render. No face image is shown: hits and group members are item references, linked to the item pages,
which serve previews under their own rules.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from access.policy import Action, require
from access.selectors import case_get_for
from haetae.auth import verified_login_required
from haetae.errors import RejectedInput
from parties.faceclusters import face_cluster_name, face_clusters
from parties.facesearch import face_search
from parties.models import ReferencePhoto
from parties.selectors import person_get, person_list
from portal.views.cases import portal_errors


@verified_login_required
@portal_errors
@require_http_methods(["GET", "POST"])
def person_faces(request: HttpRequest, number: str, pseudonym: str) -> HttpResponse:
    """GET: the search button; POST: search every case with the victim's reference photos (logged)."""
    case = case_get_for(user=request.user, number=number)
    require(case=case, action=Action.FACE_SEARCH, doing="search other cases for a victim's face")
    person = person_get(case=case, pseudonym=pseudonym)
    context = {
        "case": case,
        "person": person,
        "references": ReferencePhoto.objects.filter(person=person, withdrawn_at__isnull=True).count(),
        "result": None,
    }
    if request.method == "POST":
        context["result"] = face_search(person=person, actor=request.user)  # type: ignore[arg-type]
    return render(request, "portal/faces/person.html", context)


@verified_login_required
@portal_errors
def case_faces(request: HttpRequest, number: str) -> HttpResponse:
    """The case's unknown faces in groups, each with a form naming it."""
    case = case_get_for(user=request.user, number=number)
    grouped = face_clusters(case=case)
    people = list(person_list(case=case).order_by("kind", "pseudonym_number"))
    return render(request, "portal/faces/clusters.html", {"case": case, "grouped": grouped, "people": people})


@verified_login_required
@portal_errors
@require_http_methods(["POST"])
def case_faces_name(request: HttpRequest, number: str) -> HttpResponse:
    """Name one group: a suggested 'item depicts' link per item, then back to the groups."""
    case = case_get_for(user=request.user, number=number)
    require(case=case, action=Action.FACE_CLUSTERS, doing="name a group of faces")
    try:
        faces = [int(value) for value in request.POST.getlist("faces")]
    except ValueError:
        raise RejectedInput("the group's faces were not sent as finding ids: reload the page") from None
    person = person_get(case=case, pseudonym=request.POST.get("person", ""))
    face_cluster_name(case=case, person=person, annotation_ids=faces, actor=request.user)  # type: ignore[arg-type]
    return redirect("portal:case_faces", number=case.number)
