"""Messenger exports and phone extraction reports: messages, chats, device paths, ingested as acquisitions."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SourcesConfig(AppConfig):
    name = "sources"
    verbose_name = _("Sources")
