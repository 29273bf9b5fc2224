"""Choice sets for the vault and the custody ledger."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CustodyAction(models.TextChoices):
    ACQUIRED = "acquired", _("acquired")
    STORED = "stored", _("stored in the vault")
    REJECTED = "rejected", _("content not taken (recorded with a reason)")
    VERIFIED = "verified", _("verified")
    VIEWED = "viewed", _("content viewed")
    EXPORTED = "exported", _("exported")
    TRANSFERRED = "transferred", _("transferred")
    SEALED = "sealed", _("sealed")
    UNSEALED = "unsealed", _("unsealed")
    DERIVED = "derived", _("derivative made")
    DESTRUCTION_ORDERED = "destruction_ordered", _("destruction ordered")
    DESTRUCTION_AUTHORISED = "destruction_authorised", _("destruction authorised")
    DESTRUCTION_WITNESSED = "destruction_witnessed", _("destruction witnessed")
    DESTRUCTION_REFUSED = "destruction_refused", _("destruction order refused or withdrawn")
    DESTROYED = "destroyed", _("destroyed")
    INCIDENT = "incident", _("integrity incident")
    CASE_CREATED = "case_created", _("case created")
    ACQUISITION_STARTED = "acquisition_started", _("acquisition started")
    ACQUISITION_COMPLETED = "acquisition_completed", _("acquisition completed")
    ACQUISITION_INTERRUPTED = "acquisition_interrupted", _("acquisition interrupted")
    CAPTURE_REQUESTED = "capture_requested", _("capture of a URL requested")
    CAPTURE_COMPLETED = "capture_completed", _("URL captured")
    CAPTURE_FAILED = "capture_failed", _("capture of a URL failed")
    # Case-level events (cases issue).
    CASE_UPDATED = "case_updated", _("case details changed")
    CASE_STATUS_CHANGED = "case_status_changed", _("case status changed")
    MEMBER_ADDED = "member_added", _("team member added")
    MEMBER_CHANGED = "member_changed", _("team member's role changed")
    MEMBER_REMOVED = "member_removed", _("team member removed")
    AUTHORITY_RECORDED = "authority_recorded", _("legal authority recorded")
    LEGAL_HOLD_CHANGED = "legal_hold_changed", _("legal hold changed")
    PERSON_RECORDED = "person_recorded", _("person recorded")
    IDENTITY_READ = "identity_read", _("restricted identity read")
    IDENTITY_CHANGED = "identity_changed", _("restricted identity changed")
    LINK_ASSERTED = "link_asserted", _("link asserted")
    LINK_WITHDRAWN = "link_withdrawn", _("link withdrawn")
    CHANNEL_RECORDED = "channel_recorded", _("channel recorded or observed")
    BREAK_GLASS = "break_glass", _("administrator break-glass access")
    PREVIEW_SERVED = "preview_served", _("blurred preview served")
    SUPPORT_CHANGED = "support_changed", _("victim support file changed")
    TAKEDOWN_CHANGED = "takedown_changed", _("takedown request changed")
    HASHES_EXPORTED = "hashes_exported", _("hashes exported for blocking")
    # Detection (detection issue).
    ANALYSED = "analysed", _("analysed by a detector")
    FINDING_REVIEWED = "finding_reviewed", _("detector finding confirmed or rejected")
    MATCHED = "matched", _("hash match recorded")
    # Exhibits, reports and export bundles (exhibits issue).
    EXHIBIT_CREATED = "exhibit_created", _("exhibit created")
    EXHIBIT_CHANGED = "exhibit_changed", _("exhibit changed")
    EXHIBIT_APPROVAL_REQUESTED = "exhibit_approval_requested", _("exhibit approval requested")
    EXHIBIT_APPROVED = "exhibit_approved", _("exhibit approved by a supervisor")
    EXHIBIT_SHARED = "exhibit_shared", _("exhibit shared with the prosecutor")
    EXHIBIT_WITHDRAWN = "exhibit_withdrawn", _("exhibit withdrawn")
    EXHIBITED = "exhibited", _("put in an exhibit")
    UNEXHIBITED = "unexhibited", _("taken out of an exhibit")
    REPORT_GENERATED = "report_generated", _("report generated and signed")
    REPORT_DOWNLOADED = "report_downloaded", _("report downloaded")
    BUNDLE_CREATED = "bundle_created", _("export bundle created")
    BUNDLE_DOWNLOADED = "bundle_downloaded", _("export bundle downloaded")
    # Search (search issue): who searched the case's text, for what.
    SEARCHED = "searched", _("evidence text searched")
    # Korean procedure records (records app, docs/korean-procedure.md).
    PROCEDURE_DOCUMENT = "procedure_document", _("procedure document issued (detailed list, confirmation)")
    SCENE_HASH_RECORDED = "scene_hash_recorded", _("hash confirmation taken at the scene recorded")
    MARKED_UNRELATED = "marked_unrelated", _("marked unrelated to the warrant (selective seizure)")
    UNRELATED_UNMARKED = "unrelated_unmarked", _("mark as unrelated to the warrant withdrawn")
    UNRELATED_RETURNED = "unrelated_returned", _("unrelated item returned; the vault's copy erased")
    UNRELATED_DELETED = "unrelated_deleted", _("unrelated item deleted (the vault's copy erased)")


class AcquisitionStatus(models.TextChoices):
    RUNNING = "running", _("running")
    COMPLETED = "completed", _("completed")
    INTERRUPTED = "interrupted", _("interrupted (re-run to complete)")


class ItemKind(models.TextChoices):
    FILE = "file", _("file")
    ARCHIVE_MEMBER = "archive_member", _("archive member")
    UPLOAD = "upload", _("upload")
    SYMLINK = "symlink", _("symbolic link (not followed)")
    SPECIAL = "special", _("special file (device, pipe, socket)")


class ItemStatus(models.TextChoices):
    INGESTED = "ingested", _("ingested")
    REJECTED = "rejected", _("rejected (recorded, content not stored)")
    DESTROYED = "destroyed", _("destroyed under a destruction order (the record stays)")
    # Selective seizure: outside the warrant, awaiting return or deletion; analysis, exhibits and exports
    # leave it out, and its content is not served.
    UNRELATED = "unrelated", _("marked unrelated to the warrant, awaiting return or deletion")


# The status each item-level custody action leaves an item in. The last of these on an item's chain is what
# its ``status`` column must say: every service that changes the column writes one, and ``manage.py verify``
# reports a column that disagrees (changed without an event, or a destruction the column no longer shows).
ITEM_STATUS_AFTER: dict[str, str] = {
    CustodyAction.ACQUIRED: ItemStatus.INGESTED,
    CustodyAction.REJECTED: ItemStatus.REJECTED,
    CustodyAction.MARKED_UNRELATED: ItemStatus.UNRELATED,
    CustodyAction.UNRELATED_UNMARKED: ItemStatus.INGESTED,
    CustodyAction.UNRELATED_RETURNED: ItemStatus.DESTROYED,
    CustodyAction.UNRELATED_DELETED: ItemStatus.DESTROYED,
    CustodyAction.DESTROYED: ItemStatus.DESTROYED,
}


class DerivativeKind(models.TextChoices):
    """What a derivative is: made from evidence, labelled so, and never evidence itself."""

    PREVIEW_BLURRED = "preview_blurred", _("blurred preview")
    PREVIEW_BLURRED_GREY = "preview_blurred_grey", _("blurred greyscale preview")
    PREVIEW = "preview", _("unblurred preview (a content view)")
    PREVIEW_GREY = "preview_grey", _("unblurred greyscale preview (a content view)")
    THUMBNAIL_BLURRED = "thumbnail_blurred", _("blurred thumbnail")
    FRAME = "frame", _("video frame")
    ELA_MAP = "ela_map", _("error level analysis map")
    OTHER = "other", _("other derivative")


class TimestampSubject(models.TextChoices):
    CHECKPOINT = "checkpoint", _("ledger checkpoint")
    ACQUISITION = "acquisition", _("acquisition manifest")


class TimestampStatus(models.TextChoices):
    GRANTED = "granted", _("granted and verified")
    FAILED = "failed", _("failed")
