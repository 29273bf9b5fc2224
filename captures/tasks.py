"""Celery tasks of captures: thin wrappers that call a service."""

from celery import shared_task

from captures.models import Capture
from captures.services import capture_run


@shared_task(acks_late=True)
def capture_run_task(capture_id: int) -> str | None:
    """Run one requested capture; returns its status."""
    capture = Capture.objects.filter(pk=capture_id).select_related("case", "requested_by").first()
    if capture is None:
        return None
    return capture_run(capture=capture).status
