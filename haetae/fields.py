"""Model fields that many apps declare the same way (no domain logic here)."""

from django.conf import settings
from django.contrib.auth.models import User
from django.db import models
from django.db.models.expressions import Combinable


def user_ref() -> "models.ForeignKey[User | Combinable, User]":
    """The user who did something a record keeps: never deleted while named (PROTECT), no reverse accessor."""
    return models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")


def optional_user_ref() -> "models.ForeignKey[User | Combinable | None, User | None]":
    """Like ``user_ref``, for a step that may not have happened yet or that the system did (null)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
