"""Cases, their teams, the offences they concern, the legal authorities they act under, and administrators'
break-glass grants: the ground floor every other app stands on."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access.choices import CaseMemberRole, CaseRetention, CaseStatus, LegalAuthorityKind
from haetae.fields import optional_user_ref, user_ref

case_number_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9-]{2,63}$",
    "A case number is 3–64 letters, digits and hyphens, e.g. 2024-SEOUL-0001.",
)


class Offence(models.Model):
    """A statute reference a case can concern (seeded by access/seed.py), in Korean and English."""

    code = models.SlugField(max_length=64, unique=True, help_text=_("stable key, e.g. sc-14-2-possess"))
    statute_ko = models.CharField(max_length=200)
    statute_en = models.CharField(max_length=200)
    article = models.CharField(max_length=32, help_text=_("article and paragraph, e.g. 14-2(4)"))
    label_ko = models.CharField(max_length=300)
    label_en = models.CharField(max_length=300)
    # Offences that apply because a victim is a minor (the Juvenile Sex Protection Act).
    minor_victim = models.BooleanField(default=False)
    since = models.DateField(null=True, blank=True, help_text=_("in force since, where it matters"))
    sort_order = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("offence")
        verbose_name_plural = _("offences")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return f"{self.statute_en} art. {self.article}: {self.label_en}"


class Unit(models.Model):
    """An investigating unit (e.g. 서울청 사이버수사대): its cases are supervised by its supervisors."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UnitSupervisor(models.Model):
    """A supervisor of a unit: on every case of the unit they hold the ``supervisor`` case role (DESIGN.md:
    "all an investigator may on their unit's cases; approve exhibits and reports; assign teams"). The
    services keep the case teams in step (``access.services.unit_supervisor_add`` / ``_remove``)."""

    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="supervisors")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="supervised_units"
    )
    added_at = models.DateTimeField(default=timezone.now)
    added_by = optional_user_ref()

    class Meta:
        verbose_name = _("unit supervisor")
        verbose_name_plural = _("unit supervisors")
        constraints = [models.UniqueConstraint(fields=["unit", "user"], name="unitsupervisor_unique_user")]

    def __str__(self) -> str:
        return f"{self.user} supervises {self.unit}"


class Case(models.Model):
    """An investigation: the unit that evidence, people and exhibits belong to."""

    number = models.CharField(max_length=64, unique=True, validators=[case_number_validator])
    title = models.CharField(max_length=300)
    status = models.CharField(max_length=16, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    offences = models.ManyToManyField(Offence, blank=True, related_name="cases")
    unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        help_text=_("investigating unit, e.g. 서울청 사이버수사대"),
    )
    jurisdiction = models.CharField(max_length=200, blank=True, help_text=_("e.g. 서울중앙지방검찰청"))
    # The officer in charge: always one of the team's leads (the services keep it so).
    lead_investigator = optional_user_ref()
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    retention_class = models.CharField(
        max_length=16, choices=CaseRetention.choices, default=CaseRetention.STANDARD
    )
    # While set, nothing of the case may be destroyed, whatever its retention class says.
    legal_hold = models.BooleanField(default=False)
    legal_hold_reason = models.TextField(blank=True)
    # When set, every content view must also name its legal basis (e.g. the warrant number).
    content_requires_legal_basis = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
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
    added_by = optional_user_ref()
    # Set on a ``supervisor`` membership: the unit whose supervision it comes from (it ends with it).
    via_unit = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        verbose_name = _("case member")
        verbose_name_plural = _("case members")
        constraints = [models.UniqueConstraint(fields=["case", "user"], name="casemember_unique_user")]

    def __str__(self) -> str:
        return f"{self.user} on {self.case} as {self.role}"


class LegalAuthority(models.Model):
    """A warrant or other authority the case acts under: number, court, scope, issued and executed."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="legal_authorities")
    kind = models.CharField(
        max_length=32, choices=LegalAuthorityKind.choices, default=LegalAuthorityKind.SEARCH_WARRANT
    )
    number = models.CharField(max_length=100, help_text=_("warrant number, e.g. 2024-12345"))
    court = models.CharField(max_length=200, blank=True)
    scope = models.TextField(help_text=_("what it authorises: places, devices, accounts, data"))
    issued_at = models.DateTimeField()
    valid_until = models.DateTimeField(null=True, blank=True)
    executed_at = models.DateTimeField(null=True, blank=True)
    recorded_by = user_ref()
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("legal authority")
        verbose_name_plural = _("legal authorities")
        ordering = ["issued_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "kind", "number"], name="legalauthority_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number} ({self.case_id})"


class BreakGlassGrant(models.Model):
    """An admin's emergency read access to a case they are not on: a reason, an expiry, a custody event.

    Live while ``now < expires_at`` and not ended. Ending early keeps the row (who ended it, when): grants
    are a record, never deleted. What a grant lets its holder see is decided in ``access.selectors``.
    """

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="break_glass_grants")
    user = user_ref()
    reason = models.TextField()
    granted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = optional_user_ref()

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
