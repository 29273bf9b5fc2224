"""manage.py face_search CASE PSEUDONYM --actor USERNAME [--json]"""

from typing import Any

from access.policy import Action
from access.selectors import case_for_command
from haetae.cli import HaetaeCommand
from parties.facesearch import face_search
from parties.selectors import person_get


class Command(HaetaeCommand):
    """Search every case for a victim's face with their consented reference photos (the case lead only).
    Prints suggestions, never links: items of cases you may see, and for cases you are not on only whom to
    ask. The search is logged on the victim's case. Exit 1 with a message if refused."""

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("case", help="the victim's case number, e.g. 2024-SEOUL-0001")
        parser.add_argument("pseudonym", help="the victim's pseudonym in that case, e.g. V-1")
        self.add_actor_and_json(parser, actor_help="username of the case lead", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        actor = self.get_actor(options["actor"])
        case = case_for_command(
            user=actor, number=options["case"], action=Action.FACE_SEARCH, doing="search for a victim's face"
        )
        person = person_get(case=case, pseudonym=options["pseudonym"])
        result = face_search(person=person, actor=actor)
        if options["json"]:
            self.emit_json(result.as_dict())
            return
        self.stdout.write(
            f"{len(result.hits)} hit(s) for {result.person} of case {result.case} within distance "
            f"{result.max_distance} (reference photos {', '.join(map(str, result.reference_photos))}); "
            "suggestions for an investigator to confirm or reject:"
        )
        for hit in result.hits:
            if hit.visible:
                where = hit.item["case_number"]
                self.stdout.write(
                    f"  {hit.distance:.3f}  case {where}  item {hit.item['item_id']}  {hit.suggestion}"
                )
            else:
                ask = "; ".join(
                    f"{c['name']} ({c['unit']})" if c["unit"] else c["name"] for c in hit.item["contacts"]
                )
                self.stdout.write(f"  {hit.distance:.3f}  a case you are not on: ask {ask}")
