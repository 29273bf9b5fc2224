"""The ground floor: cases, teams, roles, break-glass grants and the need-to-know policy."""

from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = "Cases and access"
