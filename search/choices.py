"""Choices of the search app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SearchField(models.TextChoices):
    """Where a hit's text came from (the API's ``field``)."""

    NAME = "name", _("file name and path")
    OCR = "ocr", _("text read from the image (OCR)")
    METADATA = "metadata", _("metadata (EXIF, XMP, IPTC, document properties)")
    DOCUMENT = "document", _("document text")
    PROMPT = "prompt", _("AI-generation prompt")
    MESSAGE = "message", _("message")
    CAPTURE = "capture", _("captured web page")


class TimeTrust(models.TextChoices):
    """How far a timeline point's time can be trusted."""

    RECORDED = "recorded", _("recorded by Haetae when it happened")
    ATTESTED = "attested", _("attested by a third party (platform, time-stamping authority)")
    EXPORTED = "exported", _("as exported: the messenger's own time, as its export wrote it")
    CLAIMED = "claimed", _("claimed by the file or its sender; editable")
    WEAK = "weak", _("weak: changes when a file is copied (file system times)")
