"""Choice sets for destruction orders."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DestructionOrderStatus(models.TextChoices):
    REQUESTED = "requested", _("requested")
    AUTHORISED = "authorised", _("authorised")
    WITNESSED = "witnessed", _("witness present")
    EXECUTED = "executed", _("executed")
    REFUSED = "refused", _("refused or withdrawn")


class DestructionOutcome(models.TextChoices):
    """What happened to one item's content when the order was executed."""

    PENDING = "pending", _("not yet executed")
    ERASED = "erased", _("content crypto-erased (data key destroyed, then ciphertext removed)")
    KEPT_SHARED = (
        "kept_shared",
        _("item marked destroyed; content kept: another case still needs the same bytes"),
    )
    NO_CONTENT = "no_content", _("item marked destroyed; it never had stored content")
