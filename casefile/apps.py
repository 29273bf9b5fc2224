from django.apps import AppConfig


class CasefileConfig(AppConfig):
    name = "casefile"
    verbose_name = "Cases"

    def ready(self) -> None:
        # New face annotations are matched against victims' reference photos (detection does not import us).
        from casefile.faces import faces_stored
        from detection.detectors import faces

        if faces_stored not in faces.listeners:
            faces.listeners.append(faces_stored)
