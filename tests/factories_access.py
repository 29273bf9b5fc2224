"""Helpers for access tests: OTP-verified sessions, break-glass grants, photographs from scikit-image."""

import io
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from PIL import Image

from access.models import BreakGlassGrant, Case


def verified_login(client: Client, user: Any) -> TOTPDevice:
    """Sign ``user`` in on ``client`` as if with a TOTP code: the session names a confirmed device."""
    user = get_user_model().objects.get(pk=user.pk)  # reloaded: the session hash must match the stored one
    device = TOTPDevice.objects.filter(user=user).first() or TOTPDevice.objects.create(
        user=user, name="default", confirmed=True
    )
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


def live_grant(*, case: Case, user: Any, minutes: int = 30, reason: str = "test grant") -> BreakGlassGrant:
    """A live grant made directly (the service and its custody event are tested in test_breakglass.py)."""
    now = timezone.now()
    return BreakGlassGrant.objects.create(
        case=case, user=user, reason=reason, granted_at=now, expires_at=now + timedelta(minutes=minutes)
    )


def jpeg_bytes(picture: str = "astronaut", *, quality: int = 92) -> bytes:
    """A real photograph from scikit-image's bundled data, as JPEG bytes."""
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(getattr(data, picture)()).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def detection_rows(
    *, item: Any, name: str, label: str = "matrix-finding", category: str = "test"
) -> tuple[Any, Any]:
    """A finished detector run with one finding on ``item``, written directly (the pipeline and its
    custody events are tested in tests/detection); returns (run, annotation)."""
    from detection.models import Annotation, DetectionRun, Detector
    from detection.models.runs import RunStatus

    detector = Detector.objects.create(name=name, version="1")
    now = timezone.now()
    run = DetectionRun.objects.create(
        item=item, detector=detector, status=RunStatus.DONE, input_sha256=item.blob_id, finished_at=now
    )
    annotation = Annotation.objects.create(
        run=run,
        item=item,
        label=label,
        category=category,
        score=0.5,
        region={"x": 0, "y": 0, "w": 8, "h": 8},
        details={"matrix": True},
        detector_name=name,
        detector_version="1",
        input_sha256=item.blob_id,
        ran_at=now,
    )
    return run, annotation


def bank_match(*, item: Any, bank: Any, sha256: str, recipient: Any = None) -> tuple[Any, Any]:
    """A bank entry, a match of ``item`` against it, and (with ``recipient``) an alert to them, written
    directly (matching itself is tested in tests/detection); returns (match, alert or None)."""
    from detection.models import BankEntry, Match, MatchAlert

    entry = BankEntry.objects.create(bank=bank, sha256=sha256, label="matrix entry")
    match = Match.objects.create(item=item, entry=entry, kind="sha256", distance=0)
    alert = None
    if recipient is not None:
        alert = MatchAlert.objects.create(match=match, recipient=recipient, case=item.case)
    return match, alert
