"""The suite's own guard: missing PDQ test data skips on a laptop and fails under CI."""

from pathlib import Path

import pytest

from tests.conftest import is_ci, require_testdata


def test_present_testdata_is_returned(tmp_path: Path) -> None:
    assert require_testdata(tmp_path, under_ci=True) == tmp_path


def test_missing_testdata_skips_outside_ci(tmp_path: Path) -> None:
    with pytest.raises(pytest.skip.Exception, match="not found"):
        require_testdata(tmp_path / "absent", under_ci=False)


def test_missing_testdata_fails_under_ci(tmp_path: Path) -> None:
    with pytest.raises(pytest.fail.Exception, match="under CI these tests must run"):
        require_testdata(tmp_path / "absent", under_ci=True)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"CI": "true"}, True),
        ({"CI": "1"}, True),
        ({"HAETAE_REQUIRE_SERVICES": "true"}, True),
        ({"CI": "false"}, False),
        ({}, False),
    ],
)
def test_ci_is_read_from_the_environment(environ: dict[str, str], expected: bool) -> None:
    assert is_ci(environ) is expected
