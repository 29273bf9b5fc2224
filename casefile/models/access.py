"""Access beyond team membership: an administrator's time-limited, logged break-glass grant to one case."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casefile.models.case import Case


class BreakGlassGrant(models.Model):
    """An admin's emergency read access to a case they are not on: a reason, an expiry, a custody event.

    Live while ``now < expires_at`` and not ended. Ending early keeps the row (who ended it, when): grants
    are a record, never deleted. What a grant lets its holder see is decided in ``casefile.selectors``.
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="break_glass_grants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    granted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("break-glass grant")
        verbose_name_plural = _("break-glass grants")
        ordering = ["-granted_at", "-id"]
        indexes = [models.Index(fields=["user", "case", "expires_at"])]

    def __str__(self) -> str:
        return f"break-glass {self.user_id} on {self.case_id} until {self.expires_at:%Y-%m-%d %H:%M}"

    @property
    def is_live(self) -> bool:
        return self.ended_at is None and timezone.now() < self.expires_at
