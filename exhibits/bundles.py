"""Export bundles for the prosecutor: request, build (ZIP: signed manifest, report, encrypted originals).

A bundle holds ``manifest.json`` (``exhibits.manifest.exhibit_manifest`` plus the list of every file with its
SHA-256), ``manifest.json.sig`` (a detached Ed25519 signature by the ledger key), the signed report PDF,
each original encrypted to the recipient (X25519 + HKDF-SHA256 + AES-256-GCM, or a scrypt passphrase), a
``SHA256SUMS`` for ``sha256sum -c`` and ``README.txt``. ``evidence/bundle.py`` verifies it offline.

The manifest is signed with the ledger key rather than the agency's PDF certificate: it is the key a
verifier must already trust for the checkpoints, it is a bare Ed25519 key that ``openssl pkeyutl`` checks
without certificate handling, and it signs what the ledger asserts; the agency's certificate signs the PDF.

The ZIP is stored in the vault so downloads can be repeated (each one logged as ``bundle_downloaded``); its
``exported`` item events and the ``bundle_created`` case event commit in one transaction with the row.
"""

import base64
import hashlib
import json
import secrets
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from access.models import Case
from access.policy import Action, case_access_role, role_may, shared_only
from evidence import bundle as bundlefmt
from evidence import crypto
from evidence.choices import CustodyAction
from evidence.custody import EventSpec, custody_append_many
from evidence.ledger import checkpoint_get, checkpoint_summary
from evidence.models import Checkpoint, EvidenceItem
from evidence.vault import WorkDir, blob_commit, read_verified
from exhibits.choices import ExhibitStatus, ReportStatus
from exhibits.manifest import consistency_entry, exhibit_manifest
from exhibits.models import Exhibit, ExportBundle, Report
from exhibits.reports import pii
from exhibits.reports.services import report_generate, report_request
from haetae.db import ledger_transaction
from haetae.errors import AccessDenied, HaetaeError, IntegrityFailure, NotFound, RejectedInput
from haetae.toolkit import task_queue_on_commit, utc_iso
from sources.selectors import item_source_provenance

# A bundle goes to the prosecutor: only exhibits shared with them (approved by a supervisor, then shared).
EXPORTABLE_STATUSES = frozenset({ExhibitStatus.SHARED})
MIN_PASSPHRASE_LENGTH = 12
# scrypt cost: 2**17 × 8 × 128 bytes = 128 MiB and about half a second, once per bundle.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1
REPORT_NAME = "report.pdf"
README_NAME = "README.txt"
SUMS_NAME = "SHA256SUMS"
VERIFIER_NAME = "verify/bundle.py"


def _role(*, case: Case, actor: User) -> str:
    role = case_access_role(user=actor, case_id=case.pk)
    if role is None:
        raise NotFound(f"no case {case.number} among your cases: ask its lead to add you to the team")
    return role


def bundle_request(
    *, case: Case, exhibit_numbers: Sequence[str], recipient: str, actor: User
) -> ExportBundle:
    """Queue an export of approved or shared exhibits for a named recipient (lead or investigator)."""
    role = _role(case=case, actor=actor)
    if not role_may(role, Action.BUNDLE_EXPORT):
        raise AccessDenied(
            f"your role on case {case.number} is {role}; only the lead or an investigator exports bundles"
        )
    recipient = (recipient or "").strip()
    if not recipient:
        raise RejectedInput("recipient: name who receives the bundle (e.g. the prosecutor's office and name)")
    if len(recipient) > 300:
        raise RejectedInput("recipient: at most 300 characters")
    numbers = list(dict.fromkeys(n.strip().upper() for n in exhibit_numbers if n.strip()))
    if not numbers:
        raise RejectedInput("exhibits: name at least one exhibit, e.g. --exhibits E-001,E-002")
    found = {e.number: e for e in Exhibit.objects.filter(case=case, number__in=numbers)}
    missing = [n for n in numbers if n not in found]
    if missing:
        raise RejectedInput(f"exhibits: case {case.number} has no exhibit {', '.join(missing)}")
    unready = [f"{n} ({found[n].status})" for n in numbers if found[n].status not in EXPORTABLE_STATUSES]
    if unready:
        raise RejectedInput(
            f"exhibits: {', '.join(unready)} not shared with the prosecutor: a supervisor approves an "
            "exhibit and the lead shares it before it is exported"
        )
    with transaction.atomic():
        bundle = ExportBundle.objects.create(
            case=case, scope=numbers, recipient=recipient, requested_by=actor, status=ReportStatus.QUEUED
        )
        bundle.exhibits.set([found[n] for n in numbers])
    return bundle


class _HashingWriter:
    """Counts and hashes what passes into a ZIP member."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out, self.digest, self.size = out, hashlib.sha256(), 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.out.write(data)


def _add_listed(
    zf: zipfile.ZipFile, files: list[dict[str, Any]], *, path: str, role: str, data: bytes
) -> None:
    """Write a small file into the bundle (deflated) and list it with its SHA-256 and size."""
    zf.writestr(path, data, compress_type=zipfile.ZIP_DEFLATED)
    files.append({"path": path, "role": role, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)})


def _safe_name(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name)[:80].strip("._")
    return cleaned or "original"


def _recipient_key(public_key: bytes) -> bundlefmt.x25519.X25519PublicKey:
    try:
        return bundlefmt.load_x25519_public(public_key)
    except bundlefmt.KeyFileError as exc:
        raise RejectedInput(f"recipient key: {exc}") from None


def bundle_secret_check(*, recipient_public_key: bytes | None, passphrase: str | None) -> None:
    """Refuse a recipient key file of the wrong form or a short passphrase before any work is done."""
    if (recipient_public_key is None) == (passphrase is None):
        raise RejectedInput(
            "give exactly one of a recipient public key (X25519) or a passphrase to encrypt the originals"
        )
    if recipient_public_key is not None:
        _recipient_key(recipient_public_key)
    elif passphrase is not None and len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise RejectedInput(
            f"passphrase: at least {MIN_PASSPHRASE_LENGTH} characters (it is all that protects the "
            "originals); give it to the recipient out of band"
        )


def _encryption(
    recipient_public_key: bytes | None, passphrase: str | None
) -> tuple[bytes, dict[str, Any], str]:
    """(bundle key, the manifest's encryption entry, the row's recipient_key label)."""
    bundle_secret_check(recipient_public_key=recipient_public_key, passphrase=passphrase)
    salt = secrets.token_bytes(32)
    if recipient_public_key is not None:
        recipient = bundlefmt.x25519_raw(_recipient_key(recipient_public_key))
        ephemeral = bundlefmt.x25519.X25519PrivateKey.generate()
        ephemeral_raw = bundlefmt.x25519_raw(ephemeral.public_key())
        shared = ephemeral.exchange(bundlefmt.x25519.X25519PublicKey.from_public_bytes(recipient))
        key = bundlefmt.bundle_key_x25519(shared, salt, ephemeral_raw, recipient)
        entry = {
            "scheme": bundlefmt.SCHEME_X25519,
            "salt": salt.hex(),
            "ephemeral_public_key": ephemeral_raw.hex(),
            "recipient_public_key": recipient.hex(),
            "chunk_size": bundlefmt.CHUNK_SIZE,
        }
        return key, entry, f"x25519:{hashlib.sha256(recipient).hexdigest()}"
    assert passphrase is not None
    key = bundlefmt.bundle_key_scrypt(passphrase.encode(), salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    entry = {
        "scheme": bundlefmt.SCHEME_SCRYPT,
        "salt": salt.hex(),
        "n": SCRYPT_N,
        "r": SCRYPT_R,
        "p": SCRYPT_P,
        "chunk_size": bundlefmt.CHUNK_SIZE,
    }
    return key, entry, "passphrase"


def _readme(
    *, case: Case, numbers: Sequence[str], encryption: dict[str, Any], key_id: str, files: int
) -> str:
    how_to_open = (
        "with the X25519 private key whose public half is\n"
        f"  {encryption.get('recipient_public_key')}\n"
        "  python3 verify/bundle.py THIS.zip --ledger-key KEYHEX --key recipient.key --extract originals/"
        if encryption["scheme"] == bundlefmt.SCHEME_X25519
        else "with the passphrase given to you out of band (put it in a file, one line):\n"
        "  python3 verify/bundle.py THIS.zip --ledger-key KEYHEX --passphrase-file passphrase.txt "
        "--extract originals/"
    )
    return f"""HAETAE EXPORT BUNDLE — case {case.number}, exhibits {", ".join(numbers)}
해태 증거 내보내기 묶음 — 사건 {case.number}, 증거물 {", ".join(numbers)}

이 ZIP에는 형사사건의 증거가 들어 있습니다. 원본 파일은 암호화되어 있으며, 법령과 소속 기관의 규정이
허용하는 범위에서만 여십시오. 피해자는 가명(V-1, V-2 …)으로만 표시됩니다.
검증 순서(자세한 설명은 아래 영문과 docs/export-bundle.md): ① 원장(ledger) 공개키를 기관으로부터 이 ZIP과
별도로 받아 key id를 대조 ② openssl로 manifest.json 서명 확인 ③ sha256sum -c SHA256SUMS
④ pdfsig report.pdf ⑤ python3 verify/bundle.py THIS.zip --ledger-key KEYHEX 로 모든 해시·증명·서명
확인(KEYHEX는 ①에서 별도로 받은 공개키; 또는 기관 인증서로 --agency-cert agency.pem; 원본 복호화는 --key).
둘 중 하나가 없으면 검증기는 "NOT anchored"(외부 기준 없음)로 거부합니다: ZIP 안의 키만으로는 위조된 묶음도
모든 검사를 통과할 수 있기 때문입니다.

This ZIP holds evidence of a criminal case. The originals are encrypted; open them only as the law and
your office's rules allow. Victims are named only by pseudonym (V-1, V-2, ...).

Contents
  manifest.json       what the bundle holds: exhibits, items with the hashes taken at acquisition
                      (SHA-256, MD5, SHA-1), every custody event with its leaf data and hash, Merkle
                      inclusion and consistency proofs, the signed ledger checkpoints, the ledger's
                      public key, and the SHA-256 of every other file here
  manifest.json.sig   Ed25519 signature of manifest.json (64 raw bytes) by the ledger key
  report.pdf          the exhibit report, PDF/A-3, signed (PAdES) with the agency certificate
  originals/*.enc     {files} original file(s), encrypted (AES-256-GCM; see docs/export-bundle.md)
  verify/bundle.py    a copy of the offline verifier (Haetae's evidence/bundle.py): read it, or compare it
                      with the published one, before you rely on it
  SHA256SUMS          SHA-256 of README.txt, report.pdf, the verifier and the originals, for sha256sum -c
  README.txt          this file

How to verify (every step uses public tools; the full procedure is in docs/export-bundle.md)
1. Get the ledger public key from the agency independently (not from this ZIP). Its key id is
   {key_id} (the first 16 hex digits of SHA-256 of the 32-byte key).
2. Check the manifest signature with OpenSSL 3 (KEYHEX = the 64 hex digits of the public key):
     (printf '302a300506032b6570032100'; echo KEYHEX) | xxd -r -p > ledger.der
     openssl pkey -pubin -inform DER -in ledger.der -out ledger.pem
     openssl pkeyutl -verify -pubin -inkey ledger.pem -rawin -in manifest.json -sigfile manifest.json.sig
3. Check that SHA256SUMS is the one the manifest lists, then every file in it:
     sha256sum SHA256SUMS          (compare with "SHA256SUMS" under bundle.files in manifest.json)
     sha256sum -c SHA256SUMS
4. Check the PDF signature:  pdfsig report.pdf  (poppler), or with OpenSSL alone:
     set -- $(grep -a -o '/ByteRange *\\[[0-9 ]*\\]' report.pdf | tail -1 | tr -dc '0-9 ')
     test $(($3 + $4)) -eq $(wc -c < report.pdf) && echo "signature covers the whole file"
     head -c $2 report.pdf > signed.bin; tail -c +$(($3 + 1)) report.pdf >> signed.bin
     head -c $(($3 - 1)) report.pdf | tail -c +$(($2 + 2)) | xxd -r -p > signature.der
     openssl cms -verify -inform DER -in signature.der -binary -content signed.bin -noverify \\
         -signer signer.pem -out /dev/null
     openssl x509 -in signer.pem -noout -subject -fingerprint -sha256
   Compare the signer certificate with the agency's published one; the manifest records its SHA-256
   under bundle.report.signer_certificate_sha256. (-noverify leaves the certificate chain to you.)
5. Check every custody proof, checkpoint signature and hash chain, the PDF's CMS signature, and (with
   the key) that each original decrypts to exactly the bytes hashed at acquisition, with the verifier
   (one file, Python 3.11+ with the 'cryptography' package only; inside Haetae it is
   'python -m evidence.bundle' or 'manage.py verify_bundle'):
     python3 verify/bundle.py THIS.zip --ledger-key KEYHEX
   or, with the agency's report-signing certificate or CA obtained independently (PEM or DER), so that
   the signed report vouches for the bundle (its embedded manifest must name the same ledger key, item
   hashes and checkpoint as manifest.json; the development signer never does):
     python3 verify/bundle.py THIS.zip --agency-cert agency.pem
   Give one of them: without either the verifier refuses the bundle as NOT anchored (exit 1), because
   a key found inside the ZIP proves nothing — a forger can rebuild every proof under a key of their
   own. It exits 0 when everything holds and the bundle is anchored, and 1 listing each failure.

Opening the originals: {how_to_open}
"""


def _pdf_text(pdf_path: Path) -> str:
    """The report's text for the PII scan (poppler's pdftotext; the report was scanned when made too)."""
    tool = shutil.which("pdftotext")
    if tool is None:
        return ""
    done = subprocess.run(
        [tool, "-q", "-enc", "UTF-8", str(pdf_path), "-"], capture_output=True, timeout=300, check=False
    )
    return done.stdout.decode("utf-8", "replace")


def _pii_scan(*, case: Case, texts: Sequence[str]) -> None:
    pii.pii_scan(case=case, texts=texts)


def _set_progress(bundle: ExportBundle, percent: int) -> None:
    bundle.progress = percent
    ExportBundle.objects.filter(pk=bundle.pk).update(progress=percent)


def _build_zip(
    *,
    bundle: ExportBundle,
    exhibits: list[Exhibit],
    report: Report,
    key: bytes,
    encryption: dict[str, Any],
    target: Path,
    work: Path,
) -> None:
    case = bundle.case
    manifest = exhibit_manifest(case=case, exhibits=exhibits)
    # Where a messenger export or an extraction report placed each item (ids, times, hashes, device paths).
    manifest["source_provenance"] = {
        str(item_id): [row.as_json() for row in rows]
        for item_id, rows in item_source_provenance(i["id"] for i in manifest["items"]).items()
    }
    _set_progress(bundle, 20)
    items = {
        item.pk: item for item in EvidenceItem.objects.filter(pk__in=[i["id"] for i in manifest["items"]])
    }
    files: list[dict[str, Any]] = []
    numbers = [e.number for e in exhibits]
    readme = _readme(
        case=case, numbers=numbers, encryption=encryption, key_id=manifest["ledger_key_id"], files=len(items)
    )
    pdf_copy = work / REPORT_NAME
    with zipfile.ZipFile(target, "w", allowZip64=True) as zf:
        _add_listed(zf, files, path=README_NAME, role="readme", data=readme.encode("utf-8"))
        with zf.open(REPORT_NAME, "w", force_zip64=True) as member, open(pdf_copy, "wb") as copy:
            writer = _HashingWriter(member)
            for chunk in read_verified(report.sha256):
                writer.write(chunk)
                copy.write(chunk)
        files.append(
            {"path": REPORT_NAME, "role": "report", "sha256": writer.digest.hexdigest(), "size": writer.size}
        )
        try:
            signature = bundlefmt.pdf_signature_check(pdf_copy.read_bytes())
        except (ValueError, IndexError) as exc:
            raise IntegrityFailure(
                f"report {report.report_id} v{report.version}'s PAdES signature does not verify ({exc}); "
                "regenerate the report"
            ) from None
        _add_report_checkpoint(manifest, pdf_copy.read_bytes())
        _add_listed(
            zf, files, path=VERIFIER_NAME, role="verifier", data=Path(bundlefmt.__file__).read_bytes()
        )
        _set_progress(bundle, 30)
        for position, entry in enumerate(manifest["items"], start=1):
            item = items[entry["id"]]
            path = f"originals/{position:04d}-item{item.pk}-{_safe_name(item.original_name)}.enc"
            file_salt = secrets.token_bytes(16)
            info = zipfile.ZipInfo(path, date_time=timezone.now().timetuple()[:6])
            info.compress_type = zipfile.ZIP_STORED  # ciphertext does not compress
            with zf.open(info, "w", force_zip64=True) as member:
                writer = _HashingWriter(member)
                bundlefmt.encrypt_stream(
                    read_verified(entry["sha256"]),
                    writer,
                    bundlefmt.file_key(key, file_salt, path),
                )
            files.append(
                {
                    "path": path,
                    "role": "original",
                    "item": item.pk,
                    "file_salt": file_salt.hex(),
                    "sha256": writer.digest.hexdigest(),
                    "size": writer.size,
                }
            )
            _set_progress(bundle, 30 + 60 * position // max(len(items), 1))
        sums = "".join(f"{f['sha256']}  {f['path']}\n" for f in files).encode()
        _add_listed(zf, files, path=SUMS_NAME, role="checksums", data=sums)
        manifest["bundle"] = {
            "id": bundle.pk,
            "created_at": utc_iso(timezone.now()),
            "recipient": bundle.recipient,
            "exhibits": numbers,
            "encryption": encryption,
            "report": {
                "path": REPORT_NAME,
                "report_id": report.report_id,
                "version": report.version,
                "language": report.language,
                "sha256": report.sha256,
                "signer_subject": signature.subject,
                "signer_certificate_sha256": signature.certificate_sha256,
                "development_signer": report.development_signer,
            },
            "files": files,
        }
        manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode("utf-8")
        _pii_scan(
            case=case, texts=[readme, sums.decode(), manifest_bytes.decode("utf-8"), _pdf_text(pdf_copy)]
        )
        zf.writestr(bundlefmt.MANIFEST_NAME, manifest_bytes, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr(
            bundlefmt.SIGNATURE_NAME,
            crypto.ledger_signing_key().sign(manifest_bytes),
            compress_type=zipfile.ZIP_STORED,
        )


def _add_report_checkpoint(manifest: dict[str, Any], pdf: bytes) -> None:
    """Carry the report's newest checkpoint, and a consistency proof from it to the bundle's newest.

    A verifier given the agency's certificate compares the signed report's tree head with the bundle's
    (docs/export-bundle.md); a report without an embedded manifest simply cannot anchor its bundle.
    """
    try:
        embedded = json.loads(bundlefmt.pdf_embedded_manifest(pdf))
    except ValueError:
        return
    signed = [c for c in embedded.get("checkpoints") or [] if isinstance(c.get("tree_size"), int)]
    if not signed:
        return
    head = max(signed, key=lambda c: c["tree_size"])
    if any(c["id"] == head.get("id") for c in manifest["checkpoints"]):
        return
    checkpoint = Checkpoint.objects.filter(
        pk=head.get("id"), tree_size=head["tree_size"], root_hash=head.get("root_hash")
    ).first()
    if checkpoint is None:
        raise IntegrityFailure(
            f"the report's checkpoint {head.get('id')} (size {head['tree_size']}) is not in this ledger: "
            "regenerate the report"
        )
    newest = checkpoint_get(checkpoint_id=manifest["events"][0]["inclusion"]["checkpoint"])
    manifest["checkpoints"] = sorted(
        [*manifest["checkpoints"], checkpoint_summary(checkpoint)], key=lambda c: (c["tree_size"], c["id"])
    )
    manifest["consistency"].append(consistency_entry(old=checkpoint, new=newest))


def _check_report(*, bundle: ExportBundle, exhibits: list[Exhibit], report: Report) -> None:
    if report.case_id != bundle.case_id:
        raise RejectedInput(f"report {report.report_id} belongs to another case")
    if report.status != ReportStatus.DONE or not report.sha256:
        raise RejectedInput(
            f"report {report.report_id} v{report.version} is {report.status}: wait until it is done, then "
            "export"
        )
    covered = set(report.exhibits.values_list("pk", flat=True))
    missing = [e.number for e in exhibits if e.pk not in covered]
    if missing:
        raise RejectedInput(
            f"report {report.report_id} v{report.version} does not cover exhibit {', '.join(missing)}: "
            "generate a report of the bundle's exhibits"
        )


def bundle_export(
    *,
    bundle: ExportBundle,
    out: Path,
    recipient_public_key: bytes | None,
    passphrase: str | None,
    report: Report,
) -> ExportBundle:
    """Build the bundle's ZIP at ``out``, keep a copy in the vault and record it (see the module doc)."""
    out = Path(out)
    bundle = ExportBundle.objects.select_related("case", "requested_by").get(pk=bundle.pk)
    if bundle.status == ReportStatus.DONE:
        raise RejectedInput(f"bundle {bundle.pk} was already exported; request a new one to export again")
    exhibits = sorted(
        bundle.exhibits.all(), key=lambda e: bundle.scope.index(e.number) if e.number in bundle.scope else 0
    )
    try:
        _check_report(bundle=bundle, exhibits=exhibits, report=report)
        key, encryption, recipient_key = _encryption(recipient_public_key, passphrase)
        withdrawn = [e.number for e in exhibits if e.status not in EXPORTABLE_STATUSES]
        if withdrawn:
            raise RejectedInput(
                f"exhibit {', '.join(withdrawn)} is no longer approved or shared: not exported"
            )
        ExportBundle.objects.filter(pk=bundle.pk).update(status=ReportStatus.RUNNING, progress=5, error="")
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=out.parent, prefix=".bundle-") as scratch:
            work = Path(scratch)
            partial = work / "bundle.zip"
            _build_zip(
                bundle=bundle,
                exhibits=exhibits,
                report=report,
                key=key,
                encryption=encryption,
                target=partial,
                work=work,
            )
            _set_progress(bundle, 92)
            with WorkDir() as vault_work, open(partial, "rb") as source:
                staged = vault_work.stage(source)
                sha256, size = staged.digests.sha256, staged.digests.size
                with ledger_transaction():
                    blob_commit(work=vault_work, staged=staged, mime="application/zip")
                    locked = ExportBundle.objects.select_for_update().get(pk=bundle.pk)
                    locked.status = ReportStatus.DONE
                    locked.progress = 100
                    locked.sha256, locked.size = sha256, size
                    locked.report = report
                    locked.recipient_key = recipient_key
                    locked.finished_at = timezone.now()
                    locked.save()
                    _record_export(bundle=locked, exhibits=exhibits, report=report)
            partial.replace(out)
    except HaetaeError as exc:
        ExportBundle.objects.filter(pk=bundle.pk).update(status=ReportStatus.FAILED, error=exc.message)
        raise
    except Exception as exc:
        ExportBundle.objects.filter(pk=bundle.pk).update(
            status=ReportStatus.FAILED, error=f"{type(exc).__name__}: {exc}"
        )
        raise
    return locked


def _record_export(*, bundle: ExportBundle, exhibits: list[Exhibit], report: Report) -> None:
    actor = bundle.requested_by
    numbers = [e.number for e in exhibits]
    item_ids = list(
        dict.fromkeys(
            item_id
            for e in exhibits
            for item_id in e.exhibit_items.order_by("position").values_list("item_id", flat=True)
        )
    )
    common = {"bundle": bundle.pk, "bundle_sha256": bundle.sha256, "exhibits": numbers}
    custody_append_many(
        [
            *(
                EventSpec(
                    case_id=bundle.case_id,
                    item_id=item_id,
                    action=CustodyAction.EXPORTED,
                    actor=actor,
                    to_custodian=bundle.recipient,
                    details=common,
                )
                for item_id in item_ids
            ),
            EventSpec(
                case_id=bundle.case_id,
                action=CustodyAction.BUNDLE_CREATED,
                actor=actor,
                to_custodian=bundle.recipient,
                details={
                    **common,
                    "size": bundle.size,
                    "items": item_ids,
                    "report": report.report_id,
                    "report_version": report.version,
                    "report_sha256": report.sha256,
                    "recipient_key": bundle.recipient_key,
                },
            ),
        ]
    )


def bundle_open(*, bundle: ExportBundle, actor: User) -> Iterator[bytes]:
    """Stream a finished bundle's ZIP from the vault, after logging ``bundle_downloaded``.

    The lead and investigators may download; a prosecutor only while every exhibit in it is shared.
    """
    case = bundle.case
    role = _role(case=case, actor=actor)
    if not role_may(role, Action.BUNDLE_DOWNLOAD):
        raise AccessDenied(
            f"your role on case {case.number} is {role}; only the lead, investigators and (for shared "
            "exhibits) prosecutors download bundles"
        )
    if shared_only(role):
        unshared = [e.number for e in bundle.exhibits.all() if e.status != ExhibitStatus.SHARED]
        if unshared:
            raise AccessDenied(
                f"exhibit {', '.join(unshared)} of this bundle is not shared with the prosecutor"
            )
    if bundle.status != ReportStatus.DONE or not bundle.sha256:
        raise RejectedInput(f"bundle {bundle.pk} is {bundle.status}: it can be downloaded once it is done")
    with transaction.atomic():
        custody_append_many(
            [
                EventSpec(
                    case_id=case.pk,
                    action=CustodyAction.BUNDLE_DOWNLOADED,
                    actor=actor,
                    details={
                        "bundle": bundle.pk,
                        "bundle_sha256": bundle.sha256,
                        "exhibits": list(bundle.scope),
                    },
                )
            ]
        )
    return read_verified(bundle.sha256)


BUNDLE_TASK = "exhibits.tasks.bundle_export_task"


def bundle_queue(
    *,
    case: Case,
    exhibit_numbers: Sequence[str],
    recipient: str,
    actor: User,
    recipient_public_key: bytes | None,
    passphrase: str | None,
    report_pk: int | None = None,
    language: str = "ko",
) -> ExportBundle:
    """Ask for a bundle and queue its build once committed: the one way a bundle job is queued.

    The secret is checked first, so a bad key or passphrase is refused before any row exists. A passphrase
    passes through the broker (Redis) as a task argument: prefer a recipient key, whose public half is no
    secret.
    """
    bundle_secret_check(recipient_public_key=recipient_public_key, passphrase=passphrase)
    with transaction.atomic():
        bundle = bundle_request(case=case, exhibit_numbers=exhibit_numbers, recipient=recipient, actor=actor)
        key_b64 = base64.b64encode(recipient_public_key).decode("ascii") if recipient_public_key else None
        task_queue_on_commit(
            BUNDLE_TASK,
            bundle.pk,
            recipient_public_key=key_b64,
            passphrase=passphrase,
            report_pk=report_pk,
            language=language,
        )
    return bundle


def bundle_build(
    *,
    bundle: ExportBundle,
    recipient_public_key: bytes | None,
    passphrase: str | None,
    report: Report | None = None,
    language: str = "ko",
) -> ExportBundle:
    """Build a queued bundle into the vault (downloads then go through ``bundle_open``).

    Without ``report`` a fresh signed report of the bundle's exhibits is generated first (a bundle carries
    the report of exactly its exhibits). The ZIP is written to a scratch file that is removed afterwards:
    the vault copy is the one served.
    """
    bundle = ExportBundle.objects.select_related("case", "requested_by").get(pk=bundle.pk)
    if report is None:
        report = report_request(
            case=bundle.case, exhibit_numbers=list(bundle.scope), language=language, actor=bundle.requested_by
        )
        report = report_generate(report=report)
    scratch_root = Path(settings.DATA_DIR) / "tmp"
    scratch_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch_root, prefix="export-") as scratch:
        return bundle_export(
            bundle=bundle,
            out=Path(scratch) / "bundle.zip",
            recipient_public_key=recipient_public_key,
            passphrase=passphrase,
            report=report,
        )
