"""API tokens kept only as SHA-256 digests, with an expiry; and the account activity that records them."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.choices import AccountAction
from haetae.fields import optional_user_ref


class ApiToken(models.Model):
    """One API token of one user. The token itself is shown once, at issue; only its digest is stored, so a
    copy of the database (a backup) authenticates nobody."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True, help_text="what the token is for, e.g. a script")
    # The first characters of the token, not secret: lets a person tell their tokens apart.
    prefix = models.CharField(max_length=12)
    key_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoke_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @property
    def state(self) -> str:
        """active, expired or revoked."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "active"


class AccountEvent(models.Model):
    """Something that happened to a user's account (a token issued or revoked), who did it and when."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="account_events"
    )
    actor = optional_user_ref()
    action = models.CharField(max_length=32, choices=AccountAction.choices)
    details = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.user}"


class ExaminerQualification(models.Model):
    """One recorded state of a user's qualification as an examiner (title, unit, training, certifications).

    A change adds a row and never rewrites one, so a report made last year still shows the qualification
    its examiner held then: the row in force at a moment is the newest recorded at or before it.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="examiner_qualifications"
    )
    title = models.CharField(
        _("title"),
        max_length=200,
        blank=True,
        help_text=_("rank and position, e.g. 경위, 디지털포렌식 분석관"),
    )
    unit = models.CharField(_("unit"), max_length=200, blank=True, help_text=_("e.g. 서울청 사이버수사대"))
    # Each a list of {"name": …, "date": "YYYY-MM-DD"}, oldest first.
    training = models.JSONField(_("training"), default=list, blank=True)
    certifications = models.JSONField(_("certifications"), default=list, blank=True)
    note = models.TextField(_("note"), blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    # None: recorded by the operator at the command line.
    recorded_by = optional_user_ref()

    class Meta:
        verbose_name = _("examiner qualification")
        verbose_name_plural = _("examiner qualifications")
        ordering = ["user_id", "-recorded_at", "-pk"]
        indexes = [models.Index(fields=["user", "recorded_at"], name="qualification_user_time")]

    def __str__(self) -> str:
        return f"{self.user} as of {self.recorded_at:%Y-%m-%d %H:%M}"
