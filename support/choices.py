"""Choice sets for victim support files, consents and takedowns."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SupportStatus(models.TextChoices):
    INTAKE = "intake", _("intake")
    ACTIVE = "active", _("active")
    MONITORING = "monitoring", _("monitoring (watching for reappearance)")
    CLOSED = "closed", _("closed")


class ConsentKind(models.TextChoices):
    SHARE_HASHES = "share_hashes", _("to share hashes of the material with platforms and hash lists")
    CONTACT = "contact", _("to be contacted by the support worker")
    TAKEDOWN_ON_BEHALF = "takedown_on_behalf", _("to request takedowns on the victim's behalf")
    SHARE_WITH_SUPPORT_CENTER = (
        "share_with_support_center",
        _("to share the case with the Digital Sex Crime Victim Support Center"),
    )


class ConsentGivenBy(models.TextChoices):
    VICTIM = "victim", _("the victim")
    GUARDIAN = "guardian", _("a parent or legal guardian (minor victim)")
    REPRESENTATIVE = "representative", _("a legal representative")


class TakedownAddressee(models.TextChoices):
    PLATFORM = "platform", _("the platform")
    KCSC = "kcsc", _("Korea Communications Standards Commission (방송통신심의위원회)")
    SUPPORT_CENTER = (
        "support_center",
        _("Digital Sex Crime Victim Support Center (디지털성범죄피해자지원센터)"),
    )


class TakedownPlatform(models.TextChoices):
    TELEGRAM = "telegram", _("Telegram")
    X = "x", _("X (Twitter)")
    DISCORD = "discord", _("Discord")
    KAKAOTALK = "kakaotalk", _("KakaoTalk")
    INSTAGRAM = "instagram", _("Instagram")
    WEBSITE = "website", _("website")
    OTHER = "other", _("other")


class TakedownStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    SENT = "sent", _("sent")
    ACKNOWLEDGED = "acknowledged", _("acknowledged by the addressee")
    REMOVED = "removed", _("removed")
    REFUSED = "refused", _("refused")
