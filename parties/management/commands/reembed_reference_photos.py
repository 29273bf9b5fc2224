"""manage.py reembed_reference_photos [--actor USERNAME] [--json]"""

from typing import Any

from haetae.cli import HaetaeCommand
from haetae.errors import AccessDenied
from parties.faces import reference_photos_reembed


class Command(HaetaeCommand):
    """After an upgrade of the face detector: embed every active victim reference photo again with the
    installed model, so that it matches faces that model finds, and suggest the links it now finds. Old
    findings and links stay. Run it before or after `rescan --detector faces`; exit 1 if a photo's face is
    no longer found (named, for its case lead to replace)."""

    def add_arguments(self, parser: Any) -> None:
        self.add_actor_and_json(
            parser, actor_help="an administrator, recorded on the custody events. Without it, the system's."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = self.actor_of(options)
        if actor is not None and not actor.is_superuser:
            raise AccessDenied(
                f"{actor.get_username()} is not an administrator: re-embedding every case's reference "
                "photos is an administrator's upgrade step"
            )
        outcomes = reference_photos_reembed(actor=actor)
        failed = [outcome for outcome in outcomes if not outcome.done]
        if options["json"]:
            self.emit_json(
                {
                    "reembedded": sum(1 for outcome in outcomes if outcome.done),
                    "failed": len(failed),
                    "photos": [vars(outcome) for outcome in outcomes],
                }
            )
        else:
            if not outcomes:
                self.stdout.write("every active reference photo is already embedded by the installed model")
            for outcome in outcomes:
                state = "re-embedded" if outcome.done else "NOT re-embedded"
                links = f", {outcome.suggested_links} link(s) suggested" if outcome.done else ""
                self.stdout.write(
                    f"case {outcome.case} {outcome.person} reference photo {outcome.photo}: {state}: "
                    f"{outcome.note}{links}"
                )
        if failed:
            raise SystemExit(1)
