"""Fixtures for detection tests: test detectors in the registry, eager Celery, images, case teams."""

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from access.choices import CaseMemberRole
from detection import registry
from evidence.ingest import PathSource, evidence_ingest
from tests.factories import CaseFactory, CaseMemberFactory, UserFactory

PLUGINS = "tests.detection.plugins:factory"


def png(rgb: tuple[int, int, int], size: int = 16) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.full((size, size, 3), rgb, dtype=np.uint8)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def fresh_registry() -> Iterator[None]:
    """The detector registry read afresh for the test, and forgotten after it."""
    registry.reset()
    yield
    registry.reset()


@pytest.fixture
def test_detectors(settings: Any) -> Iterator[dict[str, Any]]:
    """The registry holds exactly the test detectors (brightness, dominant channel), fresh per test."""
    settings.HAETAE_EXTRA_DETECTORS = [PLUGINS]
    registry.reset()
    saved_entry_points = registry.ENTRY_POINT_GROUP
    registry.ENTRY_POINT_GROUP = (
        "haetae.detectors.none-in-tests"  # installed plug-ins stay out of these tests
    )
    try:
        yield registry.detectors()
    finally:
        registry.ENTRY_POINT_GROUP = saved_entry_points
        registry.reset()


@pytest.fixture
def team() -> dict[str, Any]:
    """A case with one member of each role, and an outsider."""
    case = CaseFactory()
    members = {role: CaseMemberFactory(case=case, role=role).user for role in CaseMemberRole.values}
    return {"case": case, "outsider": UserFactory(), **members}


def ingest_files(case: Any, actor: Any, tmp_path: Path, files: dict[str, bytes]) -> Any:
    folder = tmp_path / "seized"
    folder.mkdir(exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return evidence_ingest(case=case, sources=[PathSource(folder)], actor=actor)
