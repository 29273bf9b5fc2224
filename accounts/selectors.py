"""Which API tokens a caller sees (their own; an administrator's, everyone's), and an examiner's
qualification as of a moment."""

from datetime import datetime

from django.contrib.auth.models import User
from django.db.models import QuerySet

from accounts.models import ApiToken, ExaminerQualification


def api_tokens_visible_to(*, user: User) -> QuerySet[ApiToken]:
    tokens = ApiToken.objects.select_related("user", "revoked_by")
    return tokens if user.is_superuser else tokens.filter(user=user)


def qualification_as_of(*, user_id: int, at: datetime) -> ExaminerQualification | None:
    """The qualification recorded for the user that was in force at ``at`` (None: none recorded by then)."""
    rows = ExaminerQualification.objects.filter(user_id=user_id, recorded_at__lte=at)
    return rows.order_by("-recorded_at", "-pk").first()


def qualification_history(*, user_id: int) -> QuerySet[ExaminerQualification]:
    """Every recorded state of the user's qualification, newest first."""
    return ExaminerQualification.objects.filter(user_id=user_id).select_related("recorded_by")
