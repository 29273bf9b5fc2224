"""Operator-imported ONNX model packs (deepfake detectors): which file, which manifest, who, whether on.

The model file lives read-only at ``DATA_DIR/models/<sha256>.onnx`` and is re-hashed every time a worker
loads it. Importing and enabling are recorded here; a pack never changes once imported (a new model is a
new version), so every annotation it made stays explained by its row.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from haetae.fields import optional_user_ref


class PackGranularity(models.TextChoices):
    FACE = "face", _("face crops of a still image")
    IMAGE = "image", _("whole still images")
    FRAME = "frame", _("whole pictures: still images and sampled video frames")


class ModelPack(models.Model):
    """One version of an imported model pack: ``model.onnx`` (by SHA-256) and its validated manifest."""

    name = models.CharField(max_length=64)
    version = models.CharField(max_length=32)
    sha256 = models.CharField(
        max_length=64, help_text=_("SHA-256 of model.onnx, checked on import and at load")
    )
    size = models.PositiveBigIntegerField()
    manifest = models.JSONField()
    manifest_sha256 = models.CharField(max_length=64)
    task = models.CharField(max_length=64)
    granularity = models.CharField(max_length=8, choices=PackGranularity.choices)
    licence = models.CharField(max_length=100)
    file_path = models.CharField(
        max_length=500,
        help_text=_("where it was stored at import; loads find it by SHA-256 in DATA_DIR/models"),
    )
    source = models.CharField(max_length=500, blank=True, help_text=_("the path it was imported from"))
    imported_by = optional_user_ref()
    imported_at = models.DateTimeField(default=timezone.now)
    enabled = models.BooleanField(default=False)
    enabled_by = optional_user_ref()
    enabled_at = models.DateTimeField(null=True, blank=True)
    disabled_by = optional_user_ref()
    disabled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("model pack")
        verbose_name_plural = _("model packs")
        ordering = ["name", "-imported_at"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="modelpack_unique_version"),
            # At most one version of a pack is enabled: its detector name ("pack:<name>") is unique.
            models.UniqueConstraint(
                fields=["name"], condition=models.Q(enabled=True), name="modelpack_one_enabled_version"
            ),
        ]

    def __str__(self) -> str:
        return f"pack {self.name} {self.version}"

    @property
    def detector_name(self) -> str:
        return f"pack:{self.name}"
