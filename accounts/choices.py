from django.db import models
from django.utils.translation import gettext_lazy as _


class AccountAction(models.TextChoices):
    TOKEN_ISSUED = "token_issued", _("API token issued")
    TOKEN_REVOKED = "token_revoked", _("API token revoked")
    TOKEN_REFUSED = "token_refused", _("revoked or expired API token refused")
    QUALIFICATION_RECORDED = "qualification_recorded", _("examiner qualification recorded")
