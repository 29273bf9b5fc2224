"""evidence.bundle, the standalone verifier: no Django, the same proofs as evidence.merkle, key formats,
and the failures of proofs and chains inside a real bundle."""

import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from evidence import bundle as verifier
from evidence import merkle
from evidence.ledger import checkpoint_create
from evidence.models import EvidenceItem
from haetae.errors import IntegrityFailure
from tests.exhibits.test_bundles import edit_manifest, export, hex_flip, ledger_key, rewrite, run_verifier
from tests.factories import pii_calls, scenario, signed_pdf, team, victim, x25519_pair

__all__ = ["pii_calls"]

REPO = Path(__file__).resolve().parents[2]
# Run the copied file with every Haetae package and Django refused at import time, from an isolated -I
# interpreter whose path holds only the copy's directory and the standard library and site-packages.
ISOLATED = """
import runpy, sys
FORBIDDEN = {"django", "evidence", "haetae", "access", "parties", "support", "exhibits", "detection",
             "portal", "pyhanko", "asn1crypto", "rest_framework"}
class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in FORBIDDEN:
            raise ImportError(f"the verifier must not import {name}")
        return None
sys.meta_path.insert(0, Refuse())
sys.path[:] = [sys.argv[1]] + [
    p for p in sys.path if p and (not p.startswith(sys.argv[2]) or p.startswith(sys.prefix))
]  # the checkout is off the path; the virtual environment's site-packages (which may sit inside it) stay
sys.argv = [sys.argv[3]] + sys.argv[4:]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
except SystemExit as exc:
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in FORBIDDEN)
    print("LOADED", loaded)
    raise
"""


@pytest.mark.django_db
def test_the_copied_file_runs_alone_without_django(tmp_path: Path, pii_calls: Any) -> None:
    s = scenario(tmp_path)
    path, private = export(s, tmp_path)
    alone = tmp_path / "defence"
    alone.mkdir()
    copy = alone / "bundle.py"
    shutil.copy(REPO / "evidence" / "bundle.py", copy)
    args = [sys.executable, "-I", "-c", ISOLATED, str(alone), str(REPO), str(copy)]
    env = {"PATH": os.environ.get("PATH", "")}
    done = subprocess.run(
        [*args, str(path), "--key", str(private), "--ledger-key", ledger_key()],
        capture_output=True,
        text=True,
        env=env,
        cwd=alone,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "the bundle verifies" in done.stdout and "LOADED []" in done.stdout
    tampered = rewrite(path, tmp_path / "t.zip", "README.txt", lambda d: d + b" ")
    done = subprocess.run([*args, str(tampered)], capture_output=True, text=True, env=env, cwd=alone)
    assert done.returncode == 1 and "[README.txt]" in done.stdout
    done = subprocess.run([*args], capture_output=True, text=True, env=env, cwd=alone)
    assert done.returncode == 2


def test_proofs_of_evidence_merkle_check_out() -> None:
    for size in range(1, 70):
        leaves = [merkle.leaf_hash(str(i).encode()) for i in range(size)]
        tree = merkle.MerkleTree(leaves)
        for index in range(size):
            proof = tree.inclusion_proof(index)
            assert verifier.verify_inclusion(index, size, leaves[index], proof, tree.root())
            assert (
                not verifier.verify_inclusion(index, size, leaves[(index + 1) % size], proof, tree.root())
                or size == 1
            )
        for old in range(1, size + 1):
            proof = tree.consistency_proof(old)
            assert verifier.verify_consistency(old, size, tree.root(old), tree.root(), proof)
            if proof:
                bad = [hashlib.sha256(proof[0]).digest(), *proof[1:]]
                assert not verifier.verify_consistency(old, size, tree.root(old), tree.root(), bad)


@pytest.mark.parametrize("form", ["pem", "raw", "base64"])
def test_x25519_key_forms(tmp_path: Path, form: str) -> None:
    private, public = x25519_pair(tmp_path, form)
    loaded_private = verifier.load_x25519_private(private.read_bytes())
    loaded_public = verifier.load_x25519_public(public.read_bytes())
    assert verifier.x25519_raw(loaded_private.public_key()) == verifier.x25519_raw(loaded_public)


def test_key_files_that_are_wrong_say_what_is_wrong(tmp_path: Path) -> None:
    private, public = x25519_pair(tmp_path, "pem")
    with pytest.raises(verifier.KeyFileError, match="PEM private key; give the public key"):
        verifier.load_x25519_public(private.read_bytes())
    with pytest.raises(verifier.KeyFileError, match="PEM public key; give the private key"):
        verifier.load_x25519_private(public.read_bytes())
    ed = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(verifier.KeyFileError, match="not an X25519 key"):
        verifier.load_x25519_public(ed)
    with pytest.raises(verifier.KeyFileError, match="holds 5 bytes"):
        verifier.load_x25519_public(b"short")
    with pytest.raises(verifier.KeyFileError, match="holds 45 bytes"):
        verifier.load_x25519_public(base64.b64encode(os.urandom(33)) + b"\n")


def test_encryption_streams_and_detects_truncation() -> None:
    key = os.urandom(32)
    for size in (0, 1, verifier.CHUNK_SIZE, verifier.CHUNK_SIZE + 1, 2 * verifier.CHUNK_SIZE):
        data = os.urandom(size)
        sealed = io.BytesIO()
        verifier.encrypt_stream(iter([data[:7], data[7:]]), sealed, key)
        assert b"".join(verifier.decrypt_stream(io.BytesIO(sealed.getvalue()), key)) == data
        if size > verifier.CHUNK_SIZE:  # dropping the last chunk leaves a non-final chunk last: refused
            cut = len(verifier.ENC_MAGIC) + verifier.CHUNK_SIZE + verifier.TAG_SIZE
            with pytest.raises(verifier.InvalidTag):
                b"".join(verifier.decrypt_stream(io.BytesIO(sealed.getvalue()[:cut]), key))


@pytest.mark.django_db
def test_broken_chain_and_consistency_proof_are_named(tmp_path: Path, pii_calls: Any) -> None:
    s = scenario(tmp_path)
    checkpoint_create()  # the exhibits' events are first signed by this checkpoint ...
    victim(team())  # ... later ones extend the ledger and a newer checkpoint signs them,
    checkpoint_create()  # so the bundle proves against the newer one and carries a consistency proof
    path, private = export(s, tmp_path)
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert run_verifier(path, "--key", str(private), "--ledger-key", ledger_key())[0] == 0
    [consistency] = manifest["consistency"]
    part = f"[consistency {consistency['old_checkpoint']}->{consistency['new_checkpoint']}]"

    def proof_node(m: dict[str, Any]) -> None:
        m["consistency"][0]["proof"][0] = hex_flip(m["consistency"][0]["proof"][0])

    code, output = run_verifier(rewrite(path, tmp_path / "c.zip", "manifest.json", edit_manifest(proof_node)))
    assert code == 1 and part in output and "no valid consistency proof" in output
    big = s.items[1].pk
    dropped = [e["seq"] for e in manifest["events"] if e["item"] == big][1]

    def drop_event(m: dict[str, Any]) -> None:
        m["events"] = [e for e in m["events"] if e["seq"] != dropped]

    code, output = run_verifier(rewrite(path, tmp_path / "d.zip", "manifest.json", edit_manifest(drop_event)))
    assert code == 1 and f"[item {big}] custody chain broken" in output


@pytest.mark.django_db
def test_pinned_ledger_key(tmp_path: Path, pii_calls: Any) -> None:
    s = scenario(tmp_path)
    path, _ = export(s, tmp_path)
    with zipfile.ZipFile(path) as zf:
        key = json.loads(zf.read("manifest.json"))["ledger_public_key"]
    code, output = run_verifier(path, "--ledger-key", key)
    assert code == 0 and "NOT anchored" not in output
    other = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        .hex()
    )
    code, output = run_verifier(path, "--ledger-key", other)
    assert code == 1 and "[manifest.json.sig]" in output and "not the trusted key" in output


@pytest.mark.django_db
def test_a_manifest_of_the_wrong_shape_fails_cleanly(tmp_path: Path, pii_calls: Any) -> None:
    s = scenario(tmp_path)
    path, _ = export(s, tmp_path)
    shapes = [
        lambda m: m.update(bundle=[]),
        lambda m: m.update(events=["x", 3]),
        lambda m: m.update(checkpoints="nope"),
        lambda m: m["bundle"].update(files=[{"path": 1}]),
        lambda m: m["bundle"].update(report=None),
        lambda m: m["events"][0].update(inclusion=[]),
        lambda m: m["bundle"].update(files=[f for f in m["bundle"]["files"] if f["role"] != "original"]),
    ]
    for number, shape in enumerate(shapes):
        code, output = run_verifier(
            rewrite(path, tmp_path / f"s{number}.zip", "manifest.json", edit_manifest(shape))
        )
        assert code == 1 and "[manifest.json" in output, output
        assert "Traceback" not in output


@pytest.mark.parametrize("key_type", ["rsa", "ec"])
def test_pades_check_of_a_pyhanko_signature(tmp_path: Path, key_type: str) -> None:
    pdf, fingerprint = signed_pdf(tmp_path, key_type=key_type)
    signature = verifier.pdf_signature_check(pdf)
    assert signature.certificate_sha256 == fingerprint
    assert "Haetae Test Agency Signer" in signature.subject
    a, b, c, _d = signature.byte_range
    # A byte changed inside the signed ranges: the messageDigest no longer matches.
    at = pdf.index(b"/Producer")
    with pytest.raises(ValueError, match="messageDigest"):
        verifier.pdf_signature_check(pdf[:at] + b"/Producex" + pdf[at + 9 :])
    # The signature value itself altered (the signed ranges untouched): it no longer verifies.
    cms = bytes.fromhex(pdf[a + b + 1 : c - 1].decode())
    content_info, _ = verifier.der_read(cms)
    signed_data = verifier.der_children(verifier.der_children(content_info)[1])[0]
    signer_info = verifier.der_children([n for n in verifier.der_children(signed_data) if n.tag == 0x31][-1])[
        0
    ]
    value = verifier.der_children(signer_info)[5].content
    forged_value = value[:-1] + bytes([value[-1] ^ 0x01])
    forged = cms.replace(value, forged_value)
    forged_pdf = pdf[: a + b + 1] + forged.hex().encode() + pdf[c - 1 :]
    assert len(forged_pdf) == len(pdf)
    with pytest.raises(ValueError, match="does not verify with the signer certificate"):
        verifier.pdf_signature_check(forged_pdf)
    # Bytes appended after signing are outside the signature.
    with pytest.raises(ValueError, match="does not cover the whole file"):
        verifier.pdf_signature_check(pdf + b"%extra\n")
    with pytest.raises(ValueError, match="no signature"):
        verifier.pdf_signature_check(b"%PDF-1.7\n%%EOF\n")


def test_encryption_and_decryption_stream_in_flat_memory(tmp_path: Path) -> None:
    """24 MiB through encrypt and decrypt with a peak of a few chunks: no file is held whole."""
    import tracemalloc

    key = os.urandom(32)
    block = os.urandom(verifier.CHUNK_SIZE)
    count = 24
    sealed_path = tmp_path / "sealed.enc"
    tracemalloc.start()
    try:
        with sealed_path.open("wb") as sealed:
            verifier.encrypt_stream((block for _ in range(count)), sealed, key)
        _, encrypt_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        digest = hashlib.sha256()
        with sealed_path.open("rb") as source:
            for chunk in verifier.decrypt_stream(source, key):
                digest.update(chunk)
        _, decrypt_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    expected = hashlib.sha256()
    for _ in range(count):
        expected.update(block)
    assert digest.hexdigest() == expected.hexdigest()
    assert encrypt_peak < 6 * verifier.CHUNK_SIZE, encrypt_peak
    assert decrypt_peak < 6 * verifier.CHUNK_SIZE, decrypt_peak


@pytest.mark.django_db
def test_an_item_without_its_original_is_named(tmp_path: Path, pii_calls: Any) -> None:
    s = scenario(tmp_path)
    path, _ = export(s, tmp_path)
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    dropped = next(f for f in manifest["bundle"]["files"] if f["role"] == "original")

    def drop(m: dict[str, Any]) -> None:
        m["bundle"]["files"] = [f for f in m["bundle"]["files"] if f["path"] != dropped["path"]]

    with zipfile.ZipFile(path) as source, zipfile.ZipFile(tmp_path / "dropped.zip", "w") as copy:
        for info in source.infolist():
            if info.filename == dropped["path"]:
                continue
            data = source.read(info.filename)
            copy.writestr(info, edit_manifest(drop)(data) if info.filename == "manifest.json" else data)
    code, output = run_verifier(tmp_path / "dropped.zip")
    assert code == 1 and f"[item {dropped['item']}] has 0 encrypted originals" in output


@pytest.mark.django_db
def test_an_export_after_an_item_record_was_rewritten_is_refused(tmp_path: Path, pii_calls: Any) -> None:
    s = scenario(tmp_path)
    photo = s.items[0]
    EvidenceItem.objects.filter(pk=photo.pk).update(original_name="holiday.jpg")
    with pytest.raises(IntegrityFailure) as refused:
        export(s, tmp_path)
    assert f"item {photo.pk}'s database record no longer matches its `acquired` custody event" in str(
        refused.value
    )
    # The ledger holds the name only as a salted hash: the refusal names the field, quoting neither value.
    assert "original_name is not the value recorded at acquisition" in str(refused.value)
    assert "astronaut" not in str(refused.value)
    assert not (tmp_path / "out" / "bundle.zip").exists()


@pytest.mark.django_db
def test_the_verifier_holds_manifest_items_to_their_acquired_leaf(tmp_path: Path, pii_calls: Any) -> None:
    s = scenario(tmp_path)
    path, _private = export(s, tmp_path)
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert {"name", "path", "source", "acquired_at", "acquired_by", "seizure_reference"} <= set(
        manifest["items"][0]
    )
    photo = s.items[0].pk

    def rename(m: dict[str, Any]) -> None:
        next(i for i in m["items"] if i["id"] == photo)["name"] = "holiday.jpg"

    code, output = run_verifier(rewrite(path, tmp_path / "n.zip", "manifest.json", edit_manifest(rename)))
    assert code == 1
    assert (
        f"[item {photo}] its name in the manifest ('holiday.jpg') is not what its 'acquired' custody event "
        "recorded at seizure (SHA-256 of the salt and the value is "
    ) in output


def test_the_verifier_commits_to_facts_as_the_ledger_does() -> None:
    from evidence.records import fact_commitment

    salt = os.urandom(32)
    for value in ["김지수.jpg", '/evidence/a b/"q".jpg', "", ["witness W-1", "참관인"], "00ff"]:
        assert verifier.fact_commitment(salt, value) == fact_commitment(salt.hex(), value)
    assert verifier.fact_commitment(salt, "a") != verifier.fact_commitment(os.urandom(32), "a")


@pytest.mark.django_db
def test_a_bundle_holds_identifying_facts_only_as_hashes_its_salt_reopens(
    tmp_path: Path, pii_calls: Any
) -> None:
    s = scenario(tmp_path)
    path, _private = export(s, tmp_path)
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    photo = s.items[0].pk
    item = next(i for i in manifest["items"] if i["id"] == photo)
    [acquired] = [
        json.loads(e["leaf_data"])
        for e in manifest["events"]
        if e["item"] == photo and e["action"] == "acquired"
    ]
    leaves = "".join(e["leaf_data"] for e in manifest["events"])
    assert item["name"] not in leaves and item["path"] not in leaves
    salt = bytes.fromhex(item["record_salt"])
    for field, key in (
        ("name", "original_name"),
        ("path", "original_path"),
        ("path_raw", "original_path_raw"),
    ):
        assert acquired["details"][f"{key}_sha256"] == verifier.fact_commitment(salt, item[field])

    def resalt(m: dict[str, Any]) -> None:
        next(i for i in m["items"] if i["id"] == photo)["record_salt"] = os.urandom(32).hex()

    code, output = run_verifier(rewrite(path, tmp_path / "s.zip", "manifest.json", edit_manifest(resalt)))
    assert code == 1
    for field in ("name", "path", "path_raw", "source"):
        assert f"[item {photo}] its {field} in the manifest (" in output

    def unsalt(m: dict[str, Any]) -> None:
        del next(i for i in m["items"] if i["id"] == photo)["record_salt"]

    code, output = run_verifier(rewrite(path, tmp_path / "u.zip", "manifest.json", edit_manifest(unsalt)))
    assert code == 1
    assert f"[item {photo}] its name, path, path_raw, source cannot be checked" in output
    assert "manifest gives no record_salt" in output
