"""Support files."""

from typing import Any

from parties.models import Person
from parties.services.people import person_record
from support.models import SupportFile, TakedownRequest
from support.services import support_file_open, takedown_create


def assign_worker(person: Person, worker: Any) -> SupportFile:
    return SupportFile.objects.create(person=person, assigned_worker=worker)


def victim_takedown(t: Any, *, target_url: str) -> TakedownRequest:
    """A victim on the team's case, their support file and a draft takedown of a Telegram ``target_url`` to
    KCSC, by the team's support worker (``full_team``)."""
    victim = person_record(case=t.case, kind="victim", actor=t.lead)
    support_file = support_file_open(case=t.case, person=victim, actor=t.support)
    return takedown_create(
        case=t.case,
        support_file=support_file,
        actor=t.support,
        addressee="kcsc",
        platform="telegram",
        target_url=target_url,
    )
