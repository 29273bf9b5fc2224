"""Measured error rates: Wilson intervals, labelled sets (folder, CSV), watermark and pack validations."""

import hashlib
import json
from decimal import Decimal
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from detection.models import DetectorValidation
from detection.packs import pack_import
from detection.validation import validation_latest, wilson_interval
from tests.commands import command_run
from tests.detection import reference_watermarks
from tests.detection.provenance_media import encode, photo
from tests.factories import UserFactory, write_pack

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_registry")]


@pytest.fixture
def admin():
    return UserFactory(username="operator", is_superuser=True, is_staff=True)


run_validate = partial(command_run, "validate_detector")


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _set_sha256(root: Path) -> str:
    lines = sorted(
        (
            p.relative_to(root).as_posix(),
            hashlib.sha256(p.read_bytes()).hexdigest(),
            p.relative_to(root).parts[0],
        )
        for p in root.rglob("*")
        if p.is_file()
    )
    return hashlib.sha256("".join(f"{a}\t{b}\t{c}\n" for a, b, c in lines).encode()).hexdigest()


# --- Wilson score interval ---


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        (0, 10, 0.0, 0.2775),
        (5, 10, 0.2366, 0.7634),
        (10, 10, 0.7225, 1.0),
        (1, 1, 0.2065, 1.0),
        (81, 263, 0.2553, 0.3662),
    ],
)
def test_wilson_interval_matches_published_values(successes, trials, low, high):
    found = wilson_interval(successes, trials)
    assert found == pytest.approx((low, high), abs=5e-5)


@pytest.mark.parametrize(("successes", "trials"), [(0, 0), (-1, 5), (6, 5)])
def test_wilson_interval_refuses_impossible_counts(successes, trials):
    with pytest.raises(ValueError):
        wilson_interval(successes, trials)


# --- watermark detector on a generated set ---


def _watermark_set(root: Path) -> None:
    """Two photos marked by the real encoder as SDXL calls it, one unmarked photo mislabelled positive (a
    miss), and two unmarked photos as negatives."""
    _write(root / "positive" / "astronaut.png", encode(reference_watermarks.sdxl(photo("astronaut")), "PNG"))
    _write(root / "positive" / "coffee.png", encode(reference_watermarks.sdxl(photo("coffee")), "PNG"))
    _write(root / "positive" / "rocket.png", encode(photo("rocket"), "PNG"))
    _write(root / "negative" / "chelsea.png", encode(photo("chelsea"), "PNG"))
    _write(root / "negative" / "sub" / "camera.png", encode(photo("camera"), "PNG"))


def test_watermark_detector_validated_on_a_labelled_folder(tmp_path, admin):
    root = tmp_path / "set"
    _watermark_set(root)
    code, out, err = run_validate(
        "generator-watermark", "--labelled", str(root), "--actor", "operator", "--json"
    )
    assert code == 0, err
    payload = json.loads(out)
    assert payload["counts"] == {"tp": 2, "fn": 1, "tn": 2, "fp": 0}
    assert payload["size"] == {"positive": 3, "negative": 2}
    assert payload["set_sha256"] == _set_sha256(root)
    assert payload["threshold"] == "any finding"
    assert payload["tpr"] == {"value": "0.6667", "ci95": ["0.2077", "0.9385"]}
    assert payload["fpr"] == {"value": "0.0000", "ci95": ["0.0000", "0.6576"]}
    assert payload["ran_by"] == "operator"
    row = DetectorValidation.objects.get()
    assert (row.detector_name, row.detector_version) == ("generator-watermark", "2")
    assert row.detector.name == "generator-watermark" and row.ran_by == admin
    assert row.tpr == Decimal("0.6667") and row.fpr_high == Decimal("0.6576")
    assert payload["statement"].startswith(
        f"validated on 5 images (3 positive, 2 negative; set SHA-256 {row.set_sha256})"
    )


def test_the_same_files_relabelled_give_another_set_hash(tmp_path, admin):
    root = tmp_path / "set"
    _watermark_set(root)
    assert run_validate("generator-watermark", "--labelled", str(root), "--actor", "operator")[0] == 0
    (root / "positive" / "rocket.png").rename(root / "negative" / "rocket.png")
    code, out, _ = run_validate("generator-watermark", "--labelled", str(root), "--actor", "operator")
    assert code == 0 and "TPR 1.0000" in out
    first, second = DetectorValidation.objects.order_by("pk")
    assert first.set_sha256 != second.set_sha256
    # Both are kept; the newest is the one a report cites.
    assert validation_latest(name="generator-watermark", version="2") == second


# --- model pack (the tiny brightness ONNX model) through a CSV ---


def _brightness_csv(tmp_path: Path) -> Path:
    rows = []
    for name, value, label in [
        ("bright1.png", 230, "positive"),
        ("bright2.png", 250, "positive"),
        ("dim.png", 40, "positive"),  # scores under 0.5: a miss
        ("dark1.png", 10, "negative"),
        ("dark2.png", 20, "negative"),
        ("glare.png", 240, "negative"),  # scores over 0.5: a false alarm
    ]:
        _write(tmp_path / "images" / name, encode(np.full((32, 32, 3), value, dtype=np.uint8), "PNG"))
        rows.append(f"images/{name},{label}")
    csv_file = tmp_path / "set.csv"
    csv_file.write_text("path,label\n" + "\n".join(rows) + "\n")
    return csv_file


def test_a_model_pack_is_validated_before_it_is_enabled(tmp_path, admin):
    path, manifest = write_pack(tmp_path / "pack")
    pack = pack_import(path=path, actor=None).pack
    assert not pack.enabled
    csv_file = _brightness_csv(tmp_path)
    code, out, err = run_validate(
        "--pack", "brightness-test", "--csv", str(csv_file), "--actor", "operator", "--json"
    )
    assert code == 0, err
    payload = json.loads(out)
    assert (payload["detector"], payload["version"], payload["model_sha256"]) == (
        "pack:brightness-test",
        "1.0.0",
        manifest["sha256"],
    )
    assert payload["threshold"] == "score >= 0.5"
    assert payload["counts"] == {"tp": 2, "fn": 1, "tn": 2, "fp": 1}

    # A stricter threshold is recorded as such and changes the counts.
    code, out, err = run_validate(
        "--pack",
        "brightness-test",
        "--csv",
        str(csv_file),
        "--actor",
        "operator",
        "--threshold",
        "0.999",
        "--json",
    )
    assert code == 0, err
    payload = json.loads(out)
    assert payload["threshold"] == "score >= 0.999"
    assert payload["counts"] == {"tp": 0, "fn": 3, "tn": 3, "fp": 0}
    assert DetectorValidation.objects.count() == 2


# --- bad input ---


def test_an_empty_set_is_refused(tmp_path, admin):
    (tmp_path / "set" / "positive").mkdir(parents=True)
    code, _, err = run_validate(
        "generator-watermark", "--labelled", str(tmp_path / "set"), "--actor", "operator"
    )
    assert code == 1 and "labelled set is empty" in err
    assert not DetectorValidation.objects.exists()


def test_an_unknown_label_is_refused_by_name(tmp_path, admin):
    _write(tmp_path / "set" / "positive" / "a.png", encode(photo("camera"), "PNG"))
    _write(tmp_path / "set" / "maybe" / "b.png", encode(photo("camera"), "PNG"))
    code, _, err = run_validate(
        "generator-watermark", "--labelled", str(tmp_path / "set"), "--actor", "operator"
    )
    assert code == 1 and "unknown label 'maybe'" in err

    csv_file = tmp_path / "set.csv"
    csv_file.write_text("set/positive/a.png,positive\nset/maybe/b.png,likely\n")
    code, _, err = run_validate("generator-watermark", "--csv", str(csv_file), "--actor", "operator")
    assert code == 1 and "line 2: unknown label 'likely'" in err
    assert not DetectorValidation.objects.exists()


def test_a_set_without_negatives_is_refused(tmp_path, admin):
    _write(tmp_path / "set" / "positive" / "a.png", encode(photo("camera"), "PNG"))
    code, _, err = run_validate(
        "generator-watermark", "--labelled", str(tmp_path / "set"), "--actor", "operator"
    )
    assert code == 1 and "no negative files" in err


def test_unreadable_and_undecodable_files_are_named(tmp_path, admin):
    _write(tmp_path / "a.png", encode(photo("camera"), "PNG"))
    _write(tmp_path / "b.png", encode(photo("coffee"), "PNG"))
    csv_file = tmp_path / "set.csv"
    csv_file.write_text("a.png,positive\nb.png,negative\nmissing.png,negative\n")
    code, _, err = run_validate("generator-watermark", "--csv", str(csv_file), "--actor", "operator")
    assert code == 1 and "cannot read missing.png" in err

    _write(tmp_path / "c.png", b"these bytes are not an image")
    csv_file.write_text("a.png,positive\nb.png,negative\nc.png,negative\n")
    code, _, err = run_validate("generator-watermark", "--csv", str(csv_file), "--actor", "operator")
    assert code == 1 and "c.png: generator-watermark cannot analyse it" in err
    assert not DetectorValidation.objects.exists()


def test_a_csv_line_with_the_wrong_columns_is_refused(tmp_path, admin):
    csv_file = tmp_path / "set.csv"
    csv_file.write_text("a.png,positive,extra\n")
    code, _, err = run_validate("generator-watermark", "--csv", str(csv_file), "--actor", "operator")
    assert code == 1 and "line 1: expected two columns" in err


def test_only_an_administrator_records_a_validation(tmp_path):
    UserFactory(username="analyst")
    _watermark_set(tmp_path / "set")
    code, _, err = run_validate(
        "generator-watermark", "--labelled", str(tmp_path / "set"), "--actor", "analyst"
    )
    assert code == 1 and "not an administrator" in err
    assert not DetectorValidation.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("generator-watermark", "--labelled", "x"), "--actor is required"),
        (("generator-watermark", "--actor", "operator"), "give the labelled set"),
        (("--labelled", "x", "--actor", "operator"), "name the detector"),
        (("generator-watermark", "--pack", "p", "--labelled", "x", "--actor", "operator"), "not both"),
        (("no-such-detector", "--labelled", "x", "--actor", "operator"), "no detector named"),
    ],
)
def test_usage_errors_say_what_to_give(args, message, admin):
    code, _, err = run_validate(*args)
    assert code in (1, 2) and message in err


def test_validations_are_listed_read_only_in_the_admin(tmp_path, admin, client):
    from tests.factories import verified_login

    _watermark_set(tmp_path / "set")
    assert (
        run_validate("generator-watermark", "--labelled", str(tmp_path / "set"), "--actor", "operator")[0]
        == 0
    )
    row = DetectorValidation.objects.get()
    verified_login(client, admin)
    listing = client.get("/admin/detection/detectorvalidation/")
    assert listing.status_code == 200 and row.set_sha256 in listing.content.decode()
    assert client.get("/admin/detection/detectorvalidation/add/").status_code == 403
    assert (
        client.post(f"/admin/detection/detectorvalidation/{row.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert DetectorValidation.objects.filter(pk=row.pk).exists()
