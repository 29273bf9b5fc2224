"""What parties needs from the victim-support app above it, provided by that app at start-up.

A victim's identity and reference photos are for the case lead and the victim's assigned support worker.
Who is assigned lives in ``support`` (a support file per victim), which stands on parties (its files point
at people); so support provides the lookup in its ``AppConfig.ready()`` and parties never imports it.
Without it registered nobody is an assigned worker (fail closed: only the lead reads).
"""

from collections.abc import Callable

AssignedWorker = Callable[[int], int | None]


class _Provided:
    assigned_worker: AssignedWorker | None = None


def provide_assigned_worker(lookup: AssignedWorker) -> None:
    """Register ``lookup(person_id) -> user id or None``: the support worker assigned to a victim."""
    _Provided.assigned_worker = lookup


def assigned_worker_id(person_id: int) -> int | None:
    """The user id of the support worker assigned to the person's support file, if any."""
    if _Provided.assigned_worker is None:
        return None
    return _Provided.assigned_worker(person_id)
