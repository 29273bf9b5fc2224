"""People, channels, links, the case graph, and victims' reference photos."""

from typing import TYPE_CHECKING, Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from detection.models import Annotation, DetectionRun


def _faces_stored(run: "DetectionRun", annotations: "list[Annotation]") -> None:
    # Imported when first called: parties.faces pulls in dlib and OpenCV, which start-up must not load.
    from parties.faces import faces_stored

    faces_stored(run, annotations)


def _face_reviewed(annotation: "Annotation", actor: Any, decision: str) -> None:
    from parties.faces import face_finding_reviewed

    face_finding_reviewed(annotation, actor, decision)


class PartiesConfig(AppConfig):
    name = "parties"
    verbose_name = _("People, channels and links")

    def ready(self) -> None:
        # New face annotations are matched against victims' reference photos (detection does not import us).
        from detection.listeners import face_listeners, review_listeners

        if _faces_stored not in face_listeners:
            face_listeners.append(_faces_stored)
        # A rejected face finding withdraws the links it suggested.
        if _face_reviewed not in review_listeners:
            review_listeners.append(_face_reviewed)
