"""Cases and their teams."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from casefile.choices import CaseMemberRole, CaseStatus

case_number_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9-]{2,63}$",
    "A case number is 3–64 letters, digits and hyphens, e.g. 2024-SEOUL-0001.",
)


class Case(models.Model):
    """An investigation: the unit that evidence, people and exhibits belong to."""

    number = models.CharField(max_length=64, unique=True, validators=[case_number_validator])
    title = models.CharField(max_length=300)
    status = models.CharField(max_length=16, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    opened_at = models.DateTimeField(default=timezone.now)
    # When set, every content view must also name its legal basis (e.g. the warrant number).
    content_requires_legal_basis = models.BooleanField(default=False)

    class Meta:
        ordering = ["-opened_at"]

    def __str__(self) -> str:
        return self.number


class CaseMember(models.Model):
    """A user's place on a case team: membership is the first need-to-know check."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="case_memberships"
    )
    role = models.CharField(max_length=32, choices=CaseMemberRole.choices)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "user"], name="casemember_unique_user")]

    def __str__(self) -> str:
        return f"{self.user} on {self.case} as {self.role}"
