"""manage.py face_clusters CASE --actor USERNAME [--name PSEUDONYM --faces ID,ID…] [--json]"""

from typing import Any

from django.core.management import CommandError

from access.policy import Action
from access.selectors import case_for_command
from haetae.cli import HaetaeCommand
from haetae.errors import RejectedInput
from parties.faceclusters import face_cluster_name, face_clusters
from parties.selectors import person_get


class Command(HaetaeCommand):
    """List the case's unknown faces in groups (each face within the match distance of every other), or with
    --name and --faces name a group: a suggested 'item depicts' link per item, each to confirm."""

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("case", help="case number, e.g. 2024-SEOUL-0001")
        parser.add_argument("--name", metavar="PSEUDONYM", help="name the faces as this person, e.g. S-2")
        parser.add_argument("--faces", metavar="ID,ID…", help="the face finding ids of the group to name")
        self.add_actor_and_json(
            parser, actor_help="username of a lead, investigator or analyst", required=True
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = self.get_actor(options["actor"])
        case = case_for_command(
            user=actor, number=options["case"], action=Action.FACE_CLUSTERS, doing="see the case's faces"
        )
        if options["name"] or options["faces"]:
            if not (options["name"] and options["faces"]):
                raise CommandError(
                    "give both --name PSEUDONYM and --faces ID,ID… to name a group", returncode=2
                )
            try:
                ids = [int(part) for part in options["faces"].split(",") if part.strip()]
            except ValueError:
                raise RejectedInput(
                    "--faces takes face finding ids separated by commas, e.g. 41,57,90"
                ) from None
            person = person_get(case=case, pseudonym=options["name"])
            links = face_cluster_name(case=case, person=person, annotation_ids=ids, actor=actor)
            payload = {
                "person": person.pseudonym,
                "links": [{"link": link.pk, "item": link.item_id} for link in links],
            }
            if options["json"]:
                self.emit_json(payload)
            else:
                self.stdout.write(
                    f"suggested {len(links)} item(s) as depicting {person.pseudonym}, for an investigator to "
                    "confirm or reject"
                )
            return
        result = face_clusters(case=case)
        if options["json"]:
            self.emit_json(result.as_dict())
            return
        self.stdout.write(
            f"{len(result.clusters)} group(s) of unknown faces in case {result.case} (each face within "
            f"{result.max_distance} of every other); {result.unclustered} face(s) like no other"
        )
        for cluster in result.clusters:
            faces = ",".join(str(face["annotation"]) for face in cluster.faces)
            self.stdout.write(
                f"  {cluster.id}: {cluster.size} faces in items {', '.join(map(str, cluster.items))} "
                f"(diameter {cluster.diameter:.3f}); name it with --name S-n --faces {faces}"
            )
