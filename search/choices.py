"""Choices of the search app."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


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


class TimelineKind(models.TextChoices):
    """What a timeline point is (the API's ``kind``; docs/timeline.md has the table)."""

    ACQUIRED = "acquired", _("taken into the vault")
    CUSTODY = "custody", _("custody event")
    FILE_MODIFIED = "file_modified", _("file modified (file system)")
    FILE_CREATED = "file_created", _("file created (file system)")
    FILE_CHANGED = "file_changed", _("file metadata changed (file system)")
    FILE_ACCESSED = "file_accessed", _("file last accessed (file system)")
    CAPTURE = "capture", _("capture time (EXIF)")
    DIGITISED = "digitised", _("digitised time (EXIF)")
    POSTED = "posted", _("posted in a channel")
    FIRST_SEEN = "first_seen", _("first seen in a channel")
    TAKEDOWN = "takedown", _("takedown step")
    MESSAGE = "message", _("message sent")
    MESSAGE_EDITED = "message_edited", _("message edited")
    CAPTURE_STARTED = "capture_started", _("web capture began")
    CAPTURE_FINISHED = "capture_finished", _("web capture ended")
    TIMESTAMPED = "timestamped", _("manifest time-stamped (RFC 3161)")


def timeline_kind_label(kind: str) -> str:
    """A kind's words in the active language (a kind a later source adds without a label: its code)."""
    return str(TimelineKind(kind).label) if kind in TimelineKind.values else kind


# One or two words for each trust level, for a table cell or a filter (the label above is the explanation).
TIME_TRUST_WORDS = {
    TimeTrust.RECORDED: pgettext_lazy("time trust", "recorded"),
    TimeTrust.ATTESTED: pgettext_lazy("time trust", "attested"),
    TimeTrust.EXPORTED: pgettext_lazy("time trust", "as exported"),
    TimeTrust.CLAIMED: pgettext_lazy("time trust", "claimed"),
    TimeTrust.WEAK: pgettext_lazy("time trust", "weak"),
}


def time_trust_word(trust: str) -> str:
    """A trust level in a word or two, in the active language."""
    return str(TIME_TRUST_WORDS[TimeTrust(trust)]) if trust in TimeTrust.values else trust
