"""Choice sets for the vault and the custody ledger."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CustodyAction(models.TextChoices):
    ACQUIRED = "acquired", _("acquired")
    STORED = "stored", _("stored in the vault")
    REJECTED = "rejected", _("content not taken (recorded with a reason)")
    VERIFIED = "verified", _("verified")
    VIEWED = "viewed", _("content viewed")
    EXPORTED = "exported", _("exported")
    TRANSFERRED = "transferred", _("transferred")
    SEALED = "sealed", _("sealed")
    UNSEALED = "unsealed", _("unsealed")
    DERIVED = "derived", _("derivative made")
    DESTRUCTION_ORDERED = "destruction_ordered", _("destruction ordered")
    DESTROYED = "destroyed", _("destroyed")
    INCIDENT = "incident", _("integrity incident")
    CASE_CREATED = "case_created", _("case created")
    ACQUISITION_STARTED = "acquisition_started", _("acquisition started")
    ACQUISITION_COMPLETED = "acquisition_completed", _("acquisition completed")
    ACQUISITION_INTERRUPTED = "acquisition_interrupted", _("acquisition interrupted")


class AcquisitionStatus(models.TextChoices):
    RUNNING = "running", _("running")
    COMPLETED = "completed", _("completed")
    INTERRUPTED = "interrupted", _("interrupted (re-run to complete)")


class ItemKind(models.TextChoices):
    FILE = "file", _("file")
    ARCHIVE_MEMBER = "archive_member", _("archive member")
    UPLOAD = "upload", _("upload")
    SYMLINK = "symlink", _("symbolic link (not followed)")
    SPECIAL = "special", _("special file (device, pipe, socket)")


class ItemStatus(models.TextChoices):
    INGESTED = "ingested", _("ingested")
    REJECTED = "rejected", _("rejected (recorded, content not stored)")
