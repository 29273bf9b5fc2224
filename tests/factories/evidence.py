"""Items whose bytes went through the real vault."""

import io
from typing import Any

from django.db import transaction

from access.models import Case
from evidence.choices import AcquisitionStatus, CustodyAction, ItemKind, ItemStatus
from evidence.custody import EventSpec, custody_append_many
from evidence.models import Acquisition, CustodyEvent, EvidenceItem
from evidence.records import item_record
from evidence.vault import WorkDir, blob_commit
from tests.factories.access import Team
from tests.factories.media import encode, photo


def stored_item(
    *, case: Case, data: bytes, actor: Any, name: str = "photo.jpg", mime: str = "image/jpeg"
) -> EvidenceItem:
    """An item whose bytes went through the real vault (staged, placed, Blob row, acquired + stored events).

    For tests of code downstream of ingest; ingest itself is tested through evidence.ingest.
    """
    with WorkDir() as work:
        staged = work.stage(io.BytesIO(data))
        sha = staged.digests.sha256
        with transaction.atomic():
            blob, placed = blob_commit(work=work, staged=staged, mime=mime)
            acquisition = Acquisition.objects.create(
                case=case,
                actor=actor,
                tool_name="tests",
                tool_version="0",
                status=AcquisitionStatus.COMPLETED,
            )
            item = EvidenceItem.objects.create(
                case=case,
                acquisition=acquisition,
                blob=blob,
                kind=ItemKind.FILE,
                status=ItemStatus.INGESTED,
                original_name=name,
                original_path=f"/evidence/{name}",
                original_path_raw=f"/evidence/{name}".encode(),
                locator_sha256=sha,
                size=len(data),
                mime=mime,
                acquired_by=actor,
            )
            specs = [
                EventSpec(
                    case_id=case.pk,
                    item_id=item.pk,
                    action=CustodyAction.ACQUIRED,
                    actor=actor,
                    sha256_after=sha,
                    new_item=True,
                    # as ingest records it: what a court relies on about the item, in the ledger
                    details={**item_record(item), "md5": blob.md5, "sha1": blob.sha1},
                )
            ]
            if placed:
                specs.append(
                    EventSpec(
                        case_id=case.pk,
                        item_id=item.pk,
                        action=CustodyAction.STORED,
                        actor=actor,
                        sha256_after=sha,
                        new_item=True,
                    )
                )
            custody_append_many(specs)
    return item


def item(t: Team, data: bytes = b"photo bytes", name: str = "photo.jpg") -> EvidenceItem:
    return stored_item(case=t.case, data=data, actor=t.lead, name=name)


def photo_item(case: Case, actor, *, which: str = "astronaut", name: str | None = None) -> EvidenceItem:
    """A stored JPEG of one of scikit-image's photographs."""
    return stored_item(
        case=case,
        data=encode(photo(which), quality=90),
        actor=actor,
        name=name or f"{which}.jpg",
        mime="image/jpeg",
    )


def custody_actions(**filters: Any) -> list[str]:
    """The actions of the custody events that match ``filters`` (``case=``, ``item=`` …), in ledger order."""
    return list(CustodyEvent.objects.filter(**filters).order_by("seq").values_list("action", flat=True))
