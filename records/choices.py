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


class ProcedureDocumentKind(models.TextChoices):
    """The Korean procedure documents Haetae prints (docs/korean-procedure.md)."""

    SEIZED_LIST = "seized_list", _("detailed list of seized electronic information (상세목록)")
    SCENE_CONFIRMATION = "scene_confirmation", _("electronic information and hash confirmation (확인서)")
    EXPORT_CONFIRMATION = "export_confirmation", _("confirmation of removal from the vault (반출 확인서)")


class UnrelatedMarkStatus(models.TextChoices):
    MARKED = "marked", _("marked unrelated, awaiting return or deletion")
    WITHDRAWN = "withdrawn", _("mark withdrawn (the item is back in the case)")
    RETURNED = "returned", _("returned to the person searched; the vault's copy erased")
    DELETED = "deleted", _("deleted; the vault's copy erased")


class UnrelatedDisposalKind(models.TextChoices):
    RETURNED = "returned", _("returned to the person searched")
    DELETED = "deleted", _("deleted")
