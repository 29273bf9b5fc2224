"""System checks that say out loud when sign-in or signing protections are switched off (never silently)."""

import base64
import binascii
from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=False)
def sign_in_protections(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """Warn when TOTP for staff sign-in (HAETAE_REQUIRE_TOTP) or login throttling is off, or a trial runs."""
    problems = []
    if getattr(settings, "HAETAE_LOCAL_TRIAL", False):
        problems.append(
            Warning(
                "Local trial: this server answers this machine only, and sign-in needs no one-time code.",
                hint="Unset HAETAE_LOCAL_TRIAL for any server that holds real evidence.",
                id="haetae.W003",
            )
        )
    if not getattr(settings, "HAETAE_REQUIRE_TOTP", True):
        problems.append(
            Warning(
                "TOTP is off: staff sign in to the admin (and sessions reach the API) with a password alone.",
                hint="Set HAETAE_REQUIRE_TOTP=1 (the default without HAETAE_LOCAL_TRIAL); "
                "enrol each staff member with 'manage.py totp_enrol USERNAME'.",
                id="haetae.W001",
            )
        )
    if not getattr(settings, "AXES_ENABLED", True):
        problems.append(
            Warning(
                "Login throttling is off: failed sign-ins are neither counted nor locked out.",
                hint="Set HAETAE_LOGIN_THROTTLE=1 (the default without HAETAE_LOCAL_TRIAL).",
                id="haetae.W002",
            )
        )
    return problems


@register(Tags.security, deploy=False)
def signing_protections(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """Warn when reports would be signed by the development signer on a production database."""
    problems = []
    if getattr(settings, "HAETAE_ALLOW_DEVELOPMENT_SIGNER", False) and not settings.DEBUG:
        engine = settings.DATABASES["default"]["ENGINE"]
        signer_configured = getattr(settings, "HAETAE_SIGNER_CERT_FILE", "") and getattr(
            settings, "HAETAE_SIGNER_KEY_FILE", ""
        )
        if engine != "django.db.backends.sqlite3" and not signer_configured:
            problems.append(
                Warning(
                    "Reports are signed by the development signer, whose key lies unencrypted in the data "
                    "directory, on a production database.",
                    hint="Set HAETAE_SIGNER_CERT_FILE and HAETAE_SIGNER_KEY_FILE to the agency's certificate "
                    "and key, and unset HAETAE_ALLOW_DEVELOPMENT_SIGNER (docs/reports-signing.md).",
                    id="haetae.W004",
                )
            )
    return problems


def spki_pin_check(pin: str) -> str:
    """Why ``pin`` is not a certificate pin Chromium takes ('' if it is): base64 of a 32-byte SHA-256."""
    try:
        digest = base64.b64decode(pin, validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 32:
        return (
            f"{pin!r} is not a base64 SHA-256 of a SubjectPublicKeyInfo (e.g. openssl x509 -pubkey -noout "
            "-in cert.pem | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)"
        )
    return ""


@register(Tags.security, deploy=False)
def trusted_time_and_capture_settings(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    """Warn when timestamps cannot be checked, or when captures may reach private networks."""
    problems = []
    if getattr(settings, "HAETAE_TSA_URL", None) and not getattr(settings, "HAETAE_TSA_CERT_FILE", ""):
        problems.append(
            Warning(
                "HAETAE_TSA_URL is set without HAETAE_TSA_CERT_FILE: no token can be checked, so none is "
                "kept and nothing is timestamped.",
                hint="Set HAETAE_TSA_CERT_FILE to the timestamp authority's certificate or CA (PEM; "
                "docs/timestamps.md).",
                id="haetae.W010",
            )
        )
    if getattr(settings, "HAETAE_CAPTURE_ALLOW_PRIVATE", False):
        problems.append(
            Warning(
                "HAETAE_CAPTURE_ALLOW_PRIVATE is on: a captured page, its redirects and its resources may "
                "reach private, loopback and link-local addresses (this server, the internal network).",
                hint="Unset it unless this installation runs on a closed network that needs it "
                "(docs/captures.md).",
                id="haetae.W011",
            )
        )
    pins = list(getattr(settings, "HAETAE_CAPTURE_ACCEPT_SPKI", ()))
    if pins:
        wrong = [why for why in map(spki_pin_check, pins) if why]
        problems.append(
            Warning(
                f"HAETAE_CAPTURE_ACCEPT_SPKI is set: the capture browser accepts {len(pins)} certificate(s) "
                "by their keys whatever their errors (capture.json names the pins)."
                + (f" Not usable: {'; '.join(wrong)}" if wrong else ""),
                hint="Set it only for a closed network's own servers or the tests' local site "
                "(docs/captures.md).",
                id="haetae.W012",
            )
        )
    return problems
