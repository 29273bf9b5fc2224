"""Choice sets for people, channels and links."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PersonKind(models.TextChoices):
    VICTIM = "victim", _("victim")
    SUSPECT = "suspect", _("suspect")
    WITNESS = "witness", _("witness")
    OTHER = "other", _("other")


class LinkConfidence(models.TextChoices):
    CONFIRMED = "confirmed", _("confirmed")
    SUSPECTED = "suspected", _("suspected")


class LinkSource(models.TextChoices):
    INVESTIGATOR = "investigator", _("investigator")
    DETECTOR = "detector", _("detector (a suggestion until confirmed)")
    EXPORT = "export", _("messenger export or extraction report (a suggestion until confirmed)")


class ItemPersonRelation(models.TextChoices):
    DEPICTS = "depicts", _("item depicts person")
    CREATED_BY = "created_by", _("item created by person")
    POSSESSED_BY = "possessed_by", _("item possessed by person")
    DISTRIBUTED_BY = "distributed_by", _("item distributed by person")


class PersonChannelRelation(models.TextChoices):
    ADMINISTERS = "administers", _("person administers channel")
    UPLOADS_TO = "uploads_to", _("person uploads to channel")
    BELONGS_TO = "belongs_to", _("person belongs to channel")


class ChannelPlatform(models.TextChoices):
    TELEGRAM = "telegram", _("Telegram")
    X = "x", _("X (Twitter)")
    DISCORD = "discord", _("Discord")
    KAKAOTALK = "kakaotalk", _("KakaoTalk")
    INSTAGRAM = "instagram", _("Instagram")
    WEBSITE = "website", _("website")
    OTHER = "other", _("other")
