"""Choice sets for sources: the kinds of source, and the kinds of note a parser leaves."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SourceKind(models.TextChoices):
    TELEGRAM = "telegram", _("Telegram Desktop export")
    KAKAOTALK = "kakaotalk", _("KakaoTalk text export")
    UFDR = "ufdr", _("Cellebrite UFDR")
    EXTRACTION = "extraction", _("extraction folder")


class SourceNoteKind(models.TextChoices):
    GAP = "gap", _("media missing from the export")
    ESCAPE = "escape", _("path escaping the export folder")
    MALFORMED = "malformed", _("malformed entry")
    DISCREPANCY = "discrepancy", _("hash discrepancy")


class MessageKind(models.TextChoices):
    MESSAGE = "message", _("message")
    SERVICE = "service", _("service message")
