"""The offline verifier refuses a bundle that nothing outside the ZIP vouches for.

A complete forgery is built here from what a bundle itself holds (the recipient's public key is in its
manifest): every original replaced by another photograph, every custody chain, leaf, Merkle tree, proof and
checkpoint rebuilt and signed under the forger's own Ed25519 key, the originals re-encrypted to the
recipient, the agency-signed report kept byte for byte. Only an anchor from outside the ZIP (the ledger key
obtained from the agency, or the agency's certificate with the signed report's embedded manifest) tells it
from the genuine bundle.
"""

import hashlib
import io
import json
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pikepdf
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, x25519
from django.conf import settings as django_settings
from django.core.management import call_command

from evidence import bundle as verifier
from evidence import merkle
from evidence.ledger import checkpoint_create
from exhibits.reports.signing import DEV_SIGNER_CERT_NAME
from tests.exhibits.test_bundles import ledger_key, run_verifier
from tests.factories import (
    Scenario,
    jpeg_bytes,
    make_ca,
    make_signer,
    one_page_pdf,
    pades_signed,
    pii_calls,
    scenario,
    team,
    use_signer,
    victim,
    x25519_pair,
)

pytestmark = pytest.mark.django_db
__all__ = ["pii_calls"]  # the fixture, imported so pytest finds it


@dataclass
class Exported:
    path: Path
    recipient_key: Path
    ca_pem: Path


def export_with_real_report(tmp: Path, settings: Any, *, agency: bool = True) -> tuple[Scenario, Exported]:
    """``manage.py export`` through the real report pipeline, signed by an agency signer (or the dev one)."""
    ca = make_ca()
    if agency:
        use_signer(settings, make_signer(ca, tmp / "signer"))
    s = scenario(tmp)
    private, public = x25519_pair(tmp / "keys", "pem")
    out = tmp / "bundle.zip"
    call_command(
        "export",
        s.t.case.number,
        "--exhibits",
        "E-001,E-002",
        "--recipient",
        "Seoul Central Prosecutors' Office",
        "--out",
        str(out),
        "--recipient-key",
        str(public),
        "--actor",
        s.t.lead.username,
        "--lang",
        "en",
        stdout=io.StringIO(),
    )
    ca_pem = tmp / "agency-ca.pem"
    ca_pem.write_bytes(ca.pem)
    return s, Exported(path=out, recipient_key=private, ca_pem=ca_pem)


def _dumps(manifest: dict[str, Any]) -> bytes:
    return json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")


def forge(genuine: Path, target: Path, *, report_pdf: bytes | None = None) -> Path:
    """Rebuild the bundle around other originals under a key of the forger's own (see the module doc)."""
    with zipfile.ZipFile(genuine) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    manifest = json.loads(members["manifest.json"])
    forger = ed25519.Ed25519PrivateKey.generate()
    forger_public = forger.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    # Other photographs take the originals' place, with hashes of their own.
    pictures = iter(["camera", "coffee", "chelsea", "rocket"])
    replaced: dict[int, bytes] = {}
    for item in manifest["items"]:
        data = jpeg_bytes(next(pictures))
        replaced[item["id"]] = data
        item.update(
            sha256=hashlib.sha256(data).hexdigest(),
            md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
            sha1=hashlib.sha1(data, usedforsecurity=False).hexdigest(),
            size=len(data),
        )
    hashes = {item["id"]: item["sha256"] for item in manifest["items"]}
    facts = {
        item["id"]: {name: item[name] for name in ("sha256", "md5", "sha1", "size")}
        for item in manifest["items"]
    }
    # Every chain rebuilt: each event's hashes follow the new originals, each prev_hash the new leaves.
    previous: dict[int, str] = {}
    leaves: dict[int, bytes] = {}
    for event in sorted(manifest["events"], key=lambda e: e["seq"]):
        payload = json.loads(event["leaf_data"])
        item_id = payload.get("item")
        if item_id in hashes:
            for name in ("sha256_before", "sha256_after"):
                if payload.get(name):
                    payload[name] = hashes[item_id]
            if payload.get("action") == "acquired":  # what the leaf recorded at seizure follows them too
                payload["details"].update(facts[item_id])
            payload["prev_hash"] = previous.get(item_id, verifier.GENESIS_HASH)
        event["leaf_data"] = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        leaf = merkle.leaf_hash(event["leaf_data"].encode())
        event["leaf_hash"] = leaf.hex()
        leaves[event["seq"]] = leaf
        if item_id in hashes:
            previous[item_id] = leaf.hex()
    # A whole Merkle log of the forger's own (other leaves made up), one checkpoint signed by the forger.
    size = max(leaves) + 1
    tree = merkle.MerkleTree(leaves.get(index, secrets.token_bytes(32)) for index in range(size))
    root = tree.root().hex()
    created_at = manifest["checkpoints"][-1]["created_at"]
    signature = forger.sign(verifier.checkpoint_message(size, root, created_at))
    manifest["checkpoints"] = [
        {
            "id": 1,
            "tree_size": size,
            "root_hash": root,
            "created_at": created_at,
            "key_id": verifier.ledger_key_id(forger_public.hex()),
            "public_key": forger_public.hex(),
            "signature": signature.hex(),
        }
    ]
    manifest["consistency"] = []
    for event in manifest["events"]:
        event["inclusion"] = {
            "checkpoint": 1,
            "leaf_index": event["seq"],
            "tree_size": size,
            "root_hash": root,
            "proof": [node.hex() for node in tree.inclusion_proof(event["seq"])],
        }
        event["first_signed_by"] = 1
    manifest["ledger_public_key"] = forger_public.hex()
    manifest["ledger_key_id"] = verifier.ledger_key_id(forger_public.hex())
    # Re-encrypted to the recipient named in the manifest itself.
    encryption = manifest["bundle"]["encryption"]
    recipient = bytes.fromhex(encryption["recipient_public_key"])
    ephemeral = x25519.X25519PrivateKey.generate()
    ephemeral_raw = verifier.x25519_raw(ephemeral.public_key())
    salt = secrets.token_bytes(32)
    key = verifier.bundle_key_x25519(
        ephemeral.exchange(x25519.X25519PublicKey.from_public_bytes(recipient)),
        salt,
        ephemeral_raw,
        recipient,
    )
    encryption.update(salt=salt.hex(), ephemeral_public_key=ephemeral_raw.hex())
    if report_pdf is not None:
        members["report.pdf"] = report_pdf
        forged_signature = verifier.pdf_signature_check(report_pdf)
        manifest["bundle"]["report"].update(
            sha256=hashlib.sha256(report_pdf).hexdigest(),
            signer_subject=forged_signature.subject,
            signer_certificate_sha256=forged_signature.certificate_sha256,
        )
    for entry in manifest["bundle"]["files"]:
        if entry["role"] == "original":
            sealed = io.BytesIO()
            file_salt = secrets.token_bytes(16)
            verifier.encrypt_stream(
                iter([replaced[entry["item"]]]), sealed, verifier.file_key(key, file_salt, entry["path"])
            )
            members[entry["path"]] = sealed.getvalue()
            entry["file_salt"] = file_salt.hex()
    sums_entry = next(e for e in manifest["bundle"]["files"] if e["role"] == "checksums")
    others = [e for e in manifest["bundle"]["files"] if e is not sums_entry]
    for entry in others:
        entry.update(
            sha256=hashlib.sha256(members[entry["path"]]).hexdigest(), size=len(members[entry["path"]])
        )
    members["SHA256SUMS"] = "".join(f"{e['sha256']}  {e['path']}\n" for e in others).encode()
    sums_entry.update(
        sha256=hashlib.sha256(members["SHA256SUMS"]).hexdigest(), size=len(members["SHA256SUMS"])
    )
    members["manifest.json"] = _dumps(manifest)
    members["manifest.json.sig"] = forger.sign(members["manifest.json"])
    with zipfile.ZipFile(target, "w") as out:
        for name, data in members.items():
            out.writestr(name, data)
    return target


def failures(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("FAIL")]


def test_default_command_refuses_an_unanchored_forgery(tmp_path: Path, pii_calls: Any, settings: Any) -> None:
    _, genuine = export_with_real_report(tmp_path, settings)
    forged = forge(genuine.path, tmp_path / "forged.zip")
    code, output = run_verifier(forged, "--key", str(genuine.recipient_key))
    # Every other check holds (the forgery is complete, the originals decrypt to what its manifest says):
    # the one failure is that nothing anchors it.
    assert code == 1, output
    assert [line.split("]")[0] for line in failures(output)] == ["FAIL  [anchor"], output
    assert "the bundle is NOT anchored" in output and "decrypts to the original of item" in output
    # The genuine bundle is refused the same way without an anchor: the default way of verifying needs one.
    code, output = run_verifier(genuine.path, "--key", str(genuine.recipient_key))
    assert code == 1 and "the bundle is NOT anchored" in output


def test_pinned_ledger_key_refuses_the_forgery_and_passes_the_genuine(
    tmp_path: Path, pii_calls: Any, settings: Any
) -> None:
    _, genuine = export_with_real_report(tmp_path, settings)
    forged = forge(genuine.path, tmp_path / "forged.zip")
    key = ledger_key()
    code, output = run_verifier(genuine.path, "--key", str(genuine.recipient_key), "--ledger-key", key)
    assert code == 0 and "the bundle verifies and is anchored" in output, output
    assert f"anchor the ledger key given with --ledger-key (key id {verifier.ledger_key_id(key)})" in output
    code, output = run_verifier(forged, "--key", str(genuine.recipient_key), "--ledger-key", key)
    assert code == 1 and "not the trusted key" in output and "[manifest.json.sig]" in output, output
    # The key may also come as a file: hex, or a PEM Ed25519 public key.
    pem = tmp_path / "ledger.pem"
    pem.write_bytes(
        ed25519.Ed25519PublicKey.from_public_bytes(bytes.fromhex(key)).public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    (tmp_path / "ledger.hex").write_text(key + "\n")
    for form in (pem, tmp_path / "ledger.hex"):
        assert run_verifier(genuine.path, "--ledger-key", str(form))[0] == 0
        assert run_verifier(forged, "--ledger-key", str(form))[0] == 1
    (tmp_path / "junk.key").write_bytes(b"not a key")
    code, output = run_verifier(genuine.path, "--ledger-key", str(tmp_path / "junk.key"))
    assert code == 2 and "neither 64 hex digits" in output


def test_agency_certificate_anchors_through_the_signed_report(
    tmp_path: Path, pii_calls: Any, settings: Any
) -> None:
    _, genuine = export_with_real_report(tmp_path, settings)
    forged = forge(genuine.path, tmp_path / "forged.zip")
    agency = ["--agency-cert", str(genuine.ca_pem)]
    code, output = run_verifier(genuine.path, "--key", str(genuine.recipient_key), *agency)
    assert code == 0, output
    assert "every item's hashes equal those in the agency-signed report's manifest" in output
    assert "the agency-signed report's checkpoint" in output and "anchor the report signed by" in output
    code, output = run_verifier(forged, "--key", str(genuine.recipient_key), *agency)
    assert code == 1, output
    assert "differ from the agency-signed report's" in output  # the originals' hashes
    assert "the agency-signed report names" in output  # the forger's ledger key
    assert "is not in the bundle" in output  # the forger's checkpoint
    # Another CA's certificate does not anchor the genuine bundle either.
    stranger = tmp_path / "stranger.pem"
    stranger.write_bytes(make_ca("Some Other Root CA").pem)
    code, output = run_verifier(genuine.path, "--agency-cert", str(stranger))
    assert code == 1 and "neither the certificate given with --agency-cert nor issued by it" in output


def _resigned_report(tmp: Path, forged_bundle: Path) -> bytes:
    """A report embedding the forged manifest as real ones do, signed by a certificate of the forger's."""
    with zipfile.ZipFile(forged_bundle) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    manifest.pop("bundle")
    attached = io.BytesIO()
    with pikepdf.Pdf.open(io.BytesIO(one_page_pdf("Exhibit report E-001, E-002"))) as pdf:
        pdf.attachments["manifest.json"] = pikepdf.AttachedFileSpec(
            pdf, _dumps(manifest), filename="manifest.json", mime_type="application/json"
        )
        pdf.save(attached)
    files = make_signer(make_ca("Forger Root CA"), tmp / "forger", common_name="Forger Unit", passphrase=None)
    return pades_signed(attached.getvalue(), key=files.key, cert=files.cert)


def test_a_report_re_signed_by_another_certificate_is_refused(
    tmp_path: Path, pii_calls: Any, settings: Any
) -> None:
    _, genuine = export_with_real_report(tmp_path, settings)
    first = forge(genuine.path, tmp_path / "first.zip")
    report = _resigned_report(tmp_path, first)
    assert json.loads(verifier.pdf_embedded_manifest(report))[
        "items"
    ]  # the forged report carries its manifest
    forged = forge(genuine.path, tmp_path / "forged.zip", report_pdf=report)
    code, output = run_verifier(
        forged, "--key", str(genuine.recipient_key), "--agency-cert", str(genuine.ca_pem)
    )
    assert code == 1, output
    assert (
        "Forger" in output and "neither the certificate given with --agency-cert nor issued by it" in output
    )
    assert "the bundle is NOT anchored" in output


def test_the_development_signer_never_anchors(tmp_path: Path, pii_calls: Any, settings: Any) -> None:
    _, genuine = export_with_real_report(tmp_path, settings, agency=False)
    dev_cert = Path(django_settings.DATA_DIR) / "keys" / DEV_SIGNER_CERT_NAME
    assert dev_cert.is_file()
    code, output = run_verifier(genuine.path, "--agency-cert", str(dev_cert))
    assert code == 2 and "development signer" in output and "anchors nothing" in output
    # Whatever agency certificate is given, a report the development signer signed vouches for nothing.
    code, output = run_verifier(genuine.path, "--agency-cert", str(genuine.ca_pem))
    assert code == 1 and "is signed by the development signer" in output, output
    assert run_verifier(genuine.path, "--ledger-key", ledger_key())[0] == 0


def test_the_reports_checkpoint_travels_with_a_later_bundle(
    tmp_path: Path, pii_calls: Any, settings: Any
) -> None:
    """A report signed at one tree head, a bundle proving against a later one: the bundle links the two."""
    from exhibits.bundles import bundle_export, bundle_request
    from exhibits.models import Report
    from exhibits.reports.services import report_generate, report_request

    ca = make_ca()
    use_signer(settings, make_signer(ca, tmp_path / "signer"))
    s = scenario(tmp_path)
    report = report_generate(
        report=report_request(
            case=s.t.case, exhibit_numbers=["E-001", "E-002"], language="en", actor=s.t.lead
        )
    )
    signed_head = json.loads(verifier.pdf_embedded_manifest(b"".join(_report_bytes(report))))["checkpoints"][
        -1
    ]
    victim(team())  # the ledger grows and a newer checkpoint signs it before the export
    checkpoint_create()
    private, public = x25519_pair(tmp_path / "keys", "pem")
    bundle = bundle_request(case=s.t.case, exhibit_numbers=["E-001", "E-002"], recipient="P", actor=s.t.lead)
    out = tmp_path / "later.zip"
    bundle_export(
        bundle=bundle,
        out=out,
        recipient_public_key=public.read_bytes(),
        passphrase=None,
        report=Report.objects.get(pk=report.pk),
    )
    with zipfile.ZipFile(out) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert signed_head["id"] in [c["id"] for c in manifest["checkpoints"]]
    assert max(c["tree_size"] for c in manifest["checkpoints"]) > signed_head["tree_size"]
    ca_pem = tmp_path / "ca.pem"
    ca_pem.write_bytes(ca.pem)
    code, output = run_verifier(out, "--key", str(private), "--agency-cert", str(ca_pem))
    assert code == 0, output
    assert (
        f"the agency-signed report's checkpoint (size {signed_head['tree_size']}) is in the bundle" in output
    )


def _report_bytes(report: Any) -> list[bytes]:
    from evidence.vault import read_verified

    return list(read_verified(report.sha256))
