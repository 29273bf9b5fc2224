"""manage.py model_packs [list | enable NAME [VERSION] | disable NAME] [--rescan-case N | --rescan-all]"""

from typing import Any

from detection.management.pack_options import add_rescan_scope, jobs_json, rescan_case
from detection.models import ModelPack
from detection.packs import pack_describe, pack_disable, pack_enable, pack_get
from haetae.cli import HaetaeCommand
from haetae.errors import UsageError


class Command(HaetaeCommand):
    """List imported model packs, enable one version (replacing its other versions; offers or queues a
    re-scan) or disable a pack (its annotations stay). Import packs with import_model."""

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", nargs="?", default="list", choices=["list", "enable", "disable"])
        parser.add_argument("name", nargs="?", help="pack name (enable, disable)")
        parser.add_argument("version", nargs="?", help="pack version (enable; default: the latest imported)")
        add_rescan_scope(parser, enabled_by="enable")
        self.add_actor_and_json(
            parser, actor_help="operator recorded as enabling or disabling", json_help="print JSON"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        actor = self.actor_of(options)
        if action == "list":
            packs = [pack_describe(p) for p in ModelPack.objects.order_by("name", "-imported_at")]
            if options["json"]:
                self.emit_json({"packs": packs})
                return
            for p in packs:
                state = "enabled " if p["enabled"] else "disabled"
                self.stdout.write(
                    f"{state} {p['name']} {p['version']}  {p['granularity']:<5}  {p['sha256'][:16]}…  "
                    f"{p['validation']}"
                )
            if not packs:
                self.stdout.write("no model packs imported: manage.py import_model PATH")
            return
        if not options["name"]:
            raise UsageError(f"model_packs {action} needs a pack NAME")
        if action == "disable":
            if options["rescan_case"] or options["rescan_all"]:
                raise UsageError("--rescan-case/--rescan-all go with enable")
            pack = pack_disable(pack=pack_get(name=options["name"], version=options["version"]), actor=actor)
            if options["json"]:
                self.emit_json({"pack": pack_describe(pack)})
            else:
                self.stdout.write(f"disabled {pack.name} {pack.version}; its annotations stay")
            return
        case = rescan_case(options)
        pack = pack_get(name=options["name"], version=options["version"])
        result = pack_enable(pack=pack, actor=actor, rescan_case=case, rescan_all=bool(options["rescan_all"]))
        if options["json"]:
            self.emit_json(
                {
                    "pack": pack_describe(result.pack),
                    "replaced_version": result.replaced.version if result.replaced else None,
                    "rescan_offer": result.offer,
                    "jobs": jobs_json(result.jobs),
                }
            )
            return
        replaced = f", replacing {result.replaced.version}" if result.replaced else ""
        self.stdout.write(
            f"enabled {pack.name} {pack.version}{replaced} as {', '.join(result.offer['detectors'])}"
        )
        for job in result.jobs:
            self.stdout.write(f"  re-scan job {job.pk} queued: {job.detector_name} over {job.total} item(s)")
        if not result.jobs:
            self.stdout.write("  re-scan offered: " + " or ".join(result.offer["commands"]))
