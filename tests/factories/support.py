"""Support files."""

from typing import Any

from parties.models import Person
from support.models import SupportFile


def assign_worker(person: Person, worker: Any) -> SupportFile:
    return SupportFile.objects.create(person=person, assigned_worker=worker)
