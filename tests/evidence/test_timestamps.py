"""RFC 3161 trusted timestamps against a real authority (OpenSSL ts -reply on 127.0.0.1)."""

import hashlib
import io
import json
import socket
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import tsp
from cryptography import x509
from django.contrib.auth import get_user_model
from django.core.management import call_command

from evidence.bundle import timestamp_token_check
from evidence.choices import CustodyAction, TimestampStatus
from evidence.custody import custody_append
from evidence.ingest import PathSource, evidence_ingest
from evidence.ledger import checkpoint_create
from evidence.models import TimestampToken
from evidence.timestamps import (
    checkpoint_message_sha256,
    checkpoint_timestamp,
    timestamps_retry_missing,
)
from haetae.checks import trusted_time_and_capture_settings
from tests.evidence.test_tasks import celery_conf
from tests.factories import CaseFactory
from tests.tsa import LocalAuthority, tsa_authority, tsa_configured

__all__ = ["tsa_authority", "tsa_configured"]

pytestmark = pytest.mark.django_db


def anchors(path: Path) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(path.read_bytes())


def a_checkpoint() -> Any:
    actor, _ = get_user_model().objects.get_or_create(username="ts-officer")
    case = CaseFactory.create()
    custody_append(case_id=case.pk, action=CustodyAction.TRANSFERRED, actor=actor, to_custodian="lab")
    return checkpoint_create()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/tsa"


def test_a_checkpoint_gets_a_verified_token_for_its_signed_note(tsa_configured: LocalAuthority) -> None:
    checkpoint = a_checkpoint()
    token = checkpoint_timestamp(checkpoint_id=checkpoint.pk)
    assert token is not None and token.status == TimestampStatus.GRANTED, token and token.reason
    assert token.message_sha256 == checkpoint_message_sha256(checkpoint)
    assert token.tsa_url == tsa_configured.url and token.gen_time is not None
    # What the authority received: our imprint (SHA-256) and the nonce the token echoes.
    query = tsp.TimeStampReq.load(tsa_configured.queries[-1])
    assert query["message_imprint"]["hash_algorithm"]["algorithm"].native == "sha256"
    assert query["message_imprint"]["hashed_message"].native.hex() == token.message_sha256
    assert format(query["nonce"].native, "x") == token.nonce
    info = timestamp_token_check(
        bytes(token.token), message_sha256=token.message_sha256, anchors=anchors(tsa_configured.ca_file)
    )
    assert info.tsa_subject.startswith("CN=Haetae test TSA")
    # Asking again keeps the one token.
    assert checkpoint_timestamp(checkpoint_id=checkpoint.pk) == token


def test_a_token_for_other_data_fails(tsa_configured: LocalAuthority) -> None:
    token = checkpoint_timestamp(checkpoint_id=a_checkpoint().pk)
    assert token is not None
    with pytest.raises(ValueError, match="token of other data"):
        timestamp_token_check(
            bytes(token.token),
            message_sha256=hashlib.sha256(b"something else").hexdigest(),
            anchors=anchors(tsa_configured.ca_file),
        )


def test_a_token_under_another_ca_fails(tsa_configured: LocalAuthority) -> None:
    token = checkpoint_timestamp(checkpoint_id=a_checkpoint().pk)
    assert token is not None
    with pytest.raises(ValueError, match="does not chain to the trusted TSA certificate"):
        timestamp_token_check(
            bytes(token.token),
            message_sha256=token.message_sha256,
            anchors=anchors(tsa_configured.other_ca()),
        )


def test_a_token_with_a_changed_time_fails(tsa_configured: LocalAuthority) -> None:
    token = checkpoint_timestamp(checkpoint_id=a_checkpoint().pk)
    assert token is not None and token.gen_time is not None
    raw = bytes(token.token)
    stamp = token.gen_time.strftime("%Y%m%d%H%M%S").encode()
    assert raw.count(stamp) == 1
    forged = raw.replace(stamp, b"19990101000000")
    with pytest.raises(ValueError, match="messageDigest is not the TSTInfo's"):
        timestamp_token_check(
            forged, message_sha256=token.message_sha256, anchors=anchors(tsa_configured.ca_file)
        )


def test_the_first_authority_that_answers_is_used(tsa_authority: LocalAuthority, settings: Any) -> None:
    dead = closed_port_url()
    settings.HAETAE_TSA_URL = [dead, tsa_authority.url]
    settings.HAETAE_TSA_CERT_FILE = str(tsa_authority.ca_file)
    token = checkpoint_timestamp(checkpoint_id=a_checkpoint().pk)
    assert token is not None and token.status == TimestampStatus.GRANTED
    assert token.tsa_url == tsa_authority.url


def test_no_authority_answering_is_a_recorded_failure_retried_later(
    tsa_authority: LocalAuthority, settings: Any
) -> None:
    settings.HAETAE_TSA_URL = [closed_port_url()]
    settings.HAETAE_TSA_CERT_FILE = str(tsa_authority.ca_file)
    checkpoint = a_checkpoint()
    failed = checkpoint_timestamp(checkpoint_id=checkpoint.pk)
    assert failed is not None and failed.status == TimestampStatus.FAILED
    assert "unreachable" in failed.reason
    settings.HAETAE_TSA_URL = [tsa_authority.url]
    retried = timestamps_retry_missing()
    assert [t.status for t in retried if t.checkpoint_id == checkpoint.pk] == [TimestampStatus.GRANTED]


def test_a_reply_under_a_wrong_trust_anchor_is_not_kept(tsa_authority: LocalAuthority, settings: Any) -> None:
    settings.HAETAE_TSA_URL = [tsa_authority.url]
    settings.HAETAE_TSA_CERT_FILE = str(tsa_authority.other_ca())
    token = checkpoint_timestamp(checkpoint_id=a_checkpoint().pk)
    assert token is not None and token.status == TimestampStatus.FAILED
    assert "does not chain" in token.reason and not bytes(token.token)


def test_without_a_tsa_nothing_is_timestamped_and_verify_says_so(settings: Any) -> None:
    settings.HAETAE_TSA_URL = []
    checkpoint = a_checkpoint()
    assert checkpoint_timestamp(checkpoint_id=checkpoint.pk) is None
    out = io.StringIO()
    call_command("verify", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert report["timestamps"] == []
    assert report["timestamp_note"].startswith("no trusted timestamp")


def test_ingest_timestamps_its_manifest_and_verify_lists_every_token(
    tsa_configured: LocalAuthority, tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    actor, _ = get_user_model().objects.get_or_create(username="ts-officer")
    case = CaseFactory.create()
    (tmp_path / "a.txt").write_bytes(b"reported post")
    # The task runs in this process as in the embedded default (no broker).
    with celery_conf(task_always_eager=True), django_capture_on_commit_callbacks(execute=True):
        result = evidence_ingest(case=case, sources=[PathSource(tmp_path / "a.txt")], actor=actor)
    acquisition = result.acquisition
    token = TimestampToken.objects.get(acquisition=acquisition)
    assert token.status == TimestampStatus.GRANTED
    assert token.message_sha256 == acquisition.manifest_sha256
    checkpoint = checkpoint_create()
    checkpoint_timestamp(checkpoint_id=checkpoint.pk)

    out = io.StringIO()
    call_command("verify", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert report["ok"], report["failures"]
    listed = {(t["subject"], t["subject_id"]): t for t in report["timestamps"]}
    assert listed[("acquisition", acquisition.pk)]["ok"]
    assert listed[("checkpoint", checkpoint.pk)]["ok"]
    assert "timestamp_note" not in report

    # An acquisition whose manifest hash was changed no longer matches its token: verify fails and says so.
    type(acquisition).objects.filter(pk=acquisition.pk).update(manifest_sha256="0" * 64)
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("verify", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert any(f["check"] == "timestamp" for f in report["failures"])
    listed = {(t["subject"], t["subject_id"]): t for t in report["timestamps"]}
    assert not listed[("acquisition", acquisition.pk)]["ok"]
    assert "altered after it was timestamped" in listed[("acquisition", acquisition.pk)]["message"]


def test_a_tsa_without_a_trust_anchor_and_private_captures_are_warned_about(settings: Any) -> None:
    settings.HAETAE_TSA_URL = ["https://tsa.example.org/"]
    settings.HAETAE_TSA_CERT_FILE = ""
    settings.HAETAE_CAPTURE_ALLOW_PRIVATE = True
    ids = {warning.id for warning in trusted_time_and_capture_settings()}
    assert ids == {"haetae.W010", "haetae.W011"}
    settings.HAETAE_TSA_CERT_FILE = "/etc/tsa.pem"
    settings.HAETAE_CAPTURE_ALLOW_PRIVATE = False
    assert trusted_time_and_capture_settings() == []


def test_an_authority_is_asked_for_checkpoint_tokens_at_most_once_per_interval(
    tsa_configured: LocalAuthority, settings: Any
) -> None:
    settings.HAETAE_TSA_MIN_INTERVAL_SECONDS = 3600
    first = checkpoint_timestamp(checkpoint_id=a_checkpoint().pk)
    assert first is not None and first.status == TimestampStatus.GRANTED
    later = a_checkpoint()

    assert checkpoint_timestamp(checkpoint_id=later.pk) is None  # the authority rests: nothing asked
    assert len(tsa_configured.queries) == 1 and not later.timestamps.exists()

    settings.HAETAE_TSA_MIN_INTERVAL_SECONDS = 0  # no limit: the later checkpoint gets its own token
    token = checkpoint_timestamp(checkpoint_id=later.pk)
    assert token is not None and token.status == TimestampStatus.GRANTED and len(tsa_configured.queries) == 2
