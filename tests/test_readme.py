"""README's command-line tour runs after the portal tour's `manage.py demo`: it never hard-codes an id."""

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"

# An id written into a URL, a JSON body or an option, where the tour must use the one a command printed.
HARD_CODED_ID = re.compile(
    r"/(?:acquisitions|annotations|evidence|channels|support-files|takedowns|jobs)/\d+/"
    r"|\"(?:item|channel|source_item|support_file)\": \d+"
    r"|\"items\": \[\d"
    r"|--items \d"
)


def cli_tour(text: str) -> str:
    """The shell block of the section "A tour (CLI and API)"."""
    section = text.split("## A tour (CLI and API)", 1)[1]
    return section.split("```sh\n", 1)[1].split("```", 1)[0]


def test_the_cli_tour_takes_every_id_from_a_command_output() -> None:
    tour = cli_tour(README.read_text(encoding="utf-8"))
    commands = [line for line in tour.splitlines() if not line.lstrip().startswith("#")]
    hard_coded = [line for line in commands if HARD_CODED_ID.search(line.split(" # ")[0])]
    assert not hard_coded, f"the tour breaks after `manage.py demo`: take these ids from --json: {hard_coded}"


def test_the_finder_sees_a_hard_coded_id() -> None:
    for line in (
        'curl -H "$T" $A/evidence/1/preview/',
        """curl $C/links/item-person/ -d '{"item": 1, "person": "V-1"}'""",
        "$M create_exhibit 2024-SEOUL-0001 --items 1 --actor kim",
    ):
        assert HARD_CODED_ID.search(line), line
    assert not HARD_CODED_ID.search('curl -H "$T" $A/evidence/$FAKE/preview/')
