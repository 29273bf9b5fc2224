"""Which API tokens a caller sees: their own; an administrator's, everyone's."""

from django.contrib.auth.models import User
from django.db.models import QuerySet

from accounts.models import ApiToken


def api_tokens_visible_to(*, user: User) -> QuerySet[ApiToken]:
    tokens = ApiToken.objects.select_related("user", "revoked_by")
    return tokens if user.is_superuser else tokens.filter(user=user)
