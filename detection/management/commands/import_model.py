"""manage.py import_model PATH [--enable] [--rescan-case NUMBER | --rescan-all] [--json] [--actor USERNAME]"""

from pathlib import Path
from typing import Any

from detection.management.pack_options import add_rescan_scope, jobs_json, rescan_case
from detection.packs import pack_describe, pack_import
from haetae.cli import HaetaeCommand
from haetae.errors import UsageError


class Command(HaetaeCommand):
    """Import an ONNX model pack (a directory or .zip holding model.onnx and manifest.json): check the
    manifest, the model's SHA-256 and that onnxruntime runs it, then keep it read-only in the data
    directory. --enable makes it the detector pack:<name> (replacing its other versions) and offers a
    re-scan; --rescan-case/--rescan-all queue one. Exit 0 on success, 1 when refused."""

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("path", metavar="PATH", help="pack directory or .zip")
        parser.add_argument("--enable", action="store_true", help="enable the pack after importing it")
        add_rescan_scope(parser, enabled_by="--enable")
        self.add_actor_and_json(
            parser,
            actor_help="operator recorded as importing the pack",
            json_help='print {"pack", "created", "enabled", ...}',
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = self.actor_of(options)
        rescan = options["rescan_case"] or options["rescan_all"]
        if rescan and not options["enable"]:
            raise UsageError("--rescan-case and --rescan-all need --enable: only an enabled pack can re-scan")
        case = rescan_case(options)
        result = pack_import(path=Path(options["path"]), actor=actor)
        enabled = None
        if options["enable"]:
            from detection.packs import pack_enable

            enabled = pack_enable(
                pack=result.pack, actor=actor, rescan_case=case, rescan_all=bool(options["rescan_all"])
            )
        payload: dict[str, Any] = {
            "pack": pack_describe(result.pack),
            "created": result.created,
            "restored": result.restored,
            "enabled": result.pack.enabled,
            "replaced_version": enabled.replaced.version if enabled and enabled.replaced else None,
            "rescan_offer": enabled.offer if enabled else None,
            "jobs": jobs_json(enabled.jobs) if enabled else [],
        }
        if options["json"]:
            self.emit_json(payload)
            return
        pack = payload["pack"]
        verb = "imported" if result.created else "already imported:"
        self.stdout.write(
            f"{verb} pack {pack['name']} {pack['version']} (model SHA-256 {pack['sha256']}, "
            f"granularity {pack['granularity']}, licence {pack['licence']})"
        )
        if result.restored:
            self.stdout.write(
                "  the stored model file was missing or altered: replaced by this verified copy"
            )
        self.stdout.write(f"  validation: {pack['validation']}")
        if enabled is None:
            self.stdout.write(f"  not enabled: run again with --enable to use it as {pack['detectors'][0]}")
            return
        if enabled.replaced is not None:
            self.stdout.write(
                f"  enabled, replacing version {enabled.replaced.version} (its annotations stay)"
            )
        else:
            self.stdout.write(f"  enabled as {', '.join(pack['detectors'])}")
        for job in enabled.jobs:
            self.stdout.write(f"  re-scan job {job.pk} queued: {job.detector_name} over {job.total} item(s)")
        if not enabled.jobs:
            self.stdout.write(
                f"  re-scan offered: {enabled.offer['items_in_vault']} item(s) could be analysed; run "
                + " or ".join(enabled.offer["commands"])
            )
