"""exhibits.bundles: bundles built for real (signed PDF, vault, ledger), checked by the offline verifier."""

import base64
import io
import json
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from access.choices import CaseMemberRole
from evidence import bundle as verifier
from evidence import crypto
from evidence.choices import CustodyAction
from evidence.ledger import checkpoint_create
from evidence.models import Blob, CustodyEvent
from evidence.timestamps import checkpoint_timestamp
from exhibits import bundles
from exhibits.bundles import bundle_export, bundle_open, bundle_request
from exhibits.choices import ReportStatus
from exhibits.models import ExportBundle, Report
from exhibits.services import exhibit_withdraw
from haetae.errors import AccessDenied, IntegrityFailure, RejectedInput
from tests.factories import (
    Scenario,
    pii_calls,
    scenario,
    signed_pdf,
    store_report,
    x25519_pair,
)
from tests.tsa import LocalAuthority, tsa_authority, tsa_configured

pytestmark = pytest.mark.django_db
__all__ = ["pii_calls", "tsa_authority", "tsa_configured"]  # fixtures, imported so pytest finds them


def export(s: Scenario, tmp: Path, *, form: str = "pem", passphrase: str | None = None) -> tuple[Path, Path]:
    """Export both exhibits; returns (zip path, recipient private key path)."""
    private, public = x25519_pair(tmp / "keys", form)
    bundle = bundle_request(
        case=s.t.case,
        exhibit_numbers=["E-001", "E-002"],
        recipient="Seoul Central Prosecutors' Office",
        actor=s.t.lead,
    )
    out = tmp / "out" / "bundle.zip"
    bundle_export(
        bundle=bundle,
        out=out,
        recipient_public_key=None if passphrase else public.read_bytes(),
        passphrase=passphrase,
        report=s.report,
    )
    return out, private


def ledger_key() -> str:
    """The genuine ledger public key, as the agency publishes it (the anchor a verifier is given)."""
    return crypto.public_key_hex(crypto.ledger_signing_key().public_key())


def run_verifier(path: Path, *args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = verifier.main([str(path), *args], stdout=out, stderr=err)
    return code, out.getvalue() + err.getvalue()


def rewrite(path: Path, target: Path, name: str, change: Any, extra: dict[str, bytes] | None = None) -> Path:
    """Copy the ZIP with member ``name`` replaced by ``change(bytes)``."""
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w") as copy:
        for info in source.infolist():
            data = source.read(info.filename)
            copy.writestr(info, change(data) if info.filename == name else data)
        for extra_name, data in (extra or {}).items():
            copy.writestr(extra_name, data)
    return target


def flip(offset_fraction: float = 0.5) -> Any:
    def change(data: bytes) -> bytes:
        at = int(len(data) * offset_fraction)
        return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]

    return change


def edit_manifest(edit: Any) -> Any:
    def change(data: bytes) -> bytes:
        manifest = json.loads(data)
        edit(manifest)
        return json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode()

    return change


def hex_flip(value: str) -> str:
    return ("1" if value[0] != "1" else "2") + value[1:]


def test_round_trip_verifies_decrypts_and_records(tmp_path: Path, pii_calls: list[list[str]]) -> None:
    s = scenario(tmp_path)
    before = CustodyEvent.objects.count()
    path, private = export(s, tmp_path)
    code, output = run_verifier(
        path, "--key", str(private), "--extract", str(tmp_path / "plain"), "--ledger-key", ledger_key()
    )
    assert code == 0, output
    assert "FAIL" not in output
    assert "PAdES signature verifies" in output and s.cert_sha256 in output
    # The originals come out byte for byte as acquired.
    extracted = sorted((tmp_path / "plain").iterdir())
    assert len(extracted) == 2
    by_size = {p.stat().st_size: p.read_bytes() for p in extracted}
    for item in s.items:
        assert item.blob is not None
        assert by_size[item.blob.size] == b"".join(bundles.read_verified(item.blob.sha256))
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
        readme = zf.read("README.txt").decode()
        zf_verifier = zf.read("verify/bundle.py")
    assert {"manifest.json", "manifest.json.sig", "report.pdf", "README.txt", "SHA256SUMS"} <= names
    assert zf_verifier == (Path(verifier.__file__)).read_bytes()
    assert len([n for n in names if n.startswith("originals/")]) == 2
    assert manifest["bundle"]["report"]["signer_certificate_sha256"] == s.cert_sha256
    assert "sha256sum -c SHA256SUMS" in readme and "openssl pkeyutl" in readme and "pdfsig" in readme
    # One transaction recorded an 'exported' event per item (the photo, in both exhibits, once) and the
    # case event.
    new = CustodyEvent.objects.filter(seq__gte=before).order_by("seq")
    exported = list(new.filter(action=CustodyAction.EXPORTED).values_list("item_id", flat=True))
    assert sorted(exported) == sorted(i.pk for i in s.items)
    created = new.get(action=CustodyAction.BUNDLE_CREATED)
    bundle = ExportBundle.objects.get()
    assert bundle.status == ReportStatus.DONE and bundle.progress == 100
    assert (
        created.details["bundle_sha256"]
        == bundle.sha256
        == verifier.hashlib.sha256(path.read_bytes()).hexdigest()
    )
    assert created.to_custodian == bundle.recipient and bundle.recipient_key.startswith("x25519:")
    assert Blob.objects.filter(sha256=bundle.sha256).exists()
    # Every text in the bundle went through the PII scan: README, checksums, manifest, the PDF's text.
    scanned = pii_calls[-1]
    assert any("HAETAE EXPORT BUNDLE" in t for t in scanned)
    assert any('"format": "haetae-exhibit-manifest"' in t for t in scanned)
    assert any("Exhibit report E-001" in t for t in scanned)


def test_download_is_logged_and_prosecutor_needs_every_exhibit_shared(tmp_path: Path, pii_calls: Any) -> None:
    s = scenario(tmp_path)
    path, _ = export(s, tmp_path)
    bundle = ExportBundle.objects.get()
    assert b"".join(bundle_open(bundle=bundle, actor=s.t.lead)) == path.read_bytes()
    assert b"".join(bundle_open(bundle=bundle, actor=s.prosecutor)) == path.read_bytes()
    # Withdrawing one of its exhibits takes the bundle away from the prosecutor; the lead still has it.
    exhibit_withdraw(exhibit=s.exhibits[1], actor=s.t.lead, reason="superseded by a better copy")
    with pytest.raises(AccessDenied, match="E-002"):
        bundle_open(bundle=bundle, actor=s.prosecutor)
    downloads = CustodyEvent.objects.filter(action=CustodyAction.BUNDLE_DOWNLOADED)
    assert [e.actor_id for e in downloads.order_by("seq")] == [s.t.lead.pk, s.prosecutor.pk]
    auditor = s.t.member(CaseMemberRole.AUDITOR)
    with pytest.raises(AccessDenied):
        bundle_open(bundle=bundle, actor=auditor)


def test_each_tampered_part_is_named(tmp_path: Path, pii_calls: Any) -> None:
    s = scenario(tmp_path)
    path, private = export(s, tmp_path)
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        originals = [n for n in zf.namelist() if n.startswith("originals/")]
    event = next(e for e in manifest["events"] if e["inclusion"]["proof"])
    checkpoint = manifest["checkpoints"][-1]

    def leaf(m: dict[str, Any]) -> None:
        target = next(e for e in m["events"] if e["seq"] == event["seq"])
        target["leaf_data"] = target["leaf_data"].replace('"v":1', '"v":2')

    def proof_node(m: dict[str, Any]) -> None:
        target = next(e for e in m["events"] if e["seq"] == event["seq"])
        target["inclusion"]["proof"][0] = hex_flip(target["inclusion"]["proof"][0])

    def checkpoint_signature(m: dict[str, Any]) -> None:
        target = next(c for c in m["checkpoints"] if c["id"] == checkpoint["id"])
        target["signature"] = hex_flip(target["signature"])

    def description(data: bytes) -> bytes:
        return data.replace(b"Photo posted", b"Qhoto posted")

    cases: list[tuple[str, Any, list[str]]] = [
        ("manifest.json", description, ["[manifest.json.sig]"]),
        ("manifest.json.sig", flip(), ["[manifest.json.sig]"]),
        ("report.pdf", flip(0.3), ["[report.pdf] SHA-256", "[report.pdf] PAdES"]),
        ("README.txt", flip(), ["[README.txt]"]),
        ("SHA256SUMS", flip(), ["[SHA256SUMS]"]),
        ("verify/bundle.py", flip(), ["[verify/bundle.py]"]),
        (
            "manifest.json",
            edit_manifest(leaf),
            [f"[event {event['seq']}] leaf data hashes", "[manifest.json.sig]"],
        ),
        (
            "manifest.json",
            edit_manifest(proof_node),
            [f"[event {event['seq']}] inclusion proof", "[manifest.json.sig]"],
        ),
        (
            "manifest.json",
            edit_manifest(checkpoint_signature),
            [f"[checkpoint {checkpoint['id']}] signature"],
        ),
        *((name, flip(0.6), [f"[{name}] SHA-256", f"[{name}] cannot be decrypted"]) for name in originals),
    ]
    for number, (name, change, expected) in enumerate(cases):
        tampered = rewrite(path, tmp_path / f"tampered-{number}.zip", name, change)
        code, output = run_verifier(tampered, "--key", str(private))
        assert code == 1, (name, output)
        for text in expected:
            assert text in output, (name, text, output)
    # The untouched bundle still verifies: the failures above come from the tampering alone.
    assert run_verifier(path, "--key", str(private), "--ledger-key", ledger_key())[0] == 0


def test_wrong_key_truncated_zip_and_extra_file(tmp_path: Path, pii_calls: Any) -> None:
    s = scenario(tmp_path)
    path, _ = export(s, tmp_path)
    other, _ = x25519_pair(tmp_path / "other", "raw")
    code, output = run_verifier(path, "--key", str(other))
    assert code == 1 and "[key]" in output and "wrong key" in output
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    code, output = run_verifier(truncated)
    assert code == 1 and "[zip]" in output
    extra = rewrite(path, tmp_path / "extra.zip", "", lambda d: d, extra={"originals/extra.txt": b"planted"})
    code, output = run_verifier(extra)
    assert code == 1 and "[originals/extra.txt] is in the ZIP but not listed" in output


def test_passphrase_bundle(tmp_path: Path, pii_calls: Any) -> None:
    s = scenario(tmp_path)
    path, _ = export(s, tmp_path, passphrase="correct horse battery staple")
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text("correct horse battery staple\n")
    bad.write_text("incorrect horse battery staple\n")
    assert run_verifier(path, "--passphrase-file", str(good), "--ledger-key", ledger_key())[0] == 0
    code, output = run_verifier(path, "--passphrase-file", str(bad))
    assert code == 1 and "cannot be decrypted" in output
    assert ExportBundle.objects.get().recipient_key == "passphrase"


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run_verifier(tmp_path / "missing.zip")[0] == 2
    (tmp_path / "b.zip").write_bytes(b"x")
    (tmp_path / "ed.pem").write_bytes(
        verifier.ed25519.Ed25519PrivateKey.generate().private_bytes(
            verifier.serialization.Encoding.PEM,
            verifier.serialization.PrivateFormat.PKCS8,
            verifier.serialization.NoEncryption(),
        )
    )
    code, output = run_verifier(tmp_path / "b.zip", "--key", str(tmp_path / "ed.pem"))
    assert code == 2 and "not an X25519 key" in output
    assert run_verifier(tmp_path / "b.zip", "--ledger-key", "xyz")[0] == 2
    assert run_verifier(tmp_path / "b.zip", "--key", "a", "--passphrase-file", "b")[0] == 2


def test_refusals_leave_no_file_and_no_events(tmp_path: Path, pii_calls: Any, monkeypatch: Any) -> None:
    s = scenario(tmp_path)
    bundle = bundle_request(
        case=s.t.case, exhibit_numbers=["E-001"], recipient="Prosecutor Kim", actor=s.t.lead
    )
    out = tmp_path / "out.zip"
    before = CustodyEvent.objects.count()
    with pytest.raises(RejectedInput, match="recipient key"):
        bundle_export(
            bundle=bundle, out=out, recipient_public_key=b"not a key", passphrase=None, report=s.report
        )
    with pytest.raises(RejectedInput, match="exactly one"):
        bundle_export(bundle=bundle, out=out, recipient_public_key=None, passphrase=None, report=s.report)
    with pytest.raises(RejectedInput, match="at least 12"):
        bundle_export(bundle=bundle, out=out, recipient_public_key=None, passphrase="short", report=s.report)

    def refuse(*, case: Any, texts: Any) -> None:
        raise RejectedInput("identity field 'name' of V-1 appears in the bundle")

    monkeypatch.setattr(bundles, "_pii_scan", refuse)
    with pytest.raises(RejectedInput, match="V-1"):
        bundle_export(
            bundle=bundle,
            out=out,
            recipient_public_key=None,
            passphrase="long enough phrase",
            report=s.report,
        )
    assert not out.exists() and not list(tmp_path.glob(".bundle-*"))
    bundle.refresh_from_db()
    assert bundle.status == ReportStatus.FAILED and "V-1" in bundle.error
    assert CustodyEvent.objects.count() == before  # a refused export records nothing


def test_request_checks_role_exhibits_and_report(tmp_path: Path, pii_calls: Any) -> None:
    s = scenario(tmp_path)
    with pytest.raises(AccessDenied):
        bundle_request(case=s.t.case, exhibit_numbers=["E-001"], recipient="x", actor=s.prosecutor)
    with pytest.raises(RejectedInput, match="E-009"):
        bundle_request(case=s.t.case, exhibit_numbers=["E-009"], recipient="x", actor=s.t.lead)
    with pytest.raises(RejectedInput, match="recipient"):
        bundle_request(case=s.t.case, exhibit_numbers=["E-001"], recipient=" ", actor=s.t.lead)
    # A report that does not cover the bundle's exhibits is refused.
    pdf, _ = signed_pdf(tmp_path / "r2")
    narrow = store_report(exhibits=[s.exhibits[0]], pdf=pdf, actor=s.t.lead)
    bundle = bundle_request(case=s.t.case, exhibit_numbers=["E-002"], recipient="x", actor=s.t.lead)
    with pytest.raises(RejectedInput, match="does not cover exhibit E-002"):
        bundle_export(
            bundle=bundle,
            out=tmp_path / "o.zip",
            recipient_public_key=None,
            passphrase="p" * 12,
            report=narrow,
        )


def test_unsigned_report_is_refused(tmp_path: Path, pii_calls: Any) -> None:
    s = scenario(tmp_path)
    pdf, _ = signed_pdf(tmp_path / "r3")
    at = pdf.index(b"/Producer")  # a byte inside the first signed range, in the document information
    altered = pdf[:at] + b"/Producex" + pdf[at + 9 :]
    report = store_report(exhibits=s.exhibits, pdf=altered, actor=s.t.lead)
    bundle = bundle_request(case=s.t.case, exhibit_numbers=["E-001"], recipient="x", actor=s.t.lead)
    with pytest.raises(IntegrityFailure, match="PAdES"):
        bundle_export(
            bundle=bundle,
            out=tmp_path / "o.zip",
            recipient_public_key=None,
            passphrase="p" * 12,
            report=report,
        )


def test_verify_bundle_command_needs_no_database(
    tmp_path: Path, pii_calls: Any, django_db_blocker: Any
) -> None:
    s = scenario(tmp_path)
    path, private = export(s, tmp_path)
    key = ledger_key()
    out = io.StringIO()
    with django_db_blocker.block():
        with pytest.raises(RuntimeError, match="Database access not allowed"):
            ExportBundle.objects.count()  # the block is real: any query in the command would fail
        call_command("verify_bundle", str(path), "--key", str(private), "--ledger-key", key, stdout=out)
        assert "the bundle verifies" in out.getvalue()
        broken = rewrite(path, tmp_path / "broken.zip", "README.txt", flip())
        with pytest.raises(SystemExit) as exit_info:
            call_command("verify_bundle", str(broken), stdout=io.StringIO())
        assert exit_info.value.code == 1


def test_export_command(tmp_path: Path, pii_calls: Any, monkeypatch: Any) -> None:
    s = scenario(tmp_path)
    _, public = x25519_pair(tmp_path / "keys", "base64")
    out = io.StringIO()
    call_command(
        "export",
        s.t.case.number,
        "--exhibits",
        "E-001,E-002",
        "--recipient",
        "Prosecutor Kim",
        "--out",
        str(tmp_path / "cmd.zip"),
        "--recipient-key",
        str(public),
        "--actor",
        s.t.lead.username,
        "--lang",
        "en",
        "--json",
        stdout=out,
    )
    payload = json.loads(out.getvalue())
    assert payload["exhibits"] == ["E-001", "E-002"] and payload["sha256"]
    # A fresh signed report of exactly these exhibits went into the bundle (the real pipeline ran).
    report = Report.objects.exclude(pk=s.report.pk).get()
    assert (report.scope, report.language, report.status) == (["E-001", "E-002"], "en", ReportStatus.DONE)
    assert ExportBundle.objects.get(sha256=payload["sha256"]).report_id == report.pk
    code, output = run_verifier(
        tmp_path / "cmd.zip", "--key", str(tmp_path / "keys" / "recipient.key"), "--ledger-key", ledger_key()
    )
    assert code == 0, output


def test_public_tools_check_what_the_readme_says(tmp_path: Path, pii_calls: Any) -> None:
    """The README's steps, run for real: openssl for the manifest signature, sha256sum -c, pdfsig."""
    s = scenario(tmp_path)
    path, _ = export(s, tmp_path)
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(path) as zf:
        zf.extractall(unpacked)
    manifest = json.loads((unpacked / "manifest.json").read_bytes())
    key_hex = manifest["ledger_public_key"]
    shell = (
        f"(printf '302a300506032b6570032100'; echo {key_hex}) | xxd -r -p > ledger.der && "
        "openssl pkey -pubin -inform DER -in ledger.der -out ledger.pem && "
        "openssl pkeyutl -verify -pubin -inkey ledger.pem -rawin -in manifest.json -sigfile manifest.json.sig"
    )
    done = subprocess.run(["bash", "-c", shell], cwd=unpacked, capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "Signature Verified Successfully" in done.stdout, done.stderr
    (unpacked / "manifest.json").write_bytes(
        (unpacked / "manifest.json").read_bytes().replace(b"Photo", b"Phot0")
    )
    done = subprocess.run(["bash", "-c", shell], cwd=unpacked, capture_output=True, text=True, check=False)
    assert done.returncode != 0
    sums = subprocess.run(
        ["sha256sum", "SHA256SUMS"], cwd=unpacked, capture_output=True, text=True, check=True
    )
    listed = {f["path"]: f["sha256"] for f in manifest["bundle"]["files"]}
    assert sums.stdout.split()[0] == listed["SHA256SUMS"]
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=unpacked, capture_output=True, text=True)
    assert check.returncode == 0 and check.stdout.count(": OK") == 5, check.stdout
    pdfsig = subprocess.run(["pdfsig", "report.pdf"], cwd=unpacked, capture_output=True, text=True)
    assert "Signature is Valid" in pdfsig.stdout, pdfsig.stdout + pdfsig.stderr
    # The README's OpenSSL-only PDF check, copied from the README itself.
    with zipfile.ZipFile(path) as zf:
        readme = zf.read("README.txt").decode()
    assert "-noverify \\\n" in readme and "'/ByteRange *\\[[0-9 ]*\\]'" in readme  # printed as shown in docs
    start = readme.index("     set -- $(grep")
    steps = readme[start : readme.index("   Compare the signer certificate")]
    done = subprocess.run(["bash", "-ec", steps], cwd=unpacked, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "signature covers the whole file" in done.stdout and "CMS Verification successful" in done.stderr
    fingerprint = done.stdout.split("sha256 Fingerprint=")[1].strip().replace(":", "").lower()
    assert fingerprint == manifest["bundle"]["report"]["signer_certificate_sha256"] == s.cert_sha256
    (unpacked / "report.pdf").write_bytes(
        (unpacked / "report.pdf").read_bytes().replace(b"/Producer", b"/Producex")
    )
    done = subprocess.run(["bash", "-ec", steps], cwd=unpacked, capture_output=True, text=True, check=False)
    assert done.returncode != 0


def test_celery_task_builds_into_the_vault(tmp_path: Path, pii_calls: Any, settings: Any) -> None:
    from exhibits.tasks import bundle_export_task

    settings.DATA_DIR = tmp_path / "data"
    s = scenario(tmp_path)
    _, public = x25519_pair(tmp_path / "keys", "raw")
    bundle = bundle_request(
        case=s.t.case, exhibit_numbers=["E-001"], recipient="Prosecutor Kim", actor=s.t.lead
    )
    # The task body, run in-process (the worker is not under test; Celery's routing is in settings).
    sha256 = bundle_export_task(
        bundle.pk,
        report_pk=s.report.pk,
        recipient_public_key=base64.b64encode(public.read_bytes()).decode(),
    )
    bundle.refresh_from_db()
    assert bundle.status == ReportStatus.DONE and bundle.sha256 == sha256
    served = tmp_path / "served.zip"
    served.write_bytes(b"".join(bundle_open(bundle=bundle, actor=s.t.lead)))
    key = str(tmp_path / "keys" / "recipient.key")
    assert run_verifier(served, "--key", key, "--ledger-key", ledger_key())[0] == 0
    assert not list((tmp_path / "data" / "tmp").iterdir())  # the scratch copy is gone; the vault keeps it


def test_export_command_refuses_bad_input_before_any_work(
    tmp_path: Path, pii_calls: Any, capsys: Any, monkeypatch: Any
) -> None:
    s = scenario(tmp_path)

    def no_report(**kwargs: Any) -> Any:
        pytest.fail("no report is generated for refused input")

    from exhibits.reports import services as report_services

    monkeypatch.setattr(report_services, "report_request", no_report)
    monkeypatch.setattr(report_services, "report_generate", no_report)
    key_file = tmp_path / "wrong.pub"
    key_file.write_bytes(b"ssh-ed25519 AAAA not an x25519 key")
    base = [
        "export",
        s.t.case.number,
        "--exhibits",
        "E-001",
        "--recipient",
        "x",
        "--out",
        str(tmp_path / "o.zip"),
    ]
    with pytest.raises(SystemExit) as exit_info:
        call_command(*base, "--recipient-key", str(key_file), "--actor", s.t.lead.username)
    assert exit_info.value.code == 1
    assert "recipient key" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        call_command(*base, "--recipient-key", str(tmp_path / "missing.pub"), "--actor", s.t.lead.username)
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit) as exit_info:
        call_command(*base, "--recipient-key", str(key_file), "--actor", s.prosecutor.username)
    assert exit_info.value.code == 1 and "only members with the role" in capsys.readouterr().err
    assert not ExportBundle.objects.exists()


def test_export_memory_does_not_grow_with_the_original(tmp_path: Path, pii_calls: Any) -> None:
    """A 48 MiB original goes vault → encrypt → ZIP → vault with a peak of a few MiB of Python memory."""
    import os
    import tracemalloc

    from exhibits.services import exhibit_approve, exhibit_create, exhibit_share
    from tests.factories import item

    s = scenario(tmp_path)
    large = item(s.t, data=os.urandom(48 * 1024 * 1024), name="video.mp4")
    exhibit = exhibit_create(case=s.t.case, item_ids=[large.pk], description="Large capture", actor=s.t.lead)
    exhibit_approve(exhibit=exhibit, actor=s.supervisor)
    exhibit_share(exhibit=exhibit, actor=s.t.lead)
    s.report.exhibits.add(exhibit)
    _, public = x25519_pair(tmp_path / "keys", "raw")
    bundle = bundle_request(case=s.t.case, exhibit_numbers=[exhibit.number], recipient="x", actor=s.t.lead)
    tracemalloc.start()
    try:
        bundle_export(
            bundle=bundle,
            out=tmp_path / "large.zip",
            recipient_public_key=public.read_bytes(),
            passphrase=None,
            report=s.report,
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (tmp_path / "large.zip").stat().st_size > 48 * 1024 * 1024
    assert peak < 16 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"


def test_bundle_carries_checkpoint_tokens_the_verifier_checks(
    tmp_path: Path, pii_calls: Any, tsa_configured: LocalAuthority
) -> None:
    s = scenario(tmp_path)
    # The checkpoint that first signs the scenario's events, timestamped as the task after its commit does.
    checkpoint_timestamp(checkpoint_id=checkpoint_create().pk)
    path, _ = export(s, tmp_path)
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["timestamps"] and manifest["tsa_certificates"]
    code, output = run_verifier(path, "--ledger-key", ledger_key(), "--tsa-cert", str(tsa_configured.ca_file))
    assert code == 0, output
    assert "trusted time" in output and "no trusted timestamp" not in output
    # Under another authority's certificate the tokens do not verify.
    code, output = run_verifier(
        path, "--ledger-key", ledger_key(), "--tsa-cert", str(tsa_configured.other_ca())
    )
    assert code == 1 and "FAIL  [timestamp" in output and "does not chain" in output

    def other_note(m: dict[str, Any]) -> None:
        m["timestamps"][0]["message_sha256"] = "ab" * 32

    forged = rewrite(path, tmp_path / "forged.zip", "manifest.json", edit_manifest(other_note))
    code, output = run_verifier(forged, "--ledger-key", ledger_key())
    assert code == 1 and "FAIL  [timestamp" in output


def test_bundle_without_a_tsa_says_so(tmp_path: Path, pii_calls: Any) -> None:
    path, _ = export(scenario(tmp_path), tmp_path)
    code, output = run_verifier(path, "--ledger-key", ledger_key())
    assert code == 0, output
    assert "note  no trusted timestamp" in output
