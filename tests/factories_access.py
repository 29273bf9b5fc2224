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

from casefile.models import BreakGlassGrant, Case


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
