"""Measuring a detector's error rates on an operator's labelled local set (``manage.py validate_detector``).

A set is a folder with one sub-folder per label (``positive/``, ``negative/``) or a CSV of ``path,label``
lines. Each file is read, hashed and analysed in memory; nothing enters the vault and no case is touched, so
no custody event is written. The result is a ``DetectorValidation`` row: counts, true- and false-positive
rates with 95 % Wilson score intervals, and the set's SHA-256 (over the sorted lines "relative path, file
SHA-256, label"), so that anyone holding the same set can check the figures a report quotes.

A file counts as a positive call when the detector returns a finding that is not an absence statement
(category ``not_probative``), with the requested label if one was given, and, where there is a threshold,
with a score at or above it.
"""

import csv
import hashlib
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

from django.contrib.auth.models import User
from django.db import transaction
from PIL import Image

import haetae
from detection.labels import ABSENCE_CATEGORY
from detection.models import DetectorValidation
from detection.registry import Detector, Finding, ensure_loaded
from detection.services import detector_record
from detection.subject import DECODE_ERRORS, Subject, UndecodableMedia
from evidence.imaging import image_open
from haetae.errors import AccessDenied, RejectedInput

POSITIVE = "positive"
NEGATIVE = "negative"
LABELS = (POSITIVE, NEGATIVE)
Z_95 = 1.959963984540054  # two-sided 95 % normal quantile
PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class LabelledFile:
    relative_path: str  # as written in the set: the sub-folder path, or the CSV's path column
    path: Path
    label: str


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion (better than p ± z·se near 0 and 1, small n)."""
    if trials <= 0:
        raise ValueError("a proportion needs at least one trial")
    if not 0 <= successes <= trials:
        raise ValueError(f"successes must be between 0 and {trials}; got {successes}")
    p = successes / trials
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / (1 + z2 / trials)
    return max(0.0, centre - half), min(1.0, centre + half)


def _label(raw: str, where: str) -> str:
    label = raw.strip().lower()
    if label not in LABELS:
        raise RejectedInput(
            f"{where}: unknown label {raw.strip()!r}; a labelled set uses only 'positive' and 'negative'"
        )
    return label


def labelled_set_read(*, directory: Path | None = None, csv_file: Path | None = None) -> list[LabelledFile]:
    """The files of a labelled set, sorted by relative path; RejectedInput says what is wrong with it."""
    if (directory is None) == (csv_file is None):
        raise RejectedInput("give either a labelled folder or a CSV file of path,label lines, not both")
    files: list[LabelledFile] = []
    if directory is not None:
        if not directory.is_dir():
            raise RejectedInput(f"{directory} is not a folder: give a folder holding positive/ and negative/")
        for child in sorted(directory.iterdir()):
            if child.name.startswith("."):
                continue
            if not child.is_dir():
                raise RejectedInput(
                    f"{child}: a labelled folder holds only the sub-folders positive/ and negative/; "
                    "move this file into one of them"
                )
            label = _label(child.name, f"sub-folder {child}")
            for path in sorted(child.rglob("*")):
                if path.is_file() and not path.name.startswith("."):
                    files.append(LabelledFile(path.relative_to(directory).as_posix(), path, label))
    else:
        assert csv_file is not None
        try:
            text = csv_file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise RejectedInput(f"cannot read the CSV file {csv_file}: {exc}") from None
        base = csv_file.parent
        for number, row in enumerate(csv.reader(text.splitlines()), start=1):
            if not row or not "".join(row).strip():
                continue
            if len(row) != 2:
                raise RejectedInput(
                    f"{csv_file} line {number}: expected two columns, path and label; got {len(row)}"
                )
            raw_path, raw_label = row[0].strip(), row[1]
            if number == 1 and (raw_path.lower(), raw_label.strip().lower()) == ("path", "label"):
                continue  # a header line
            label = _label(raw_label, f"{csv_file} line {number}")
            path = Path(raw_path)
            files.append(LabelledFile(raw_path, path if path.is_absolute() else base / path, label))
        files.sort(key=lambda f: f.relative_path)
    if not files:
        raise RejectedInput(
            "the labelled set is empty: put files under positive/ and negative/ (or list them)"
        )
    present = {f.label for f in files}
    for label in LABELS:
        if label not in present:
            raise RejectedInput(
                f"the labelled set has no {label} files: both true- and false-positive rates need "
                "positive and negative examples"
            )
    return files


def _read(file: LabelledFile) -> bytes:
    try:
        return file.path.read_bytes()
    except OSError as exc:
        raise RejectedInput(
            f"cannot read {file.relative_path}: {exc.strerror or exc}; fix or remove it and run again"
        ) from None


def _mime(data: bytes) -> str:
    try:
        with image_open(data) as image:
            return Image.MIME.get(image.format or "", "application/octet-stream")
    except DECODE_ERRORS:
        return "application/octet-stream"


def _is_positive_call(findings: list[Finding], *, threshold: float | None, finding_label: str) -> bool:
    for finding in findings:
        if finding.category == ABSENCE_CATEGORY:
            continue
        if finding_label and finding.label != finding_label:
            continue
        if threshold is not None and (finding.score is None or finding.score < threshold):
            continue
        return True
    return False


def _threshold_of(detector: Detector, given: str | None) -> tuple[float | None, str]:
    raw = given if given is not None else str(detector.info.parameters.get("threshold", "") or "")
    if not raw:
        return None, "any finding"
    try:
        value = float(raw)
    except ValueError:
        raise RejectedInput(f"threshold {raw!r} is not a number: give a score such as 0.5") from None
    if not math.isfinite(value):
        raise RejectedInput(f"threshold {raw!r} is not a finite number: give a score such as 0.5")
    return value, f"score >= {raw}"


def _decimal(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(PLACES, rounding=ROUND_HALF_EVEN)


def validation_require_admin(actor: User) -> None:
    """AccessDenied unless ``actor`` is an administrator: only they record detector validations."""
    if not (actor.is_active and actor.is_superuser):
        raise AccessDenied(
            f"{actor.get_username()} is not an administrator: only an administrator records detector "
            "validations"
        )


def detector_validate(
    *,
    detector: Detector,
    files: list[LabelledFile],
    source: str,
    actor: User,
    threshold: str | None = None,
    finding_label: str = "",
) -> DetectorValidation:
    """Run ``detector`` over a labelled set and record its measured error rates (an administrator's act)."""
    validation_require_admin(actor)
    value, rule = _threshold_of(detector, threshold)
    ensure_loaded(detector)
    digest = hashlib.sha256()
    counts = {"tp": 0, "fn": 0, "tn": 0, "fp": 0}
    for file in files:
        data = _read(file)
        sha256 = hashlib.sha256(data).hexdigest()
        digest.update(f"{file.relative_path}\t{sha256}\t{file.label}\n".encode())
        try:
            findings = detector.analyze(Subject.from_bytes(data, mime=_mime(data), sha256=sha256))
        except UndecodableMedia as exc:
            raise RejectedInput(
                f"{file.relative_path}: {detector.info.name} cannot analyse it ({exc}); a labelled set holds "
                "only media the detector reads: remove or convert it and run again"
            ) from None
        called = _is_positive_call(findings, threshold=value, finding_label=finding_label)
        if file.label == POSITIVE:
            counts["tp" if called else "fn"] += 1
        else:
            counts["fp" if called else "tn"] += 1
    positives, negatives = counts["tp"] + counts["fn"], counts["tn"] + counts["fp"]
    tpr_low, tpr_high = wilson_interval(counts["tp"], positives)
    fpr_low, fpr_high = wilson_interval(counts["fp"], negatives)
    with transaction.atomic():
        row = detector_record(detector.info)
        return DetectorValidation.objects.create(
            detector=row,
            detector_name=detector.info.name,
            detector_version=detector.info.version,
            model_sha256=detector.info.model_sha256,
            threshold=rule,
            finding_label=finding_label,
            set_sha256=digest.hexdigest(),
            set_source=source[:500],
            positives=positives,
            negatives=negatives,
            true_positives=counts["tp"],
            false_negatives=counts["fn"],
            true_negatives=counts["tn"],
            false_positives=counts["fp"],
            tpr=_decimal(counts["tp"] / positives),
            tpr_low=_decimal(tpr_low),
            tpr_high=_decimal(tpr_high),
            fpr=_decimal(counts["fp"] / negatives),
            fpr_low=_decimal(fpr_low),
            fpr_high=_decimal(fpr_high),
            tool=f"haetae {haetae.__version__}",
            ran_by=actor,
        )


def validation_latest(*, name: str, version: str, model_sha256: str = "") -> DetectorValidation | None:
    """The newest validation of this detector version with this model (the one a report cites)."""
    return (
        DetectorValidation.objects.filter(
            detector_name=name, detector_version=version, model_sha256=model_sha256
        )
        .select_related("ran_by")
        .order_by("-ran_at", "-pk")
        .first()
    )


def validation_statement(validation: DetectorValidation) -> str:
    """One line a report quotes: set size, set SHA-256, date, TPR and FPR with their 95 % intervals."""
    size = validation.positives + validation.negatives
    label = f", findings labelled {validation.finding_label}" if validation.finding_label else ""
    return (
        f"validated on {size} images ({validation.positives} positive, {validation.negatives} negative; "
        f"set SHA-256 {validation.set_sha256}) on {validation.ran_at:%Y-%m-%d} at {validation.threshold}"
        f"{label}: TPR {validation.tpr} (95 % CI {validation.tpr_low}–{validation.tpr_high}), "
        f"FPR {validation.fpr} (95 % CI {validation.fpr_low}–{validation.fpr_high})"
    )


def validation_describe(validation: DetectorValidation) -> dict[str, object]:
    """The JSON form (command output, API)."""
    return {
        "id": validation.pk,
        "detector": validation.detector_name,
        "version": validation.detector_version,
        "model_sha256": validation.model_sha256,
        "threshold": validation.threshold,
        "finding_label": validation.finding_label,
        "set_sha256": validation.set_sha256,
        "set_source": validation.set_source,
        "size": {POSITIVE: validation.positives, NEGATIVE: validation.negatives},
        "counts": {
            "tp": validation.true_positives,
            "fn": validation.false_negatives,
            "tn": validation.true_negatives,
            "fp": validation.false_positives,
        },
        "tpr": {"value": str(validation.tpr), "ci95": [str(validation.tpr_low), str(validation.tpr_high)]},
        "fpr": {"value": str(validation.fpr), "ci95": [str(validation.fpr_low), str(validation.fpr_high)]},
        "interval": "Wilson score, 95 %",
        "tool": validation.tool,
        "ran_by": validation.ran_by.get_username(),
        "ran_at": validation.ran_at.isoformat(),
        "statement": validation_statement(validation),
    }
