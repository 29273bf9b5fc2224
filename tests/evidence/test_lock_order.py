"""Concurrent writers on one case: one lock order (ledger first), bounded retries, derivatives made once."""

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import OperationalError, connection, connections

from evidence.choices import CustodyAction
from evidence.models import CustodyEvent, Derivative
from evidence.previews import preview_serve
from evidence.verify import vault_verify
from haetae import db as haetae_db
from parties.choices import ChannelPlatform, PersonKind
from parties.models import Channel, Person
from parties.services.channels import channel_record
from parties.services.people import person_record
from tests.factories import photo_item, team

THREADS = 16
REQUESTS_EACH = 6


def _in_threads(work: Callable[[int, int], Any]) -> list[BaseException]:
    """Run ``work(thread, request)`` for every request of every thread at once; returns the errors."""
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def run(thread: int) -> None:
        try:
            barrier.wait()
            for request in range(REQUESTS_EACH):
                work(thread, request)
        except BaseException as exc:  # the errors are what the test inspects
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_people_channels_and_previews_at_once_on_one_case_all_succeed_and_the_ledger_holds() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the ledger's advisory lock and row locks are what this checks")
    t = team()
    investigator = t.member()
    photos = [photo_item(t.case, t.lead, which=which) for which in ("astronaut", "camera")]
    kinds = [PersonKind.SUSPECT, PersonKind.WITNESS, PersonKind.VICTIM]

    def work(thread: int, request: int) -> None:
        match (thread + request) % 3:
            case 0:
                person_record(case=t.case, kind=kinds[thread % 3], actor=investigator)
            case 1:
                channel_record(
                    case=t.case,
                    platform=ChannelPlatform.TELEGRAM,
                    handle=f"@ch{thread}x{request}",
                    actor=t.lead,
                )
            case _:  # the same two photos from every thread: the preview derivative races to be made
                preview_serve(item=photos[thread % 2], actor=investigator, grey=request % 2 == 0)

    errors = _in_threads(work)

    assert errors == []
    requests = THREADS * REQUESTS_EACH
    people = Person.objects.filter(case=t.case).count()
    channels = Channel.objects.filter(case=t.case).count()
    served = CustodyEvent.objects.filter(case=t.case, action=CustodyAction.PREVIEW_SERVED).count()
    assert people + channels + served == requests
    numbers = {
        kind: sorted(Person.objects.filter(case=t.case, kind=kind).values_list("pseudonym_number", flat=True))
        for kind in kinds
    }
    assert all(found == list(range(1, len(found) + 1)) for found in numbers.values())  # no gap, no twin
    assert Derivative.objects.count() == 4  # two photos × (grey, colour): each made once
    assert CustodyEvent.objects.filter(case=t.case, action=CustodyAction.DERIVED).count() == 4
    report = vault_verify()
    assert report.ok, report.failures


class _Deadlock(Exception):
    sqlstate = "40P01"


def _losing(times: int) -> Callable[[], str]:
    calls = {"n": 0}

    def service() -> str:
        calls["n"] += 1
        if calls["n"] <= times:
            raise OperationalError("deadlock detected") from _Deadlock()
        return f"done after {calls['n']}"

    return service


def test_a_service_that_loses_a_deadlock_is_run_again_a_bounded_number_of_times() -> None:
    assert haetae_db.retry_on_conflict(_losing(haetae_db.RETRY_ATTEMPTS - 1))() == (
        f"done after {haetae_db.RETRY_ATTEMPTS}"
    )
    with pytest.raises(OperationalError, match="deadlock"):
        haetae_db.retry_on_conflict(_losing(haetae_db.RETRY_ATTEMPTS))()


def test_other_database_errors_are_not_retried() -> None:
    calls = {"n": 0}

    @haetae_db.retry_on_conflict
    def service() -> None:
        calls["n"] += 1
        raise OperationalError("connection refused")

    with pytest.raises(OperationalError, match="refused"):
        service()
    assert calls["n"] == 1


@pytest.mark.django_db
def test_inside_a_callers_transaction_the_error_goes_up_unretried() -> None:
    from django.db import transaction

    service = _losing(1)
    with pytest.raises(OperationalError), transaction.atomic():
        haetae_db.retry_on_conflict(service)()
