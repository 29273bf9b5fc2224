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


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_finding_reviews_and_detection_recording_beside_people_and_channels_all_succeed() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the ledger's advisory lock and row locks are what this checks")
    from detection.detectors.faces import LABEL as FACE
    from detection.models import Annotation
    from detection.services import annotation_review, detection_run
    from parties.choices import ItemPersonRelation, LinkConfidence, LinkSource
    from parties.models import ItemPersonLink
    from parties.services.links import Assertion, link_assert_item_person
    from tests.detection.plugins import BrightnessDetector
    from tests.factories.detection import detection_rows

    t = team()
    investigator = t.member()
    photos = [photo_item(t.case, t.lead, which=which) for which in ("astronaut", "camera")]
    victim = person_record(case=t.case, kind=PersonKind.VICTIM, actor=t.lead)
    # Face findings that suggested links: rejecting one withdraws its link inside the review's transaction.
    findings: list[Annotation] = []
    for n in range(4):
        _, face = detection_rows(item=photos[n % 2], name=f"test-face-{n}", label=FACE)
        findings.append(face)
    for face in findings[:2]:
        link_assert_item_person(
            item=face.item,
            person=victim,
            relation=ItemPersonRelation.DEPICTS,
            assertion=Assertion(
                confidence=LinkConfidence.SUSPECTED, source=LinkSource.DETECTOR, annotation=face
            ),
            actor=None,
        )
    kinds = [PersonKind.SUSPECT, PersonKind.WITNESS]
    done = {"reviews": 0, "runs": 0}
    counted = threading.Lock()

    def work(thread: int, request: int) -> None:
        match (thread + request) % 4:
            case 0:
                person_record(case=t.case, kind=kinds[thread % 2], actor=investigator)
            case 1:
                channel_record(
                    case=t.case,
                    platform=ChannelPlatform.TELEGRAM,
                    handle=f"@d{thread}x{request}",
                    actor=t.lead,
                )
            case 2:  # the same four findings from every thread, confirmed and rejected in turn
                annotation_review(
                    annotation=findings[thread % 4],
                    actor=investigator,
                    decision="rejected" if request % 2 else "confirmed",
                    reason=f"checked by thread {thread}, request {request}",
                )
                with counted:
                    done["reviews"] += 1
            case _:  # a new detector version per request: each records a run, its findings and its event
                detection_run(
                    item=photos[thread % 2], detector=BrightnessDetector(version=f"{thread}.{request}")
                )
                with counted:
                    done["runs"] += 1

    errors = _in_threads(work)

    assert errors == []
    assert done["reviews"] > 0 and done["runs"] > 0
    reviewed = CustodyEvent.objects.filter(case=t.case, action=CustodyAction.FINDING_REVIEWED).count()
    assert reviewed == done["reviews"]
    analysed = CustodyEvent.objects.filter(case=t.case, action=CustodyAction.ANALYSED).count()
    assert analysed == done["runs"]
    people = Person.objects.filter(case=t.case).exclude(pk=victim.pk).count()
    channels = Channel.objects.filter(case=t.case).count()
    assert people + channels + done["reviews"] + done["runs"] == THREADS * REQUESTS_EACH
    rejected_faces = {
        a.pk for a in Annotation.objects.filter(pk__in=[f.pk for f in findings[:2]], review_status="rejected")
    }
    active = ItemPersonLink.objects.filter(annotation_id__in=rejected_faces, withdrawn_at__isnull=True)
    assert not active.exists()  # every rejected face finding's suggestion was withdrawn with its review
    report = vault_verify()
    assert report.ok, report.failures


def _row_free_while_waiting_for_the_ledger(service: Callable[[], Any], model: Any, pk: int) -> None:
    """Hold the ledger lock on another connection and start ``service``; once it waits for the ledger lock,
    the row ``model(pk)`` must still be free (a service that locked it first could deadlock)."""
    from django.db import transaction

    holding, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold() -> None:
        try:
            with transaction.atomic():
                haetae_db.ledger_lock()
                holding.set()
                release.wait()
        finally:
            connections.close_all()

    def serve() -> None:
        try:
            service()
        except BaseException as exc:  # inspected below
            errors.append(exc)
        finally:
            connections.close_all()

    holder, server = threading.Thread(target=hold), threading.Thread(target=serve)
    holder.start()
    holding.wait()
    server.start()
    try:
        waiting = threading.Event()
        for _ in range(3000):  # until the service's backend waits on the advisory lock (or it ended)
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
                if cursor.fetchone()[0]:
                    waiting.set()
                    break
            if not server.is_alive():
                break
            waiting.wait(0.01)
        assert waiting.is_set(), f"the service never waited for the ledger lock: {errors}"
        from django.db import transaction

        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT 1 FROM {model._meta.db_table} WHERE id = %s FOR UPDATE NOWAIT",  # noqa: S608
                [pk],
            )
    finally:
        release.set()
        holder.join()
        server.join()
    assert errors == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["review", "run", "pool"])
def test_detection_takes_the_ledger_lock_before_its_row_locks(path: str) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the ledger's advisory lock and row locks are what this checks")
    from detection.models import Annotation, DetectionRun
    from detection.services import (
        RunResult,
        annotation_review,
        detection_results_store,
        detection_run,
        detector_record,
    )
    from tests.detection.plugins import BrightnessDetector
    from tests.factories.detection import detection_rows

    t = team()
    photo = photo_item(t.case, t.lead)
    if path == "review":
        _, finding = detection_rows(item=photo, name="test-lock-order")
        _row_free_while_waiting_for_the_ledger(
            lambda: annotation_review(
                annotation=finding, actor=t.lead, decision="confirmed", reason="compared with the original"
            ),
            Annotation,
            finding.pk,
        )
        assert Annotation.objects.get(pk=finding.pk).review_status == "confirmed"
        return
    detector = BrightnessDetector()
    run = DetectionRun.objects.create(
        item=photo, detector=detector_record(detector.info), input_sha256=photo.blob_id or ""
    )
    if path == "run":
        _row_free_while_waiting_for_the_ledger(
            lambda: detection_run(item=photo, detector=detector), DetectionRun, run.pk
        )
    else:
        result = RunResult(run_id=run.pk, outcome="done", info=detector.info, findings=[])
        _row_free_while_waiting_for_the_ledger(
            lambda: detection_results_store(results=[result], plugins={}), DetectionRun, run.pk
        )
    assert DetectionRun.objects.get(pk=run.pk).status == "done"
    assert CustodyEvent.objects.filter(item=photo, action=CustodyAction.ANALYSED).count() == 1
