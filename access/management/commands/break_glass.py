"""manage.py break_glass open NUMBER --actor ADMIN --reason TEXT --minutes N | end GRANT --actor USERNAME |
list --actor USERNAME  [--json]"""

from typing import Any

from django.core.management.base import CommandParser

from access.breakglass import break_glass_end, break_glass_open
from access.models import BreakGlassGrant
from access.selectors import break_glass_grants_for
from haetae.cli import HaetaeCommand
from haetae.toolkit import utc_iso


def grant_json(grant: BreakGlassGrant) -> dict[str, Any]:
    return {
        "id": grant.pk,
        "case": grant.case.number,
        "user": grant.user.get_username(),
        "reason": grant.reason,
        "granted_at": utc_iso(grant.granted_at),
        "expires_at": utc_iso(grant.expires_at),
        "ended_at": utc_iso(grant.ended_at) if grant.ended_at else None,
        "is_live": grant.is_live,
    }


class Command(HaetaeCommand):
    """Administrators' break-glass access: open a time-limited, reasoned, logged read-only grant on a case
    they are not on; end one (its holder or the case lead); list those the actor may see."""

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{open,end,list}")
        opening = actions.add_parser("open", help="open a grant on a case")
        opening.add_argument("number", help="case number")
        opening.add_argument("--actor", required=True, help="the administrator's username")
        opening.add_argument("--reason", required=True, help="why (recorded on the case's custody chain)")
        opening.add_argument("--minutes", type=int, required=True, help="how long the grant lasts")
        ending = actions.add_parser("end", help="end a live grant early")
        ending.add_argument("grant", type=int, help="grant id")
        ending.add_argument("--actor", required=True, help="the holder's or the case lead's username")
        listing = actions.add_parser("list", help="grants the actor holds or that are on cases they lead")
        listing.add_argument("--actor", required=True)
        for sub in (opening, ending, listing):
            sub.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        actor = self.get_actor(options["actor"])
        if options["action"] == "open":
            grant = break_glass_open(
                case_number=options["number"],
                actor=actor,
                reason=options["reason"],
                minutes=options["minutes"],
            )
            self._print([grant], options["json"], single=True)
        elif options["action"] == "end":
            self._print(
                [break_glass_end(grant_id=options["grant"], actor=actor)], options["json"], single=True
            )
        else:
            self._print(list(break_glass_grants_for(user=actor).order_by("-granted_at")), options["json"])

    def _print(self, grants: list[BreakGlassGrant], as_json: bool, single: bool = False) -> None:
        if as_json:
            rows = [grant_json(g) for g in grants]
            self.emit_json(rows[0] if single else rows)
            return
        for grant in grants:
            state = "live" if grant.is_live else "ended" if grant.ended_at else "expired"
            self.stdout.write(
                f"grant {grant.pk}: {grant.user.get_username()} on case {grant.case.number}, {state}, "
                f"until {utc_iso(grant.ended_at or grant.expires_at)}: {grant.reason}"
            )
