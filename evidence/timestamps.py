"""Trusted timestamps (RFC 3161) of ledger checkpoints and acquisition manifests.

A request carries the SHA-256 of the subject (a checkpoint's signed note, an acquisition's manifest) and a
random nonce, and goes by HTTP POST (``application/timestamp-query``) to each configured authority in turn
(``HAETAE_TSA_URL``); the first reply whose token verifies is kept. The token is checked on receipt and by
``manage.py verify`` with ``evidence.bundle.timestamp_token_check``, the code the offline bundle verifier
runs, against ``HAETAE_TSA_CERT_FILE``. Requests never run inside the transaction that made the subject:
services queue them on commit, and a failure is a recorded row with its reason, retried by the beat job.
"""

import base64
import hashlib
import logging
import secrets
import urllib.error
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from asn1crypto import algos, core, tsp
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from evidence.bundle import (
    NO_TRUSTED_TIMESTAMP,
    KeyFileError,
    TimestampInfo,
    load_certificates,
    timestamp_token_check,
)
from evidence.choices import AcquisitionStatus, TimestampStatus, TimestampSubject
from evidence.models import Acquisition, Checkpoint, TimestampToken
from evidence.proofcheck import checkpoint_message
from haetae.toolkit import utc_iso

__all__ = [
    "NO_TRUSTED_TIMESTAMP",
    "acquisition_timestamp",
    "acquisition_trusted_times",
    "checkpoint_message_sha256",
    "checkpoint_timestamp",
    "timestamp_check",
    "timestamp_manifest_entries",
    "timestamp_summary",
    "timestamps_retry_missing",
    "tsa_anchors",
    "tsa_configured",
]

logger = logging.getLogger(__name__)

QUERY_TYPE = "application/timestamp-query"
MAX_REPLY_BYTES = 1024 * 1024
NONCE_BITS = 64


def tsa_configured() -> bool:
    """Is at least one timestamp authority configured?"""
    return bool(getattr(settings, "HAETAE_TSA_URL", None))


def tsa_anchors() -> list[x509.Certificate]:
    """The certificates a token must chain to (``HAETAE_TSA_CERT_FILE``); empty when none is configured."""
    path = getattr(settings, "HAETAE_TSA_CERT_FILE", "")
    if not path:
        return []
    try:
        return load_certificates(Path(path).read_bytes(), what=f"HAETAE_TSA_CERT_FILE {path}")
    except OSError as exc:
        raise KeyFileError(f"cannot read HAETAE_TSA_CERT_FILE {path}: {exc.strerror}") from None


def checkpoint_message_sha256(checkpoint: Checkpoint) -> str:
    """The SHA-256 a checkpoint's token imprints: that of its signed note (size, root, time)."""
    note = checkpoint_message(checkpoint.tree_size, checkpoint.root_hash, utc_iso(checkpoint.created_at))
    return hashlib.sha256(note).hexdigest()


def _subject_sha256(token: TimestampToken) -> str:
    """What the token's subject hashes to now (a checkpoint's note, an acquisition's manifest)."""
    if token.checkpoint is not None:
        return checkpoint_message_sha256(token.checkpoint)
    if token.acquisition is not None:
        return token.acquisition.manifest_sha256
    return ""


def _query(message_sha256: str, nonce: int) -> bytes:
    """A DER TimeStampReq: SHA-256 imprint, the nonce, and the TSA's certificate asked for in the reply."""
    return tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": tsp.MessageImprint(
                {
                    "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                    "hashed_message": bytes.fromhex(message_sha256),
                }
            ),
            "nonce": nonce,
            "cert_req": True,
        }
    ).dump()


def _post(url: str, query: bytes) -> bytes:
    request = urllib.request.Request(  # noqa: S310 - the operator configures the URL (http or https)
        url, data=query, method="POST", headers={"Content-Type": QUERY_TYPE}
    )
    timeout = float(getattr(settings, "HAETAE_TSA_TIMEOUT_SECONDS", 10))
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        reply: bytes = response.read(MAX_REPLY_BYTES + 1)
    if len(reply) > MAX_REPLY_BYTES:
        raise ValueError(f"the reply is larger than {MAX_REPLY_BYTES} bytes")
    return reply


def _token_of(reply: bytes) -> bytes:
    """The TimeStampToken of a TimeStampResp, or ValueError with the authority's status and text."""
    try:
        response = tsp.TimeStampResp.load(reply)
        status = response["status"]["status"].native
        token = response["time_stamp_token"]
    except (ValueError, TypeError) as exc:
        raise ValueError(f"the reply is not an RFC 3161 TimeStampResp ({exc})") from None
    if status not in ("granted", "granted_with_mods"):
        text = response["status"]["status_string"]
        said = (
            "; ".join(str(s) for s in text.native) if isinstance(text, core.Sequence) and text.native else ""
        )
        raise ValueError(f"the authority refused: status {status}" + (f" ({said})" if said else ""))
    if isinstance(token, core.Void):
        raise ValueError("the authority granted but sent no token")
    der: bytes = token.dump()
    return der


@dataclass
class _Attempt:
    url: str
    token: bytes = b""
    info: TimestampInfo | None = None
    reason: str = ""


def _ask(url: str, message_sha256: str, anchors: list[x509.Certificate]) -> _Attempt:
    nonce = secrets.randbits(NONCE_BITS)
    try:
        token = _token_of(_post(url, _query(message_sha256, nonce)))
        info = timestamp_token_check(token, message_sha256=message_sha256, anchors=anchors, nonce=nonce)
    except (urllib.error.URLError, OSError) as exc:
        return _Attempt(url, reason=f"{url}: unreachable ({getattr(exc, 'reason', exc)})")
    except ValueError as exc:
        return _Attempt(url, reason=f"{url}: {exc}")
    return _Attempt(url, token=token, info=info)


def _timestamp(
    *,
    subject: str,
    message_sha256: str,
    checkpoint: Checkpoint | None = None,
    acquisition: Acquisition | None = None,
    authorities: list[str] | None = None,
) -> TimestampToken:
    """Ask each authority in turn (``authorities``, by default every configured one); record the first
    verified token, or a failed row with every reason."""
    urls = list(settings.HAETAE_TSA_URL) if authorities is None else authorities
    reasons = []
    try:
        anchors = tsa_anchors()
    except KeyFileError as exc:
        anchors, reasons = [], [str(exc)]
    if not anchors and not reasons:
        reasons.append("HAETAE_TSA_CERT_FILE is not set: a token cannot be checked, so none is kept")
    asked_for = {
        "subject": subject,
        "checkpoint": checkpoint,
        "acquisition": acquisition,
        "message_sha256": message_sha256,
    }
    for url in [] if reasons else urls:
        attempt = _ask(url, message_sha256, anchors)
        if attempt.info is not None:
            return TimestampToken.objects.create(
                **asked_for,
                status=TimestampStatus.GRANTED,
                tsa_url=url,
                nonce=format(attempt.info.nonce or 0, "x"),
                token=attempt.token,
                gen_time=parse_datetime(attempt.info.gen_time),
                serial_number=str(attempt.info.serial_number),
                policy=attempt.info.policy,
                tsa_subject=attempt.info.tsa_subject,
                tsa_certificate_sha256=attempt.info.tsa_certificate_sha256,
            )
        reasons.append(attempt.reason)
    logger.warning("no trusted timestamp for %s: %s", subject, "; ".join(reasons))
    return TimestampToken.objects.create(
        **asked_for,
        status=TimestampStatus.FAILED,
        reason="; ".join(reasons),
        tsa_url=", ".join(urls),
    )


def _authorities_resting() -> set[str]:
    """Authorities asked for a checkpoint token within ``HAETAE_TSA_MIN_INTERVAL_SECONDS`` (none without a
    limit): a checkpoint is made on every commit, and a public authority must not be asked for each."""
    interval = float(getattr(settings, "HAETAE_TSA_MIN_INTERVAL_SECONDS", 0) or 0)
    if interval <= 0:
        return set()
    recent = TimestampToken.objects.filter(
        subject=TimestampSubject.CHECKPOINT, requested_at__gt=timezone.now() - timedelta(seconds=interval)
    ).values_list("tsa_url", flat=True)
    asked = {url.strip() for urls in recent for url in urls.split(",")}
    return {url for url in settings.HAETAE_TSA_URL if url in asked}


def checkpoint_timestamp(*, checkpoint_id: int) -> TimestampToken | None:
    """Timestamp a checkpoint's signed note (None without a TSA, when it already has a token, or while every
    authority rests under ``HAETAE_TSA_MIN_INTERVAL_SECONDS``: a later checkpoint, which extends this one,
    is timestamped instead)."""
    checkpoint = Checkpoint.objects.filter(pk=checkpoint_id).first()
    if checkpoint is None or not tsa_configured():
        return None
    granted = checkpoint.timestamps.filter(status=TimestampStatus.GRANTED).first()
    if granted is not None:
        return granted
    resting = _authorities_resting()
    authorities = [url for url in settings.HAETAE_TSA_URL if url not in resting]
    if not authorities:
        return None
    return _timestamp(
        subject=TimestampSubject.CHECKPOINT,
        message_sha256=checkpoint_message_sha256(checkpoint),
        checkpoint=checkpoint,
        authorities=authorities,
    )


def acquisition_timestamp(*, acquisition_id: int) -> TimestampToken | None:
    """Timestamp a completed acquisition's manifest (None without a TSA, or before it has a manifest)."""
    acquisition = Acquisition.objects.filter(pk=acquisition_id).first()
    if acquisition is None or not acquisition.manifest_sha256 or not tsa_configured():
        return None
    granted = acquisition.timestamps.filter(status=TimestampStatus.GRANTED).first()
    if granted is not None:
        return granted
    return _timestamp(
        subject=TimestampSubject.ACQUISITION,
        message_sha256=acquisition.manifest_sha256,
        acquisition=acquisition,
    )


def timestamps_retry_missing(*, limit: int = 20) -> list[TimestampToken]:
    """Timestamp the newest checkpoint and completed acquisitions that have no token yet (the beat job).

    Stops at the first failure: while the authorities are down, one failed row per run says so, and the
    job does not wait on each subject in turn.
    """
    if not tsa_configured():
        return []
    granted = TimestampToken.objects.filter(status=TimestampStatus.GRANTED)
    made = []
    newest = (
        Checkpoint.objects.filter(~Exists(granted.filter(checkpoint=OuterRef("pk"))))
        .order_by("-tree_size", "-id")
        .first()
    )
    if newest is not None:
        made.append(checkpoint_timestamp(checkpoint_id=newest.pk))
        if made[-1] is not None and made[-1].status == TimestampStatus.FAILED:
            return [token for token in made if token is not None]
    waiting: QuerySet[Acquisition] = Acquisition.objects.filter(
        status=AcquisitionStatus.COMPLETED, manifest_sha256__gt=""
    ).exclude(Exists(granted.filter(acquisition=OuterRef("pk"))))
    for acquisition_id in waiting.order_by("-id").values_list("id", flat=True)[:limit]:
        made.append(acquisition_timestamp(acquisition_id=acquisition_id))
        if made[-1] is not None and made[-1].status == TimestampStatus.FAILED:
            break
    return [token for token in made if token is not None]


def timestamp_check(token: TimestampToken, *, anchors: list[x509.Certificate]) -> tuple[bool, str]:
    """Re-check a stored token against its subject as it is now and the trust anchors; (ok, why)."""
    if token.status != TimestampStatus.GRANTED:
        return False, f"{NO_TRUSTED_TIMESTAMP}: the request failed ({token.reason})"
    current = _subject_sha256(token)
    if current != token.message_sha256:
        return False, (
            f"the {token.get_subject_display()} now hashes to {current}, but its token timestamps "
            f"{token.message_sha256}: the subject was altered after it was timestamped"
        )
    try:
        info = timestamp_token_check(bytes(token.token), message_sha256=current, anchors=anchors)
    except ValueError as exc:
        return False, str(exc)
    return True, f"timestamped at {info.gen_time} by {info.tsa_subject}"


def timestamp_summary(token: TimestampToken) -> dict[str, Any]:
    """A token as plain data (for verify's JSON, reports and bundles)."""
    return {
        "id": token.pk,
        "subject": token.subject,
        "subject_id": token.checkpoint_id or token.acquisition_id,
        "message_sha256": token.message_sha256,
        "status": token.status,
        "reason": token.reason,
        "tsa_url": token.tsa_url,
        "gen_time": utc_iso(token.gen_time) if isinstance(token.gen_time, datetime) else None,
        "serial_number": token.serial_number,
        "tsa_subject": token.tsa_subject,
    }


def timestamp_manifest_entries(
    *, checkpoint_ids: Iterable[int], acquisition_ids: Iterable[int]
) -> dict[str, Any]:
    """The granted tokens of these checkpoints and acquisitions for an exhibit manifest, with the TSA trust
    anchor they were checked against, or a plain statement that there is no trusted timestamp."""
    tokens = TimestampToken.objects.filter(status=TimestampStatus.GRANTED).filter(
        Q(checkpoint_id__in=list(checkpoint_ids)) | Q(acquisition_id__in=list(acquisition_ids))
    )
    entries = [
        {**timestamp_summary(token), "token": base64.b64encode(bytes(token.token)).decode("ascii")}
        for token in tokens.order_by("id")
    ]
    for entry in entries:
        del entry["status"], entry["reason"]
    if not entries:
        return {"timestamps": [], "timestamp_note": f"{NO_TRUSTED_TIMESTAMP}: no token covers these records"}
    try:
        certificates = [
            cert.public_bytes(serialization.Encoding.PEM).decode("ascii") for cert in tsa_anchors()
        ]
    except KeyFileError:
        certificates = []
    return {"timestamps": entries, "tsa_certificates": certificates}


def acquisition_trusted_times(*, acquisition_ids: Iterable[int]) -> dict[int, str]:
    """The TSA time (ISO 8601 UTC) of each of these acquisitions' manifests that has a granted token."""
    rows = TimestampToken.objects.filter(
        status=TimestampStatus.GRANTED, acquisition_id__in=list(acquisition_ids), gen_time__isnull=False
    ).order_by("acquisition_id", "id")
    times: dict[int, str] = {}
    for acquisition_id, gen_time in rows.values_list("acquisition_id", "gen_time"):
        if gen_time is not None and acquisition_id is not None:
            times.setdefault(acquisition_id, utc_iso(gen_time))
    return times
