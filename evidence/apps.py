from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "evidence"
    verbose_name = "Evidence vault"

    def ready(self) -> None:
        from evidence.imaging import pillow_backstop

        pillow_backstop()
