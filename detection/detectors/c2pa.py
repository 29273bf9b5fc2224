"""C2PA Content Credentials: is there a signed provenance manifest, does it validate, and what does it claim.

Read with ``c2pa-python`` (the C2PA consortium's Rust SDK). The reader runs offline: remote manifests are
not fetched and certificate revocation (OCSP) is not queried, so a file referring to a remote manifest is
reported with its URL for an analyst to fetch deliberately. States:

- ``trusted``: signature, hashes and bindings check out and the signer chains to a configured trust anchor;
- ``valid``: they check out, but the signer is not on the configured trust list (or none is configured);
- ``invalid``: the manifest is present but fails validation (e.g. the pixels changed after signing);
- ``none``: no manifest. Not probative: most software writes none and re-encoding strips it.

Trust anchors come from the PEM file named by ``HAETAE_C2PA_TRUST_ANCHORS``; its SHA-256 is part of the
detector version, so changing the trust list is a new version whose runs sit beside the old ones.
"""

import hashlib
import io
import json
from pathlib import Path
from typing import Any, BinaryIO

import c2pa
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from detection.detectors.jsonsafe import json_safe
from detection.detectors.sourcetypes import describe
from detection.registry import DetectorInfo, Finding
from detection.subject import Subject, UndecodableMedia

BASE_VERSION = "1"

NOT_PROBATIVE = (
    "No C2PA manifest — not probative. Most cameras, editors, generators and platforms write none, and "
    "re-encoding, screenshots and upload to most platforms remove it; absence is evidence neither of "
    "authenticity nor of manipulation."
)
STATE_NOTES = {
    "trusted": "The manifest validates and its signer chains to a configured trust anchor. It shows what "
    "the signer's software declared, not that the declaration is true.",
    "valid": "The manifest's signature and hashes check out, but the signer is not trusted: {trust}. "
    "Anyone can sign a manifest with their own certificate.",
    "invalid": "A manifest is present but fails validation: the content or the manifest changed after "
    "signing, or the manifest is malformed. Its claims cannot be relied on; the failure codes say why.",
}

# Failure codes that only concern trust in the signer, not the integrity of the content and manifest.
TRUST_ONLY_FAILURES = frozenset({"signingCredential.untrusted"})


def trust_anchors_from_settings() -> tuple[str, str]:
    """(PEM text, problem) from HAETAE_C2PA_TRUST_ANCHORS; both empty when unset."""
    path = settings.HAETAE_C2PA_TRUST_ANCHORS
    if not path:
        return "", ""
    try:
        pem = Path(path).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        return "", f"HAETAE_C2PA_TRUST_ANCHORS names {path}, which cannot be read as a PEM file: {exc}"
    if "-----BEGIN CERTIFICATE-----" not in pem:
        return "", f"HAETAE_C2PA_TRUST_ANCHORS names {path}, which holds no PEM certificate"
    return pem, ""


class C2paDetector:
    """Validates C2PA manifests offline; reports state, signer, claim generator and declared source type."""

    def __init__(self, trust_anchors_pem: str | None = None) -> None:
        if trust_anchors_pem is None:
            pem, self._problem = trust_anchors_from_settings()
        else:
            pem, self._problem = trust_anchors_pem, ""
        self._anchors = pem
        anchors_sha256 = hashlib.sha256(pem.encode()).hexdigest() if pem else ""
        version = f"{BASE_VERSION}+anchors.{anchors_sha256[:12]}" if pem else BASE_VERSION
        self.info = DetectorInfo(
            name="c2pa",
            version=version,
            media_types=frozenset({"image", "video", "audio"}),
            parameters={
                "reader": f"c2pa-python {c2pa.__version__} (c2pa-rs {c2pa.sdk_version()})",
                "trust_anchors_sha256": anchors_sha256 or "none configured",
                "verify_trust": True,
                "remote_manifest_fetch": False,
                "ocsp_fetch": False,
            },
            model_card="docs/detectors/c2pa.md",
            licence="c2pa-python: MIT or Apache-2.0; this detector: AGPL-3.0-or-later",
            validation=(
                "tests: a manifest signed with a test CA reads valid, trusted with that CA as anchor, "
                "invalid after one image byte changes, none once stripped; no error rates (a validator, "
                "not a model)"
            ),
        )
        self._context: c2pa.Context | None = None

    def load(self) -> None:
        if self._problem:
            raise ImproperlyConfigured(f"{self._problem}; fix the setting and restart the workers")
        if self._context is None:
            reader_settings: dict[str, Any] = {
                "verify": {"verify_trust": True, "remote_manifest_fetch": False, "ocsp_fetch": False}
            }
            if self._anchors:
                reader_settings["trust"] = {"trust_anchors": self._anchors}
            self._context = c2pa.Context.from_dict(reader_settings)

    def analyze(self, subject: Subject) -> list[Finding]:
        # Manifests are written by whoever made the file: make their text storable whatever it holds.
        return [
            Finding(label=f.label, category=f.category, details=json_safe(f.details))
            for f in self._read(subject)
        ]

    def _read(self, subject: Subject) -> list[Finding]:
        self.load()
        fmt = subject.mime if subject.mime in c2pa.Reader.get_supported_mime_types() else None
        # Images are small and already verified in memory; videos are read in place through the vault.
        stream = io.BytesIO(subject.read()) if subject.media_type == "image" else _ReadOnly(subject.open())
        try:
            with stream:
                reader = c2pa.Reader.try_create(fmt, stream, None, self._context)
                if reader is None:
                    return [
                        Finding(label="c2pa_none", category="not_probative", details={"note": NOT_PROBATIVE})
                    ]
                with reader:
                    store = json.loads(reader.json())
        except c2pa.C2paError.NotSupported:
            return [
                Finding(
                    label="c2pa_not_checked",
                    category="not_probative",
                    details={"reason": f"the C2PA reader does not support {subject.mime or 'this format'}"},
                )
            ]
        except c2pa.C2paError as exc:
            return [self._unreadable(subject, str(exc))]
        return self._findings(store)

    def _unreadable(self, subject: Subject, message: str) -> Finding:
        if message.startswith("Remote"):
            url = message.split(" from url ", 1)[-1] if " from url " in message else ""
            return Finding(
                label="c2pa_remote_not_fetched",
                category="ai_provenance",
                details={
                    "state": "remote",
                    "remote_manifest_url": url,
                    "note": "The file refers to a manifest stored elsewhere; it was not fetched (the reader "
                    "runs offline). An analyst may fetch it deliberately and record that.",
                    "error": message,
                },
            )
        if "could not be parsed" in message:
            raise UndecodableMedia(f"the C2PA reader cannot parse this {subject.mime or 'file'}: {message}")
        return Finding(
            label="c2pa_invalid",
            category="ai_provenance",
            details={"state": "invalid", "error": message, "note": STATE_NOTES["invalid"]},
        )

    def _findings(self, store: dict[str, Any]) -> list[Finding]:
        manifests: dict[str, Any] = store.get("manifests") or {}
        active_label = store.get("active_manifest") or ""
        active = manifests.get(active_label) or {}
        results = store.get("validation_results") or {}
        active_results = results.get("activeManifest") or {}
        failures = [f.get("code", "") for f in active_results.get("failure") or []]
        failures += [s.get("code", "") for s in store.get("validation_status") or [] if s.get("code")]
        state = _state(store.get("validation_state") or "", failures)
        trust = (
            "no trust anchors are configured (HAETAE_C2PA_TRUST_ANCHORS)"
            if not self._anchors
            else "it does not chain to a configured anchor"
        )
        source_types = [describe(v) for v in _source_types(active)]
        ingredient_types = [
            describe(v)
            for label, manifest in manifests.items()
            if label != active_label
            for v in _source_types(manifest)
        ]
        details: dict[str, Any] = {
            "state": state,
            "validation_state": store.get("validation_state") or "",
            "note": STATE_NOTES[state].format(trust=trust),
            "failure_codes": sorted(set(failures)),
            "active_manifest": active_label,
            "manifests": len(manifests),
            "claim_generator": _claim_generator(active),
            "signer": _signer(active),
            "title": active.get("title") or "",
            "digital_source_types": source_types,
            "ingredient_digital_source_types": ingredient_types,
            "actions": _actions(active),
            "ingredients": [i.get("title") or "" for i in active.get("ingredients") or []],
        }
        findings = [Finding(label=f"c2pa_{state}", category="ai_provenance", details=details)]
        declared = [t for t in source_types + ingredient_types if t["generative_ai"]]
        if declared:
            findings.append(
                Finding(
                    label="c2pa_declares_generative_ai",
                    category="ai_provenance",
                    details={
                        "state": state,
                        "digital_source_types": declared,
                        "claim_generator": details["claim_generator"],
                        "signer": details["signer"],
                        "note": f"The manifest ({state}) declares generative-AI content. "
                        + STATE_NOTES[state].format(trust=trust),
                    },
                )
            )
        return findings


class _ReadOnly:
    """The stream interface the C2PA SDK asks for (it wants write and flush too) over a read-only reader."""

    def __init__(self, reader: BinaryIO) -> None:
        self._reader = reader

    def read(self, size: int = -1) -> bytes:
        return self._reader.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._reader.seek(offset, whence)

    def tell(self) -> int:
        return self._reader.tell()

    def write(self, data: bytes) -> int:
        raise OSError("evidence is read-only")

    def flush(self) -> None:
        pass

    def __enter__(self) -> "_ReadOnly":
        return self

    def __exit__(self, *exc: object) -> None:
        self._reader.close()


def _state(validation_state: str, failures: list[str]) -> str:
    if validation_state == "Trusted":
        return "trusted"
    if validation_state == "Valid":
        return "valid"
    if validation_state == "Invalid":
        return "invalid"
    # Older readers give no validation_state: any failure beyond an untrusted signer means invalid.
    return "invalid" if set(failures) - TRUST_ONLY_FAILURES else "valid"


def _claim_generator(manifest: dict[str, Any]) -> str:
    infos = manifest.get("claim_generator_info") or []
    parts = [" ".join(str(i.get(k, "")) for k in ("name", "version") if i.get(k)) for i in infos]
    return "; ".join(p for p in parts if p) or str(manifest.get("claim_generator") or "")


def _signer(manifest: dict[str, Any]) -> dict[str, str]:
    info = manifest.get("signature_info") or {}
    return {
        key: str(info[key])
        for key in ("common_name", "issuer", "cert_serial_number", "alg", "time")
        if info.get(key) is not None
    }


def _assertions(manifest: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    return [a for a in manifest.get("assertions") or [] if str(a.get("label", "")).startswith(prefix)]


def _actions(manifest: dict[str, Any]) -> list[dict[str, str]]:
    found = []
    for assertion in _assertions(manifest, "c2pa.actions"):
        for action in (assertion.get("data") or {}).get("actions") or []:
            entry = {"action": str(action.get("action", ""))}
            for key in ("digitalSourceType", "softwareAgent", "when"):
                value = action.get(key)
                if isinstance(value, dict):  # claim v2 softwareAgent is a generator-info object
                    value = " ".join(str(value.get(k, "")) for k in ("name", "version") if value.get(k))
                if value:
                    entry[key] = str(value)
            found.append(entry)
    return found


def _source_types(manifest: dict[str, Any]) -> list[str]:
    """Every digital source type the manifest declares (actions, IPTC metadata), each once, in order."""
    values: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key.lower().endswith("digitalsourcetype") and isinstance(value, str):
                    values.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(manifest.get("assertions") or [])
    return list(dict.fromkeys(values))
