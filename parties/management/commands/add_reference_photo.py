"""manage.py add_reference_photo CASE PSEUDONYM FILE --consent REF --actor USERNAME [--json]"""

from pathlib import Path
from typing import Any

from access.services import case_get
from haetae.cli import HaetaeCommand
from haetae.errors import RejectedInput
from parties.faces import reference_photo_add
from parties.models import Person


class Command(HaetaeCommand):
    """Add a victim's consented reference photo (case lead or the victim's support worker only) and suggest
    the items in the case that show the same face. Exit 1 with a message if it is refused."""

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("case", help="case number, e.g. 2024-SEOUL-0001")
        parser.add_argument("pseudonym", help="the victim's pseudonym in the case, e.g. V-1")
        parser.add_argument("file", type=Path, help="the photo: exactly one frontal face")
        parser.add_argument(
            "--consent", required=True, help="where the consent is recorded, e.g. a form number"
        )
        self.add_actor_and_json(
            parser, actor_help="username of the case lead or support worker", required=True
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = self.get_actor(options["actor"])
        case = case_get(number=options["case"])
        person = Person.objects.filter(case=case, pseudonym=options["pseudonym"]).first()
        if person is None:
            raise RejectedInput(
                f"case {case.number} has no person {options['pseudonym']!r}: check the pseudonym"
            )
        path: Path = options["file"]
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise RejectedInput(f"cannot read {path}: {exc.strerror}") from None
        photo, links = reference_photo_add(
            person=person, data=data, consent_reference=options["consent"], actor=actor
        )
        if options["json"]:
            self.emit_json(
                {
                    "reference_photo": photo.pk,
                    "person": person.pseudonym,
                    "sha256": photo.blob_id,
                    "suggested_links": [{"link": link.pk, "item": link.item_id} for link in links],
                }
            )
        else:
            self.stdout.write(
                f"added reference photo {photo.pk} for {person.pseudonym}; "
                f"{len(links)} item(s) suggested as depicting them, for an investigator to confirm or reject"
            )
