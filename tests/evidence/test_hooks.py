"""Ingest hooks (settings.HAETAE_INGEST_HOOKS): called in a batch's transaction with its new stored items."""

from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from evidence.choices import AcquisitionStatus
from evidence.ingest import PathSource, evidence_ingest
from evidence.models import Acquisition, EvidenceItem
from tests.factories import CaseFactory, UserFactory

pytestmark = pytest.mark.django_db

calls: list[dict[str, Any]] = []


def recording_hook(*, items: Any, acquisition: Any) -> None:
    calls.append(
        {
            "names": sorted(item.original_name for item in items),
            "ids": [item.pk for item in items],
            "acquisition": acquisition.pk,
            "in_transaction": connection.in_atomic_block,
            "committed_rows_visible": EvidenceItem.objects.filter(pk__in=[i.pk for i in items]).count(),
        }
    )


def failing_hook(*, items: Any, acquisition: Any) -> None:
    raise RuntimeError("the hook's database write failed")


@pytest.fixture(autouse=True)
def _fresh_calls() -> None:
    calls.clear()


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "seized"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(b"first")
    (folder / "b.jpg").write_bytes(b"second")
    (folder / "link").symlink_to("/nowhere")  # recorded as a rejected item, with no content
    return folder


def test_hooks_get_the_new_stored_items_inside_the_batch_transaction(tmp_path: Path, settings: Any) -> None:
    settings.HAETAE_INGEST_HOOKS = ["tests.evidence.test_hooks.recording_hook"]
    folder = _folder(tmp_path)
    result = evidence_ingest(case=CaseFactory(), sources=[PathSource(folder)], actor=UserFactory())
    (call,) = calls
    assert call["names"] == ["a.jpg", "b.jpg"]  # the symlink was rejected: no content for a hook
    assert call["acquisition"] == result.acquisition.pk
    assert call["in_transaction"] and call["committed_rows_visible"] == 2

    evidence_ingest(case=result.acquisition.case, sources=[PathSource(folder)], actor=UserFactory())
    assert len(calls) == 1  # the same files again are duplicates: no new items, no call


def test_without_hooks_ingest_works_as_before(tmp_path: Path, settings: Any) -> None:
    settings.HAETAE_INGEST_HOOKS = []
    result = evidence_ingest(case=CaseFactory(), sources=[PathSource(_folder(tmp_path))], actor=UserFactory())
    assert result.counts["ingested"] == 2 and calls == []


def test_a_failing_hook_rolls_the_batch_back_and_leaves_a_retryable_record(
    tmp_path: Path, settings: Any
) -> None:
    settings.HAETAE_INGEST_HOOKS = ["tests.evidence.test_hooks.failing_hook"]
    with pytest.raises(RuntimeError, match="hook's database write failed"):
        evidence_ingest(case=CaseFactory(), sources=[PathSource(_folder(tmp_path))], actor=UserFactory())
    assert not EvidenceItem.objects.exists()
    acquisition = Acquisition.objects.get()
    assert acquisition.status == AcquisitionStatus.INTERRUPTED
