"""manage.py search CASE QUERY --actor USERNAME [--limit N] [--offset N] [--json]"""

import html
import re
from typing import Any

from access.policy import Action
from access.selectors import case_for_command
from haetae.cli import HaetaeCommand
from search.services import case_search


class Command(HaetaeCommand):
    """Search the text of a case's evidence (file names, OCR, metadata, documents, prompts, messages) as
    USERNAME would through the API; the search is recorded in the case's custody ledger."""

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("case", help="case number, e.g. 2024-SEOUL-0001")
        parser.add_argument("query", help="words to find, e.g. '피해자 텔레그램'")
        parser.add_argument("--limit", type=int, default=20, help="hits to print (default 20)")
        parser.add_argument("--offset", type=int, default=0, help="hits to skip")
        self.add_actor_and_json(parser, actor_help="username of the team member searching", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        actor = self.get_actor(options["actor"])
        case = case_for_command(
            user=actor, number=options["case"], action=Action.CASE_SEARCH, doing="search its evidence text"
        )
        page = case_search(
            case=case,
            user=actor,
            query=options["query"],
            limit=max(1, min(options["limit"], 1000)),
            offset=max(0, options["offset"]),
        )
        if options["json"]:
            self.emit_json({"count": page.count, "results": page.results})
            return
        self.stdout.write(f"{page.count} hit(s) in case {case.number}")
        for hit in page.results:
            text = re.sub(r"</?mark>", "*", hit["snippet"])
            self.stdout.write(
                f"item {hit['item']}  {hit['field']:<9} {hit['score']:.3f}  {html.unescape(text)}"
            )
