"""manage.py validate_detector NAME (--labelled DIR | --csv FILE) --actor USERNAME [--threshold T] [--json]"""

from pathlib import Path
from typing import Any

from detection.packs import PackDetector, pack_get
from detection.registry import Detector, detector_get
from detection.validation import (
    NEGATIVE,
    POSITIVE,
    detector_validate,
    labelled_set_read,
    validation_describe,
    validation_require_admin,
    validation_statement,
)
from haetae.cli import HaetaeCommand
from haetae.errors import UsageError


class Command(HaetaeCommand):
    """Measure a detector's error rates on a labelled local set (a folder holding positive/ and negative/, or
    a CSV of path,label lines) and record them: true- and false-positive rates at its threshold with 95 %
    Wilson intervals, the set's size and SHA-256, who ran it and when. Reports then cite the newest
    validation of the detector version. NAME is a registered detector (e.g. generator-watermark,
    pack:<name>); --pack validates an imported model pack, enabled or not. Exit 0 on success, 1 when the
    set or the detector is refused, 2 for a usage error."""

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "name", metavar="NAME", nargs="?", help="detector name (see GET /api/v1/detectors/)"
        )
        parser.add_argument("--pack", metavar="PACK", help="an imported model pack by name (instead of NAME)")
        parser.add_argument("--pack-version", metavar="VERSION", help="with --pack: this version")
        source = parser.add_mutually_exclusive_group()
        source.add_argument(
            "--labelled", metavar="DIR", help="folder with positive/ and negative/ sub-folders"
        )
        source.add_argument("--csv", metavar="FILE", help="CSV of path,label lines (paths relative to it)")
        parser.add_argument(
            "--threshold",
            metavar="SCORE",
            help="count findings scoring at least this (default: the detector's)",
        )
        parser.add_argument(
            "--finding-label", metavar="LABEL", default="", help="count only this finding label"
        )
        self.add_actor_and_json(
            parser,
            actor_help="the administrator recorded as running it",
            json_help="print the validation as JSON",
        )

    def _detector(self, options: dict[str, Any]) -> Detector:
        if options["pack"]:
            if options["name"]:
                raise UsageError("give a detector NAME or --pack, not both")
            return PackDetector.for_pack(pack_get(name=options["pack"], version=options["pack_version"]))
        if options["pack_version"]:
            raise UsageError("--pack-version needs --pack")
        if not options["name"]:
            raise UsageError("name the detector to validate (NAME) or the model pack (--pack)")
        return detector_get(options["name"])

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["actor"]:
            raise UsageError("--actor is required: the administrator who runs the validation is recorded")
        if not (options["labelled"] or options["csv"]):
            raise UsageError("give the labelled set: --labelled DIR (positive/, negative/) or --csv FILE")
        actor = self.get_actor(options["actor"])
        validation_require_admin(actor)  # before the labelled set is read
        detector = self._detector(options)
        directory = Path(options["labelled"]) if options["labelled"] else None
        csv_file = Path(options["csv"]) if options["csv"] else None
        files = labelled_set_read(directory=directory, csv_file=csv_file)
        validation = detector_validate(
            detector=detector,
            files=files,
            source=str((directory or csv_file or Path()).resolve()),
            actor=actor,
            threshold=options["threshold"],
            finding_label=options["finding_label"],
        )
        if options["json"]:
            self.emit_json(validation_describe(validation))
            return
        v = validation
        self.stdout.write(f"{v.detector_name} {v.detector_version}: validation {v.pk} recorded")
        self.stdout.write(
            f"  {POSITIVE}: {v.positives} (TP {v.true_positives}, FN {v.false_negatives}); "
            f"{NEGATIVE}: {v.negatives} (TN {v.true_negatives}, FP {v.false_positives})"
        )
        self.stdout.write(f"  {validation_statement(v)}")
