"""Offline verifier of a Haetae export bundle: one file, Python's standard library and pyca ``cryptography``.

A defence expert can copy this single file anywhere and run ``python3 bundle.py FILE.zip --ledger-key HEX``
(inside Haetae: ``python -m evidence.bundle`` or ``manage.py verify_bundle``). It imports nothing else of
Haetae: the RFC 9162 proof checks and the checkpoint note live here, and ``evidence/merkle.py`` and
``evidence/proofcheck.py`` take them from this file (one implementation for the ledger and the verifier).

It checks, reporting every failure by the part of the bundle it concerns:
- every file's SHA-256 and size against the manifest, and that no file is missing or unlisted;
- the detached Ed25519 signature of ``manifest.json`` (``manifest.json.sig``) by the ledger key;
- each custody event's leaf hash from its leaf data, each item's hash chain (``prev_hash`` links);
- each inclusion proof, each consistency proof and every checkpoint signature;
- each RFC 3161 timestamp token: for its checkpoint's signed note or its acquisition's manifest, signed by
  a time-stamping certificate that chains to ``--tsa-cert`` (or, failing that, to the one the bundle
  carries); a bundle without tokens is reported as having no trusted timestamp;
- the signed PDF's PAdES/CMS signature (messageDigest of the /ByteRange, the signature over the signed
  attributes with the signer certificate's key, and the certificate's fingerprint against the manifest);
- with ``--key`` (the recipient's X25519 private key) or ``--passphrase-file``: decrypts each original and
  checks its SHA-256, MD5 and SHA-1 against the hashes taken at acquisition.

A bundle must be *anchored* from outside the ZIP, or it is refused (everything inside it can be rebuilt
under a forger's own key): by ``--ledger-key`` (the ledger public key obtained from the agency), or by
``--agency-cert`` (the agency's certificate or CA): the report's signature must chain to it, not be the
development signer's, and its embedded manifest must name the bundle's ledger key, item hashes and a
checkpoint the bundle extends.

Exit status: 0 when everything holds and the bundle is anchored, 1 listing each failure (an unanchored
bundle included), 2 for a usage error.
"""

import argparse
import base64
import binascii
import hashlib
import hmac
import json
import re
import struct
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

MANIFEST_FORMAT = "haetae-exhibit-manifest"
MANIFEST_VERSION = 1
MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "manifest.json.sig"
GENESIS_HASH = "0" * 64
CHECKPOINT_NOTE_HEADER = b"haetae-ledger-checkpoint/v1\n"

# Encryption of the originals (see docs/export-bundle.md): a bundle key from X25519 or scrypt, a file key
# per original by HKDF, AES-256-GCM over CHUNK_SIZE chunks with the chunk index and a last-chunk flag in
# the nonce, so chunks cannot be reordered, dropped or the file truncated without a tag failing.
ENC_MAGIC = b"HAETAE-BUNDLE-ENC1\n"
CHUNK_SIZE = 1024 * 1024
TAG_SIZE = 16
SCHEME_X25519 = "x25519-hkdf-sha256-aes-256-gcm"
SCHEME_SCRYPT = "scrypt-aes-256-gcm"
BUNDLE_KEY_INFO = b"haetae-bundle-key/v1"
FILE_KEY_INFO = b"haetae-bundle-file/v1\n"
CHUNK_AAD = b"haetae-bundle-chunk/v1"


class ByteSink(Protocol):
    """Where encrypted bytes go (a file, a ZIP member, a hashing wrapper)."""

    def write(self, data: bytes, /) -> Any: ...


class TextSink(Protocol):
    """Where the report lines go (a text stream, or Django's OutputWrapper)."""

    def write(self, text: str, /) -> Any: ...


# --- RFC 9162 Merkle proofs (evidence/merkle.py builds the trees and takes these checks from here) ---
def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(index: int, tree_size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` place ``leaf`` at ``index`` under ``root``?"""
    if not 0 <= index < tree_size:
        return False
    fn, sn = index, tree_size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: is the tree of ``old_size`` with ``old_root`` a prefix of the new one?"""
    if old_size == new_size:
        return old_root == new_root and not proof
    if not 0 < old_size < new_size or not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is itself the first node
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


def checkpoint_message(tree_size: int, root_hex: str, created_at_iso: str) -> bytes:
    """The exact bytes a checkpoint signs (its signed note, docs/ledger.md §5): header line, size, root, UTC
    time."""
    return CHECKPOINT_NOTE_HEADER + f"{tree_size}\n{root_hex}\n{created_at_iso}\n".encode()


def hex_bytes(value: Any, length: int) -> bytes | None:
    """``value`` decoded from lowercase hex if it is exactly ``length`` bytes of it, else None."""
    if not isinstance(value, str) or len(value) != 2 * length or value != value.lower():
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


def _hex_list(values: Any) -> list[bytes] | None:
    if not isinstance(values, list):
        return None
    decoded = [hex_bytes(value, 32) for value in values]
    return None if any(value is None for value in decoded) else [v for v in decoded if v is not None]


def ed25519_ok(public_key_hex: str, signature: bytes, message: bytes) -> bool:
    key = hex_bytes(public_key_hex, 32)
    if key is None or len(signature) != 64:
        return False
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(key).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


# --- keys ---
class KeyFileError(ValueError):
    """A key file that is not in one of the accepted forms; the message says which and what to do."""


def _key_material(data: bytes, *, what: str, private: bool) -> bytes | Any:
    """Raw 32 bytes from a raw, base64 or PEM X25519 key file, or the loaded PEM key object."""
    text = data.strip()
    if text.startswith(b"-----BEGIN"):
        try:
            key = (
                serialization.load_pem_private_key(text, password=None)
                if private
                else serialization.load_pem_public_key(text)
            )
        except (ValueError, TypeError) as exc:
            other = b"PRIVATE KEY" if not private else b"PUBLIC KEY"
            if other in text.split(b"\n", 1)[0]:
                wanted = "private" if private else "public"
                raise KeyFileError(
                    f"{what} is a PEM {'public' if private else 'private'} key; give the {wanted} key"
                ) from None
            raise KeyFileError(
                f"{what} is PEM but cannot be read ({exc}); is it encrypted or damaged?"
            ) from None
        wanted_type = x25519.X25519PrivateKey if private else x25519.X25519PublicKey
        if not isinstance(key, wanted_type):
            raise KeyFileError(
                f"{what} holds a {type(key).__name__.lstrip('_')} key, not an X25519 key: make one with "
                "'openssl genpkey -algorithm X25519'"
            )
        return key
    if len(data) == 32:
        return data
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        decoded = b""
    if len(decoded) == 32:
        return decoded
    raise KeyFileError(
        f"{what} holds {len(data)} bytes that are neither a raw 32-byte X25519 key, nor base64 of one, nor a "
        "PEM key ('-----BEGIN …'); export the key with 'openssl pkey' in PEM form"
    )


def load_x25519_public(data: bytes, *, what: str = "the recipient key file") -> x25519.X25519PublicKey:
    """The recipient's X25519 public key from raw 32 bytes, base64 of them, or PEM."""
    material = _key_material(data, what=what, private=False)
    if isinstance(material, bytes):
        return x25519.X25519PublicKey.from_public_bytes(material)
    return material


def load_x25519_private(data: bytes, *, what: str = "the key file") -> x25519.X25519PrivateKey:
    """The recipient's X25519 private key from raw 32 bytes, base64 of them, or PEM (PKCS#8)."""
    material = _key_material(data, what=what, private=True)
    if isinstance(material, bytes):
        return x25519.X25519PrivateKey.from_private_bytes(material)
    return material


def x25519_raw(public_key: x25519.X25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


# --- encryption of the originals ---
def bundle_key_x25519(
    shared_secret: bytes, salt: bytes, ephemeral_public: bytes, recipient_public: bytes
) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=salt,
        info=BUNDLE_KEY_INFO + ephemeral_public + recipient_public,
    ).derive(shared_secret)


def bundle_key_scrypt(passphrase: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase)


def file_key(bundle_key: bytes, file_salt: bytes, path: str) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=file_salt, info=FILE_KEY_INFO + path.encode()
    ).derive(bundle_key)


def _chunk_nonce(index: int, last: bool) -> bytes:
    return struct.pack(">Q", index) + (b"\x01" if last else b"\x00") + b"\x00\x00\x00"


def encrypt_stream(chunks: Iterator[bytes], out: ByteSink, key: bytes) -> None:
    """Seal a plaintext stream (any chunking) as CHUNK_SIZE chunks; the last one (maybe empty) is flagged."""
    aead = AESGCM(key)
    out.write(ENC_MAGIC)
    pending = bytearray()
    index = 0
    for chunk in chunks:
        pending += chunk
        while len(pending) > CHUNK_SIZE:  # keep at least one byte back: the last chunk must be flagged
            out.write(aead.encrypt(_chunk_nonce(index, False), bytes(pending[:CHUNK_SIZE]), CHUNK_AAD))
            del pending[:CHUNK_SIZE]
            index += 1
    out.write(aead.encrypt(_chunk_nonce(index, True), bytes(pending), CHUNK_AAD))


def decrypt_stream(source: IO[bytes], key: bytes) -> Iterator[bytes]:
    """The plaintext of an encrypted original, chunk by chunk; raises InvalidTag or ValueError on damage."""
    if source.read(len(ENC_MAGIC)) != ENC_MAGIC:
        raise ValueError("it does not start with the bundle encryption header")
    aead = AESGCM(key)
    sealed_size = CHUNK_SIZE + TAG_SIZE
    index = 0
    current = source.read(sealed_size)
    while True:
        following = source.read(sealed_size) if len(current) == sealed_size else b""
        last = not following
        if len(current) < TAG_SIZE:
            raise ValueError("it is truncated")
        yield aead.decrypt(_chunk_nonce(index, last), current, CHUNK_AAD)
        if last:
            return
        current = following
        index += 1


# --- a minimal DER reader for the PDF's CMS SignedData ---
@dataclass
class Der:
    tag: int
    content: bytes
    raw: bytes  # the whole TLV


def der_read(data: bytes, offset: int = 0) -> tuple[Der, int]:
    """One DER TLV at ``offset``; returns it and the offset after it (single-byte tags, definite lengths)."""
    if offset + 2 > len(data):
        raise ValueError("DER data ends inside a header")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise ValueError("multi-byte DER tags are not used by CMS signatures")
    length = data[offset + 1]
    pos = offset + 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise ValueError("unsupported or indefinite DER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    end = pos + length
    if end > len(data):
        raise ValueError("DER value runs past the end of the data")
    return Der(tag=tag, content=data[pos:end], raw=data[offset:end]), end


def der_children(node: Der) -> list[Der]:
    children, pos = [], 0
    while pos < len(node.content):
        child, pos = der_read(node.content, pos)
        children.append(child)
    return children


def der_oid(node: Der) -> str:
    if node.tag != 0x06 or not node.content:
        raise ValueError("expected an OBJECT IDENTIFIER")
    first = node.content[0]
    parts = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    value = 0
    for byte in node.content[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    return ".".join(map(str, parts))


OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
DIGESTS: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "2.16.840.1.101.3.4.2.1": hashes.SHA256,
    "2.16.840.1.101.3.4.2.2": hashes.SHA384,
    "2.16.840.1.101.3.4.2.3": hashes.SHA512,
}
HASHLIB_NAMES = {
    "2.16.840.1.101.3.4.2.1": "sha256",
    "2.16.840.1.101.3.4.2.2": "sha384",
    "2.16.840.1.101.3.4.2.3": "sha512",
}
RSA_PKCS1 = {
    "1.2.840.113549.1.1.1",
    "1.2.840.113549.1.1.11",
    "1.2.840.113549.1.1.12",
    "1.2.840.113549.1.1.13",
}
RSA_PSS = "1.2.840.113549.1.1.10"
ECDSA = {"1.2.840.10045.4.3.2", "1.2.840.10045.4.3.3", "1.2.840.10045.4.3.4", "1.2.840.10045.2.1"}
ED25519_OID, ED448_OID = "1.3.101.112", "1.3.101.113"


@dataclass
class PdfSignature:
    """What the PDF's last signature covers and who made it."""

    byte_range: tuple[int, int, int, int]
    certificate_sha256: str
    subject: str
    certificate: x509.Certificate
    chain: list[x509.Certificate]  # every certificate the CMS carries (the signer's included)


def _pdf_signature_ranges(pdf: bytes) -> list[tuple[int, int, int, int]]:
    found = []
    for match in re.finditer(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf):
        a, b, c, d = (int(x) for x in match.groups())
        found.append((a, b, c, d))
    return found


def _verify_signer(
    cert: x509.Certificate, sig_alg: str, digest_oid: str, signature: bytes, data: bytes
) -> None:
    """Raise InvalidSignature (or ValueError) unless ``signature`` over ``data`` verifies with ``cert``."""
    key = cert.public_key()
    digest = DIGESTS[digest_oid]()
    if isinstance(key, rsa.RSAPublicKey) and sig_alg in RSA_PKCS1:
        key.verify(signature, data, padding.PKCS1v15(), digest)
    elif isinstance(key, rsa.RSAPublicKey) and sig_alg == RSA_PSS:
        key.verify(
            signature, data, padding.PSS(mgf=padding.MGF1(digest), salt_length=padding.PSS.AUTO), digest
        )
    elif isinstance(key, ec.EllipticCurvePublicKey) and sig_alg in ECDSA:
        key.verify(signature, data, ec.ECDSA(digest))
    elif (isinstance(key, ed25519.Ed25519PublicKey) and sig_alg == ED25519_OID) or (
        isinstance(key, ed448.Ed448PublicKey) and sig_alg == ED448_OID
    ):
        key.verify(signature, data)
    else:
        raise ValueError(f"signature algorithm {sig_alg} with a {type(key).__name__} key is not supported")


def pdf_signature_check(pdf: bytes) -> PdfSignature:
    """Check the PDF's (last) PAdES signature; raises ValueError saying what does not hold."""
    ranges = _pdf_signature_ranges(pdf)
    if not ranges:
        raise ValueError("the PDF has no signature (/ByteRange not found)")
    a, b, c, d = ranges[-1]
    if a != 0 or b <= 0 or c < a + b or c + d != len(pdf):
        raise ValueError(
            f"the signature's /ByteRange [{a} {b} {c} {d}] does not cover the whole file of {len(pdf)} bytes "
            "(except its own /Contents): bytes were added or removed after signing"
        )
    gap = pdf[a + b : c].strip()
    if not (gap.startswith(b"<") and gap.endswith(b">")):
        raise ValueError("the gap between the signed ranges is not the /Contents hex string")
    try:
        cms = bytes.fromhex(gap[1:-1].decode("ascii"))
    except (ValueError, UnicodeDecodeError):
        raise ValueError("/Contents is not a hex string") from None
    content_info, _ = der_read(cms)  # trailing zero padding after the DER is normal
    ci_children = der_children(content_info)
    if len(ci_children) < 2 or der_oid(ci_children[0]) != OID_SIGNED_DATA or ci_children[1].tag != 0xA0:
        raise ValueError("/Contents is not a CMS SignedData")
    signed_data = der_children(ci_children[1])[0]
    sd = der_children(signed_data)
    certificates = [der_children(node) for node in sd if node.tag == 0xA0]
    certs = [x509.load_der_x509_certificate(c.raw) for c in (certificates[0] if certificates else [])]
    signer_infos = [node for node in sd if node.tag == 0x31][-1:]  # digestAlgorithms is the first SET
    if len(sd) < 4 or not signer_infos or not der_children(signer_infos[0]):
        raise ValueError("the CMS SignedData has no SignerInfo")
    signer = der_children(der_children(signer_infos[0])[0])
    sid, digest_alg = signer[1], der_oid(der_children(signer[2])[0])
    signed_attrs = next((node for node in signer if node.tag == 0xA0), None)
    sig_alg_node = signer[4] if signed_attrs is not None else signer[3]
    signature_node = signer[5] if signed_attrs is not None else signer[4]
    if signed_attrs is None:
        raise ValueError("the CMS signature has no signed attributes (PAdES requires them)")
    if digest_alg not in DIGESTS:
        raise ValueError(f"digest algorithm {digest_alg} is not supported")
    message_digest = None
    for attribute in der_children(signed_attrs):
        parts = der_children(attribute)
        if der_oid(parts[0]) == OID_MESSAGE_DIGEST:
            message_digest = der_children(parts[1])[0].content
    if message_digest is None:
        raise ValueError("the signed attributes have no messageDigest")
    covered = hashlib.new(HASHLIB_NAMES[digest_alg])
    covered.update(pdf[a : a + b])
    covered.update(pdf[c : c + d])
    if not hmac.compare_digest(covered.digest(), message_digest):
        raise ValueError(
            f"the signed byte ranges hash to {covered.hexdigest()}, but the signature's messageDigest is "
            f"{message_digest.hex()}: the PDF was altered after it was signed"
        )
    cert = _signer_certificate(certs, sid)
    signed_set = b"\x31" + signed_attrs.raw[1:]  # signed over as a SET OF, not as the [0] IMPLICIT field
    try:
        _verify_signer(
            cert, der_oid(der_children(sig_alg_node)[0]), digest_alg, signature_node.content, signed_set
        )
    except InvalidSignature:
        raise ValueError(
            "the CMS signature over the signed attributes does not verify with the signer certificate"
        ) from None
    return PdfSignature(
        byte_range=(a, b, c, d),
        certificate_sha256=cert.fingerprint(hashes.SHA256()).hex(),
        subject=cert.subject.rfc4514_string(),
        certificate=cert,
        chain=certs,
    )


def _signer_certificate(certs: list[x509.Certificate], sid: Der) -> x509.Certificate:
    if sid.tag == 0x30:  # IssuerAndSerialNumber
        issuer, serial = der_children(sid)
        serial_number = int.from_bytes(serial.content, "big", signed=True)
        for cert in certs:
            if cert.serial_number == serial_number and cert.issuer.public_bytes() == issuer.raw:
                return cert
    elif sid.tag == 0x80:  # [0] SubjectKeyIdentifier
        for cert in certs:
            try:
                ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
            except x509.ExtensionNotFound:
                continue
            if ski == sid.content:
                return cert
    raise ValueError("the CMS signature does not carry its signer's certificate")


# --- the verification ---
@dataclass
class Result:
    failures: list[tuple[str, str]] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    anchors: list[str] = field(default_factory=list)  # what, from outside the ZIP, vouches for the bundle

    def fail(self, part: str, message: str) -> None:
        self.failures.append((part, message))

    def ok(self, message: str) -> None:
        self.passed.append(message)


@dataclass
class Decryption:
    """How to open the originals: the recipient's private key or the passphrase."""

    private_key: x25519.X25519PrivateKey | None = None
    passphrase: bytes | None = None
    extract_to: Path | None = None


# Anchors: what ties a bundle to the agency, from outside the ZIP.
# The development signer's certificate (exhibits/reports/signing.py) is self-signed on every installation:
# a report it signs is "not for court", so it never vouches for a bundle whatever certificate is given.
DEV_SIGNER_MARKS = ("Haetae development signer", "Haetae (development installation)")
MAX_CHAIN_LENGTH = 8


def ledger_key_id(public_key_hex: str) -> str:
    """The key id that reports, the portal and ``manage.py ledger key`` print: SHA-256 of the raw key."""
    raw = hex_bytes(public_key_hex, 32)
    return hashlib.sha256(raw).hexdigest()[:16] if raw else "?"


def load_ledger_key(value: str) -> str:
    """The trusted ledger key as 64 lowercase hex digits, from the hex itself or a file holding it.

    The file may hold the 64 hex digits, the raw 32 bytes, base64 of them, or a PEM Ed25519 public key.
    """
    if hex_bytes(value.strip().lower(), 32) is not None:
        return value.strip().lower()
    try:
        data = Path(value).read_bytes()
    except OSError:
        raise KeyFileError(
            f"--ledger-key {value!r} is neither 64 hex digits nor a readable file: give the ledger public "
            "key the agency published (hex, or a file holding it)"
        ) from None
    text = data.strip()
    if text.startswith(b"-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(text)
        except (ValueError, TypeError) as exc:
            raise KeyFileError(f"ledger key file {value} is PEM but cannot be read ({exc})") from None
        if not isinstance(key, ed25519.Ed25519PublicKey):
            raise KeyFileError(f"ledger key file {value} holds a {type(key).__name__} key, not Ed25519")
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()
    try:
        as_text = text.decode("ascii").lower()
    except UnicodeDecodeError:
        as_text = ""
    if hex_bytes(as_text, 32) is not None:
        return as_text
    if len(data) == 32:
        return data.hex()
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        decoded = b""
    if len(decoded) == 32:
        return decoded.hex()
    raise KeyFileError(
        f"ledger key file {value} holds neither 64 hex digits, nor 32 raw bytes, nor base64 of them, nor a "
        "PEM Ed25519 public key"
    )


def load_certificates(data: bytes, *, what: str) -> list[x509.Certificate]:
    """Every certificate in a PEM file (one or more) or a single DER certificate."""
    try:
        if b"-----BEGIN" in data:
            certificates = x509.load_pem_x509_certificates(data)
        else:
            certificates = [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise KeyFileError(f"{what} holds no readable X.509 certificate, PEM or DER ({exc})") from None
    return certificates


def is_development_certificate(cert: x509.Certificate) -> bool:
    names = [str(attribute.value) for attribute in [*cert.subject, *cert.issuer]]
    return any(mark in name for name in names for mark in DEV_SIGNER_MARKS)


def _fingerprint(cert: x509.Certificate) -> bytes:
    return cert.fingerprint(hashes.SHA256())


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject or not _is_ca(issuer):
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def certificate_chains_to(
    cert: x509.Certificate, carried: list[x509.Certificate], anchors: list[x509.Certificate]
) -> bool:
    """Is ``cert`` one of ``anchors``, or issued (through CA certificates the signature carries) by one?

    Signatures up the chain are checked; validity periods and revocation are not (``pdfsig`` and the
    agency's PKI answer those), so an expired or revoked agency certificate still needs a human's look.
    """
    trusted = {_fingerprint(anchor) for anchor in anchors}
    current, seen = cert, set()
    for _ in range(MAX_CHAIN_LENGTH):
        if _fingerprint(current) in trusted or any(_issued_by(current, anchor) for anchor in anchors):
            return True
        seen.add(_fingerprint(current))
        issuer = next((c for c in carried if _fingerprint(c) not in seen and _issued_by(current, c)), None)
        if issuer is None:
            return False
        current = issuer
    return False


# --- RFC 3161 timestamp tokens (the server's check on receipt and `verify` call this same code) ---
OID_TST_INFO = "1.2.840.113549.1.9.16.1.4"
OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
OID_SIGNING_CERTIFICATE = "1.2.840.113549.1.9.16.2.12"
OID_SIGNING_CERTIFICATE_V2 = "1.2.840.113549.1.9.16.2.47"
OID_SHA1 = "1.3.14.3.2.26"
OID_SHA256 = "2.16.840.1.101.3.4.2.1"
NO_TRUSTED_TIMESTAMP = "no trusted timestamp"


@dataclass(frozen=True)
class TimestampInfo:
    """What a verified RFC 3161 token says: when (the TSA's genTime), by whom, under which policy."""

    gen_time: str  # ISO 8601 UTC, as the token states it
    serial_number: int
    policy: str
    nonce: int | None
    tsa_subject: str
    tsa_certificate_sha256: str


def _der_int(node: Der) -> int:
    if node.tag != 0x02:
        raise ValueError("expected an INTEGER")
    return int.from_bytes(node.content, "big", signed=True)


def _generalized_time(node: Der) -> str:
    """A GeneralizedTime (YYYYMMDDHHMMSS[.f]Z) as ISO 8601 UTC."""
    text = node.content.decode("ascii", errors="replace")
    match = re.fullmatch(r"(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\.\d{1,9})?Z", text)
    if node.tag != 0x18 or match is None:
        raise ValueError(f"genTime {text!r} is not a UTC GeneralizedTime")
    year, month, day, hour, minute, second, fraction = match.groups()
    return f"{year}-{month}-{day}T{hour}:{minute}:{second}{fraction or ''}Z"


def _tst_info(content: bytes) -> tuple[list[Der], dict[str, Any]]:
    """The TSTInfo's fields (RFC 3161 §2.4.2) by name."""
    fields = der_children(der_read(content)[0])
    if len(fields) < 5 or _der_int(fields[0]) != 1:
        raise ValueError("the TSTInfo is not version 1")
    parsed: dict[str, Any] = {
        "policy": der_oid(fields[1]),
        "imprint": der_children(fields[2]),
        "serial_number": _der_int(fields[3]),
        "gen_time": _generalized_time(fields[4]),
        "nonce": None,
    }
    for node in fields[5:]:
        if node.tag == 0x02:
            parsed["nonce"] = _der_int(node)
    return fields, parsed


def _ess_certificate_hash_ok(attribute_oid: str, value: Der, cert: x509.Certificate) -> bool:
    """Does the signing-certificate attribute (ESS, RFC 2634 / RFC 5035) name the signer's certificate?"""
    first = der_children(der_children(der_children(value)[0])[0])[0]  # SigningCertificate → certs → first
    parts = der_children(first)
    der = cert.public_bytes(serialization.Encoding.DER)
    if attribute_oid == OID_SIGNING_CERTIFICATE:
        return hmac.compare_digest(parts[0].content, hashlib.sha1(der).digest())  # noqa: S324 - RFC 2634
    algorithm = OID_SHA256
    if parts[0].tag == 0x30:  # hashAlgorithm present (DEFAULT sha256 otherwise)
        algorithm = der_oid(der_children(parts[0])[0])
        parts = parts[1:]
    if algorithm not in HASHLIB_NAMES:
        return False
    return hmac.compare_digest(parts[0].content, hashlib.new(HASHLIB_NAMES[algorithm], der).digest())


def _timestamping_only(cert: x509.Certificate) -> bool:
    """RFC 3161 §2.3: the TSA certificate has exactly one extended key usage, timeStamping, critical."""
    try:
        extension = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        return False
    return extension.critical and list(extension.value) == [x509.oid.ExtendedKeyUsageOID.TIME_STAMPING]


def timestamp_token_check(
    token: bytes,
    *,
    message_sha256: str,
    anchors: list[x509.Certificate],
    nonce: int | None = None,
    extra_certificates: list[x509.Certificate] | None = None,
) -> TimestampInfo:
    """Check an RFC 3161 TimeStampToken for data whose SHA-256 is ``message_sha256``; raises ValueError.

    Checked: the token is CMS SignedData over a TSTInfo; its message imprint is SHA-256 of exactly this
    data; the nonce (when given) is the one asked for; the signed attributes' messageDigest is the
    TSTInfo's; the signing-certificate attribute names the signer; the signature verifies; the signer's
    certificate is for time-stamping only, valid at genTime, and chains to one of ``anchors``.
    """
    content_info, _ = der_read(token)
    ci_children = der_children(content_info)
    if len(ci_children) < 2 or der_oid(ci_children[0]) != OID_SIGNED_DATA or ci_children[1].tag != 0xA0:
        raise ValueError("the token is not a CMS SignedData")
    sd = der_children(der_children(ci_children[1])[0])
    if len(sd) < 4:
        raise ValueError("the token's SignedData is incomplete")
    encapsulated = der_children(sd[2])
    if der_oid(encapsulated[0]) != OID_TST_INFO or len(encapsulated) < 2:
        raise ValueError("the token does not carry a TSTInfo")
    tst_der = der_children(encapsulated[1])[0].content
    _, tst = _tst_info(tst_der)
    algorithm, hashed = der_oid(der_children(tst["imprint"][0])[0]), tst["imprint"][1].content
    if algorithm != OID_SHA256:
        raise ValueError(f"the token's message imprint uses {algorithm}, not SHA-256")
    if not hmac.compare_digest(hashed, bytes.fromhex(message_sha256)):
        raise ValueError(
            f"the token timestamps data with SHA-256 {hashed.hex()}, not {message_sha256}: it is the token "
            "of other data"
        )
    if nonce is not None and tst["nonce"] != nonce:
        raise ValueError(f"the token's nonce {tst['nonce']} is not the request's {nonce} (a replayed reply?)")
    certificates = [node for node in sd if node.tag == 0xA0]
    carried = (
        [x509.load_der_x509_certificate(c.raw) for c in der_children(certificates[0])] if certificates else []
    )
    carried += extra_certificates or []
    signer_infos = der_children(sd[-1]) if sd[-1].tag == 0x31 else []
    if not signer_infos:
        raise ValueError("the token has no SignerInfo")
    signer = der_children(signer_infos[0])
    sid, digest_alg = signer[1], der_oid(der_children(signer[2])[0])
    signed_attrs = signer[3] if signer[3].tag == 0xA0 else None
    if signed_attrs is None or len(signer) < 6:
        raise ValueError("the token's signature has no signed attributes")
    if digest_alg not in DIGESTS:
        raise ValueError(f"digest algorithm {digest_alg} is not supported")
    attributes = {der_oid(der_children(a)[0]): der_children(a)[1] for a in der_children(signed_attrs)}
    content_type = attributes.get(OID_CONTENT_TYPE)
    if content_type is None or der_oid(der_children(content_type)[0]) != OID_TST_INFO:
        raise ValueError("the signed attributes do not declare a TSTInfo content type")
    digest_value = attributes.get(OID_MESSAGE_DIGEST)
    expected = hashlib.new(HASHLIB_NAMES[digest_alg], tst_der).digest()
    if digest_value is None or not hmac.compare_digest(der_children(digest_value)[0].content, expected):
        raise ValueError("the signature's messageDigest is not the TSTInfo's: the token was altered")
    cert = _signer_certificate(carried, sid)
    ess = [
        (oid, attributes[oid])
        for oid in (OID_SIGNING_CERTIFICATE_V2, OID_SIGNING_CERTIFICATE)
        if oid in attributes
    ]
    if not ess or not _ess_certificate_hash_ok(ess[0][0], ess[0][1], cert):
        raise ValueError("the token's signing-certificate attribute does not name its signer's certificate")
    try:
        _verify_signer(
            cert,
            der_oid(der_children(signer[4])[0]),
            digest_alg,
            signer[5].content,
            b"\x31" + signed_attrs.raw[1:],
        )
    except InvalidSignature:
        raise ValueError("the token's signature does not verify with the TSA certificate") from None
    if not _timestamping_only(cert):
        raise ValueError(
            f"the signer {cert.subject.rfc4514_string()} is not a time-stamping certificate (extended key "
            "usage timeStamping, critical, alone)"
        )
    gen_time = tst["gen_time"]
    moment = gen_time[:19]
    if not (
        cert.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%S")
        <= moment
        <= cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%S")
    ):
        raise ValueError(f"the TSA certificate was not valid at the token's time {gen_time}")
    if not anchors:
        raise ValueError(f"{NO_TRUSTED_TIMESTAMP}: no TSA certificate to check the token against")
    if not certificate_chains_to(cert, carried, anchors):
        raise ValueError(
            f"the TSA certificate {cert.subject.rfc4514_string()} does not chain to the trusted TSA "
            "certificate given"
        )
    return TimestampInfo(
        gen_time=gen_time,
        serial_number=tst["serial_number"],
        policy=tst["policy"],
        nonce=tst["nonce"],
        tsa_subject=cert.subject.rfc4514_string(),
        tsa_certificate_sha256=_fingerprint(cert).hex(),
    )


_PDF_OBJECT = re.compile(rb"(?:^|[\r\n])[ \t]*(\d+)[ \t]+\d+[ \t]+obj\b")
_PDF_STREAM = re.compile(rb"\bstream\r?\n")


def pdf_embedded_manifest(pdf: bytes) -> bytes:
    """The bytes of the PDF's embedded ``manifest.json`` (its associated file); raises ValueError if none.

    A small reader for what Haetae's reports write (classic cross-reference tables, the file stream
    Flate-compressed); the newest definition of each object wins, as after an incremental update. What it
    reads lies inside the signed byte ranges, so the agency's signature covers it.
    """
    objects: dict[int, int] = {}
    for match in _PDF_OBJECT.finditer(pdf):
        objects[int(match.group(1))] = match.end()

    def head(number: int) -> tuple[bytes, int | None]:
        """The object's dictionary text and, for a stream, where its data starts."""
        start = objects[number]
        end = pdf.find(b"endobj", start)
        end = len(pdf) if end < 0 else end
        stream = _PDF_STREAM.search(pdf, start, end)
        return (pdf[start : stream.start()], stream.end()) if stream else (pdf[start:end], None)

    specs = []
    for number in objects:
        text, _ = head(number)
        if re.search(rb"/Type\s*/Filespec", text) and re.search(rb"/U?F\s*\(manifest\.json\)", text):
            specs.append(text)
    if len(specs) != 1:
        raise ValueError(
            "the report has no embedded manifest.json"
            if not specs
            else f"the report embeds {len(specs)} files named manifest.json, not one"
        )
    reference = re.search(rb"/EF\s*<<[^>]*?/F\s+(\d+)\s+\d+\s+R", specs[0])
    if reference is None or int(reference.group(1)) not in objects:
        raise ValueError("the report's manifest.json file specification names no embedded file stream")
    text, data_start = head(int(reference.group(1)))
    if data_start is None or not re.search(rb"/Type\s*/EmbeddedFile", text):
        raise ValueError("the report's manifest.json is not an embedded file stream")
    length = re.search(rb"/Length\s+(\d+)(\s+\d+\s+R)?", text)
    if length is None:
        raise ValueError("the report's embedded manifest.json has no /Length")
    size = int(length.group(1))
    if length.group(2):  # an indirect length: the object holds the number
        if size not in objects:
            raise ValueError("the embedded manifest's /Length names a missing object")
        value = head(size)[0].strip()
        if not value.isdigit():
            raise ValueError("the embedded manifest's /Length object is not a number")
        size = int(value)
    data = pdf[data_start : data_start + size]
    filters = re.findall(rb"/(\w+)", (re.search(rb"/Filter\s*(\[[^\]]*\]|/\w+)", text) or [b"", b""])[1])
    if re.search(rb"/DecodeParms", text) or any(name != b"FlateDecode" for name in filters):
        raise ValueError(
            f"the embedded manifest uses filters {[f.decode() for f in filters]} with parameters; only "
            "plain FlateDecode is read"
        )
    for _ in filters:
        try:
            data = zlib.decompress(data)
        except zlib.error as exc:
            raise ValueError(f"the embedded manifest cannot be decompressed ({exc})") from None
    checksum = re.search(rb"/CheckSum\s*<([0-9A-Fa-f]{32})>", text)
    if (
        checksum
        and hashlib.md5(data, usedforsecurity=False).hexdigest() != checksum.group(1).decode().lower()
    ):
        raise ValueError("the embedded manifest does not match its recorded /CheckSum")
    return data


@dataclass
class ReportAnchor:
    """What the agency-signed report vouches for: its manifest, checked against the agency certificate."""

    signature: PdfSignature
    manifest: Mapping[str, Any]


def _report_anchor(
    pdf: bytes, agency: list[x509.Certificate], part: str, result: Result
) -> ReportAnchor | None:
    """The report's embedded manifest, if the report's signature chains to the agency's certificate."""
    try:
        signature = pdf_signature_check(pdf)
    except (ValueError, IndexError) as exc:
        result.fail(part, f"cannot anchor the bundle: its PAdES signature does not verify ({exc})")
        return None
    if is_development_certificate(signature.certificate):
        result.fail(
            part,
            f"is signed by the development signer ({signature.subject}), which is not for court: it cannot "
            "anchor the bundle; ask the agency for a report signed with its certificate",
        )
        return None
    if not certificate_chains_to(signature.certificate, signature.chain, agency):
        result.fail(
            part,
            f"is signed by {signature.subject} (certificate SHA-256 {signature.certificate_sha256}), which "
            "is neither the certificate given with --agency-cert nor issued by it: the report is not the "
            "agency's, so it cannot anchor the bundle",
        )
        return None
    try:
        embedded = json.loads(pdf_embedded_manifest(pdf))
        if not isinstance(embedded, dict) or embedded.get("format") != MANIFEST_FORMAT:
            raise ValueError(f"it is not a {MANIFEST_FORMAT} manifest")
    except ValueError as exc:
        result.fail(part, f"cannot anchor the bundle: its embedded manifest cannot be read ({exc})")
        return None
    return ReportAnchor(signature=signature, manifest=embedded)


def _cross_check_items(manifest: Mapping[str, Any], anchor: ReportAnchor, part: str, result: Result) -> None:
    """Every item of the bundle must be in the signed report with the same hashes and size."""
    signed = {
        item.get("id"): item for item in anchor.manifest.get("items") or [] if isinstance(item, Mapping)
    }
    bad = 0
    for item in manifest.get("items") or []:
        if not isinstance(item, Mapping):
            continue
        theirs = signed.get(item.get("id"))
        if theirs is None:
            result.fail(part, f"the agency-signed report does not list item {item.get('id')} of the bundle")
            bad += 1
            continue
        differ = [name for name in ("sha256", "md5", "sha1", "size") if item.get(name) != theirs.get(name)]
        if differ:
            result.fail(
                f"item {item.get('id')}",
                f"its {', '.join(differ)} in the bundle's manifest ({item.get('sha256')}) differ from the "
                f"agency-signed report's ({theirs.get('sha256')}): these are not the items the agency "
                "signed for",
            )
            bad += 1
    if not bad:
        result.ok(f"{part}: every item's hashes equal those in the agency-signed report's manifest")


def _cross_check_checkpoint(
    manifest: Mapping[str, Any],
    anchor: ReportAnchor,
    checkpoints: Mapping[int, Mapping[str, Any]],
    proven: set[tuple[int, int]],
    part: str,
    result: Result,
) -> None:
    """The report's newest signed tree head must be in the bundle, and the bundle's newest must extend it."""
    signed = [c for c in anchor.manifest.get("checkpoints") or [] if isinstance(c, Mapping)]
    sized = [c for c in signed if isinstance(c.get("tree_size"), int)]
    if not sized or not checkpoints:
        result.fail(part, "the agency-signed report's manifest or the bundle holds no checkpoint to compare")
        return
    head = max(sized, key=lambda c: c["tree_size"])
    newest = max(checkpoints.values(), key=lambda c: c.get("tree_size") or 0)
    same = [
        c
        for c in checkpoints.values()
        if c.get("tree_size") == head["tree_size"] and c.get("root_hash") == head.get("root_hash")
    ]
    if not same:
        result.fail(
            part,
            f"the agency-signed report's checkpoint (size {head['tree_size']}, root {head.get('root_hash')}) "
            "is not in the bundle: its custody record is not the ledger the agency signed for",
        )
    elif same[0] is not newest and (same[0].get("id"), newest.get("id")) not in proven:
        result.fail(
            part,
            f"no valid consistency proof from the report's checkpoint {same[0].get('id')} to the bundle's "
            f"newest checkpoint {newest.get('id')}",
        )
    else:
        result.ok(
            f"{part}: the agency-signed report's checkpoint (size {head['tree_size']}) is in the bundle and "
            "the bundle's newest checkpoint extends it"
        )


def _bundle_key(encryption: Mapping[str, Any], decryption: Decryption) -> bytes:
    scheme = encryption.get("scheme")
    salt = hex_bytes(encryption.get("salt"), 32)
    if salt is None:
        raise ValueError("the manifest's encryption salt is not 32 bytes of hex")
    if scheme == SCHEME_X25519:
        if decryption.private_key is None:
            raise ValueError("the originals are encrypted to an X25519 key: give it with --key FILE")
        ephemeral = hex_bytes(encryption.get("ephemeral_public_key"), 32)
        recipient = hex_bytes(encryption.get("recipient_public_key"), 32)
        if ephemeral is None or recipient is None:
            raise ValueError("the manifest's X25519 keys are not 32 bytes of hex")
        mine = x25519_raw(decryption.private_key.public_key())
        if mine != recipient:
            raise ValueError(
                f"this key's public half is {mine.hex()}, but the originals were encrypted to "
                f"{recipient.hex()}: wrong key"
            )
        shared = decryption.private_key.exchange(x25519.X25519PublicKey.from_public_bytes(ephemeral))
        return bundle_key_x25519(shared, salt, ephemeral, recipient)
    if scheme == SCHEME_SCRYPT:
        if decryption.passphrase is None:
            raise ValueError(
                "the originals are encrypted with a passphrase: give it with --passphrase-file FILE"
            )
        n, r, p = encryption.get("n"), encryption.get("r"), encryption.get("p")
        if not all(isinstance(v, int) for v in (n, r, p)):
            raise ValueError("the manifest's scrypt parameters are not integers")
        return bundle_key_scrypt(decryption.passphrase, salt, int(n), int(r), int(p))  # type: ignore[arg-type]
    raise ValueError(f"unknown encryption scheme {scheme!r}")


def _check_files(
    zf: zipfile.ZipFile, manifest: Mapping[str, Any], result: Result
) -> dict[str, Mapping[str, Any]]:
    names = [info.filename for info in zf.infolist()]
    duplicates = {name for name in names if names.count(name) > 1}
    for name in sorted(duplicates):
        result.fail(name, "appears more than once in the ZIP (a second copy could hide behind the first)")
    bundle = manifest.get("bundle") if isinstance(manifest.get("bundle"), Mapping) else {}
    files = bundle.get("files") if isinstance(bundle, Mapping) else None
    if not isinstance(files, list):
        result.fail(MANIFEST_NAME, "lists no files (bundle.files is missing)")
        return {}
    listed: dict[str, Mapping[str, Any]] = {}
    for entry in files:
        if isinstance(entry, Mapping) and isinstance(entry.get("path"), str):
            listed[entry["path"]] = entry
    for name in names:
        if name not in listed and name not in (MANIFEST_NAME, SIGNATURE_NAME):
            result.fail(name, "is in the ZIP but not listed in the manifest")
    for path, entry in listed.items():
        if path not in names:
            result.fail(path, "is listed in the manifest but missing from the ZIP")
            continue
        digest, size = hashlib.sha256(), 0
        try:
            with zf.open(path) as handle:
                for chunk in iter(lambda: handle.read(CHUNK_SIZE), b""):
                    digest.update(chunk)
                    size += len(chunk)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:  # CRC errors surface as BadZipFile
            result.fail(path, f"cannot be read from the ZIP ({exc})")
            continue
        if digest.hexdigest() != entry.get("sha256") or size != entry.get("size"):
            result.fail(
                path,
                f"SHA-256 {digest.hexdigest()} ({size} bytes) does not match the manifest's "
                f"{entry.get('sha256')} ({entry.get('size')} bytes): the file was altered",
            )
        else:
            result.ok(f"{path}: SHA-256 matches the manifest")
    return listed


def _check_checkpoints(
    manifest: Mapping[str, Any], trusted_key: str, result: Result
) -> dict[int, Mapping[str, Any]]:
    checkpoints: dict[int, Mapping[str, Any]] = {}
    for checkpoint in manifest.get("checkpoints") or []:
        if not isinstance(checkpoint, Mapping) or not isinstance(checkpoint.get("id"), int):
            result.fail(MANIFEST_NAME, "a checkpoint entry has no id")
            continue
        part = f"checkpoint {checkpoint['id']}"
        checkpoints[checkpoint["id"]] = checkpoint
        if checkpoint.get("public_key") != trusted_key:
            result.fail(
                part, f"names public key {checkpoint.get('public_key')}, not the ledger key {trusted_key}"
            )
        signature = hex_bytes(checkpoint.get("signature"), 64)
        tree_size = checkpoint.get("tree_size")
        if (
            signature is None
            or not isinstance(tree_size, int)
            or not ed25519_ok(
                trusted_key,
                signature,
                checkpoint_message(
                    tree_size, str(checkpoint.get("root_hash")), str(checkpoint.get("created_at"))
                ),
            )
        ):
            result.fail(
                part, "signature does not verify with the ledger key (size, root, time or signature altered)"
            )
        else:
            result.ok(f"{part}: signature verifies (size {tree_size}, signed {checkpoint.get('created_at')})")
    if not checkpoints:
        result.fail(MANIFEST_NAME, "holds no checkpoints")
    return checkpoints


def _check_consistency(
    manifest: Mapping[str, Any], checkpoints: Mapping[int, Mapping[str, Any]], result: Result
) -> set[tuple[int, int]]:
    proven: set[tuple[int, int]] = set()
    for proof in manifest.get("consistency") or []:
        if not isinstance(proof, Mapping):
            result.fail(MANIFEST_NAME, "a consistency entry is not an object")
            continue
        old_id, new_id = proof.get("old_checkpoint"), proof.get("new_checkpoint")
        part = f"consistency {old_id}->{new_id}"
        old, new = checkpoints.get(old_id), checkpoints.get(new_id)  # type: ignore[arg-type]
        path = _hex_list(proof.get("proof"))
        if old is None or new is None or path is None:
            result.fail(
                part, "names a checkpoint the manifest does not hold, or a proof node is not 64 hex digits"
            )
            continue
        old_root, new_root = hex_bytes(old.get("root_hash"), 32), hex_bytes(new.get("root_hash"), 32)
        old_size, new_size = old.get("tree_size"), new.get("tree_size")
        if (
            old_root is None
            or new_root is None
            or not isinstance(old_size, int)
            or not isinstance(new_size, int)
            or not verify_consistency(old_size, new_size, old_root, new_root, path)
        ):
            result.fail(
                part,
                f"does not prove the signed tree of {old_size} is a prefix of the signed tree of {new_size}",
            )
            continue
        proven.add((old_id, new_id))  # type: ignore[arg-type]
        result.ok(f"{part}: the older signed tree is a prefix of the newer one")
    return proven


def _check_events(
    manifest: Mapping[str, Any],
    checkpoints: Mapping[int, Mapping[str, Any]],
    proven: set[tuple[int, int]],
    result: Result,
) -> dict[int, list[dict[str, Any]]]:
    """Leaf hashes, inclusion proofs and first signatures; returns each item's events (parsed) by item id."""
    chains: dict[int, list[dict[str, Any]]] = {}
    events = manifest.get("events")
    if not isinstance(events, list):
        result.fail(MANIFEST_NAME, "holds no events list")
        return chains
    good = 0
    for event in events:
        if not isinstance(event, Mapping) or not isinstance(event.get("seq"), int):
            result.fail(MANIFEST_NAME, "an event entry has no seq")
            continue
        seq = event["seq"]
        part = f"event {seq}"
        leaf_data = event.get("leaf_data")
        leaf = hex_bytes(event.get("leaf_hash"), 32)
        if not isinstance(leaf_data, str) or leaf is None:
            result.fail(part, "has no leaf data or no 64-hex leaf hash")
            continue
        failed = False
        recomputed = leaf_hash(leaf_data.encode("utf-8"))
        if recomputed != leaf:
            result.fail(part, f"leaf data hashes to {recomputed.hex()}, not the recorded leaf {leaf.hex()}")
            failed = True
        try:
            payload = json.loads(leaf_data)
        except ValueError:
            result.fail(part, "leaf data is not JSON")
            continue
        if (
            not isinstance(payload, dict)
            or payload.get("seq") != seq
            or payload.get("item") != event.get("item")
        ):
            result.fail(part, "leaf data names another seq or item than the manifest entry")
            failed = True
        inclusion = event.get("inclusion") if isinstance(event.get("inclusion"), Mapping) else {}
        checkpoint = checkpoints.get(inclusion.get("checkpoint"))  # type: ignore[arg-type, union-attr]
        path = _hex_list(inclusion.get("proof"))  # type: ignore[union-attr]
        if checkpoint is None or path is None:
            result.fail(
                part, "inclusion proof names no checkpoint the manifest holds, or a node is not 64 hex digits"
            )
            failed = True
        else:
            root = hex_bytes(checkpoint.get("root_hash"), 32)
            size = checkpoint.get("tree_size")
            if root is None or not isinstance(size, int) or not verify_inclusion(seq, size, leaf, path, root):
                result.fail(
                    part,
                    f"inclusion proof does not lead from leaf {seq} to the root signed by checkpoint "
                    f"{checkpoint.get('id')}",
                )
                failed = True
            first = event.get("first_signed_by")
            if first is not None and first != checkpoint.get("id"):
                first_cp = checkpoints.get(first)
                if (
                    first_cp is None
                    or not isinstance(first_cp.get("tree_size"), int)
                    or seq >= first_cp["tree_size"]
                ):
                    result.fail(part, f"first_signed_by names checkpoint {first}, which does not cover it")
                    failed = True
                elif (first, checkpoint.get("id")) not in proven:
                    result.fail(
                        part, f"no valid consistency proof from checkpoint {first} to {checkpoint.get('id')}"
                    )
                    failed = True
        if isinstance(payload, dict) and isinstance(payload.get("item"), int):
            chains.setdefault(payload["item"], []).append({**payload, "leaf_hash": leaf.hex()})
        good += not failed
    result.ok(f"{good} of {len(events)} custody events: leaf hashes and inclusion proofs hold")
    return chains


# Manifest item field ← where the `acquired` event's leaf data records it (details, or the event itself).
_ITEM_FACTS = {
    "name": ("details", "original_name"),
    "path": ("details", "original_path"),
    "path_raw": ("details", "original_path_raw"),
    "source": ("details", "source"),
    "mime": ("details", "mime"),
    "size": ("details", "size"),
    "md5": ("details", "md5"),
    "sha1": ("details", "sha1"),
    "acquired_at": ("details", "acquired_at"),
    "acquisition": ("details", "acquisition"),
    "acquired_by": ("event", "actor_name"),
    "seizure_reference": ("event", "legal_authority"),
}


# Facts that may name a person are in the leaf only as "<key>_sha256": SHA-256(salt || canonical JSON of
# the value), with the salt in the manifest's item as "record_salt" (hex); older leaves hold them in clear.
COMMITMENT_SUFFIX = "_sha256"
_MIN_SALT_BYTES = 16


def canonical_json(value: Any) -> bytes:
    """The ledger's canonical JSON: sorted keys, no spaces, UTF-8 without escapes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def fact_commitment(salt: bytes, value: Any) -> str:
    """SHA-256(salt || canonical JSON of value), hex: what a leaf holds of a fact that may name a person."""
    return hashlib.sha256(salt + canonical_json(value)).hexdigest()


def _acquired_facts(event: Mapping[str, Any]) -> dict[str, tuple[bool, Any]]:
    """The facts about an item that its `acquired` leaf records, each as (committed, value or commitment);
    older leaves record fewer, and in clear."""
    details = event.get("details") if isinstance(event.get("details"), Mapping) else {}
    facts = {}
    for name, (where, key) in _ITEM_FACTS.items():
        source = details if where == "details" else event
        if where == "details" and key + COMMITMENT_SUFFIX in source:  # type: ignore[operator]
            facts[name] = (True, source[key + COMMITMENT_SUFFIX])  # type: ignore[index]
        elif key in source:  # type: ignore[operator]
            facts[name] = (False, source[key])  # type: ignore[index]
    return facts


def _record_salt(item: Mapping[str, Any]) -> bytes | None:
    salt = item.get("record_salt")
    if not isinstance(salt, str):
        return None
    try:
        raw = bytes.fromhex(salt)
    except ValueError:
        return None
    return raw if len(raw) >= _MIN_SALT_BYTES else None


def _fact_failures(item: Mapping[str, Any], acquired: Mapping[str, Any]) -> list[str]:
    """Each manifest fact of ``item`` that is not what its `acquired` leaf recorded (or committed to)."""
    failures = []
    facts = _acquired_facts(acquired)
    salt = _record_salt(item)
    committed = sorted(name for name, (is_commitment, _) in facts.items() if is_commitment and name in item)
    if committed and salt is None:
        return [
            f"its {', '.join(committed)} cannot be checked: its 'acquired' custody event holds them as "
            "salted SHA-256 commitments and the manifest gives no record_salt (hex, at least 16 bytes) to "
            "recompute them with"
        ]
    for name, (is_commitment, recorded) in facts.items():
        if name not in item:
            continue
        if is_commitment:
            if salt is None:  # cannot happen: reported above
                continue
            found = fact_commitment(salt, item[name])
            if found != recorded:
                failures.append(
                    f"its {name} in the manifest ({item[name]!r}) is not what its 'acquired' custody event "
                    f"recorded at seizure (SHA-256 of the salt and the value is {found}, the event's "
                    f"{recorded}): the item's record was altered"
                )
        elif item[name] != recorded:
            failures.append(
                f"its {name} in the manifest ({item[name]!r}) is not what its 'acquired' custody event "
                f"recorded at seizure ({recorded!r}): the item's record was altered"
            )
    return failures


def _check_items(
    manifest: Mapping[str, Any], chains: Mapping[int, list[dict[str, Any]]], result: Result
) -> dict[int, Mapping[str, Any]]:
    items: dict[int, Mapping[str, Any]] = {}
    for item in manifest.get("items") or []:
        if isinstance(item, Mapping) and isinstance(item.get("id"), int):
            items[item["id"]] = item
    for item_id, item in items.items():
        part = f"item {item_id}"
        chain = sorted(chains.get(item_id, []), key=lambda e: e["seq"])
        if not chain:
            result.fail(part, "has no custody events in the manifest")
            continue
        previous = GENESIS_HASH
        broken = False
        for event in chain:
            if event.get("prev_hash") != previous:
                result.fail(
                    part,
                    f"custody chain broken at event {event['seq']}: prev_hash {event.get('prev_hash')} "
                    f"is not the previous event's leaf {previous} (an event was removed, added or altered)",
                )
                broken = True
                break
            previous = event["leaf_hash"]
        acquired = [e for e in chain if e.get("action") == "acquired"]
        if not acquired or acquired[0].get("sha256_after") != item.get("sha256"):
            result.fail(
                part, "its 'acquired' custody event does not record the SHA-256 the manifest gives the item"
            )
            broken = True
        else:
            for failure in _fact_failures(item, acquired[0]):
                result.fail(part, failure)
                broken = True
        if not broken:
            result.ok(f"{part}: custody chain of {len(chain)} events unbroken from acquisition")
    for exhibit in manifest.get("exhibits") or []:
        if isinstance(exhibit, Mapping):
            for item_id in exhibit.get("items") or []:
                if item_id not in items:
                    result.fail(
                        f"exhibit {exhibit.get('number')}", f"lists item {item_id}, which the manifest lacks"
                    )
    return items


def _check_originals(
    zf: zipfile.ZipFile,
    manifest: Mapping[str, Any],
    listed: Mapping[str, Mapping[str, Any]],
    items: Mapping[int, Mapping[str, Any]],
    decryption: Decryption,
    result: Result,
) -> None:
    bundle = manifest.get("bundle") or {}
    originals = [entry for entry in listed.values() if entry.get("role") == "original"]
    carried = [entry.get("item") for entry in originals]
    for item_id in items:
        if carried.count(item_id) != 1:
            result.fail(
                f"item {item_id}", f"has {carried.count(item_id)} encrypted originals in the bundle, not one"
            )
    for entry in originals:
        if entry.get("item") not in items:
            result.fail(
                entry["path"], f"is the original of item {entry.get('item')}, which the manifest lacks"
            )
    if decryption.private_key is None and decryption.passphrase is None:
        result.notes.append(
            f"{len(originals)} encrypted original(s) not decrypted: give --key FILE or --passphrase-file "
            "FILE to check them against the hashes taken at acquisition"
        )
        return
    try:
        key = _bundle_key(bundle.get("encryption") or {}, decryption)
    except ValueError as exc:
        result.fail("key", str(exc))
        return
    for entry in originals:
        path = entry["path"]
        item = items.get(entry.get("item"))  # type: ignore[arg-type]
        salt = hex_bytes(entry.get("file_salt"), 16)
        if item is None or salt is None:
            continue
        digests = {name: hashlib.new(name) for name in ("sha256", "md5", "sha1")}
        size = 0
        target = None
        if decryption.extract_to is not None:
            decryption.extract_to.mkdir(parents=True, exist_ok=True)
            target = tempfile.NamedTemporaryFile(dir=decryption.extract_to, delete=False, suffix=".part")  # noqa: SIM115
        try:
            with zf.open(path) as handle:
                for chunk in decrypt_stream(handle, file_key(key, salt, path)):
                    for digest in digests.values():
                        digest.update(chunk)
                    size += len(chunk)
                    if target is not None:
                        target.write(chunk)
        except (InvalidTag, ValueError, zipfile.BadZipFile, OSError, EOFError) as exc:
            reason = (
                "authentication tag check failed (wrong key, or the file was altered)"
                if isinstance(exc, InvalidTag)
                else str(exc)
            )
            result.fail(path, f"cannot be decrypted: {reason}")
            if target is not None:
                target.close()
                Path(target.name).unlink()
            continue
        mismatched = [name for name, d in digests.items() if d.hexdigest() != item.get(name)]
        if size != item.get("size"):
            mismatched.append("size")
        if target is not None:
            target.close()
            if mismatched:
                Path(target.name).unlink()
            else:
                Path(target.name).replace(decryption.extract_to / Path(path).name.removesuffix(".enc"))  # type: ignore[operator]
        if mismatched:
            result.fail(
                path,
                f"decrypts to bytes whose {', '.join(mismatched)} differ from those taken at acquisition of "
                f"item "
                f"{entry.get('item')}",
            )
        else:
            result.ok(
                f"{path}: decrypts to the original of item {entry.get('item')} "
                "(SHA-256, MD5, SHA-1 and size as acquired)"
            )


def _check_pdf(
    zf: zipfile.ZipFile, manifest: Mapping[str, Any], listed: Mapping[str, Mapping[str, Any]], result: Result
) -> None:
    reports = [entry for entry in listed.values() if entry.get("role") == "report"]
    if not reports:
        result.fail(MANIFEST_NAME, "lists no signed report PDF")
        return
    recorded = (manifest.get("bundle") or {}).get("report") or {}
    expected = recorded.get("signer_certificate_sha256")
    for entry in reports:
        path = entry["path"]
        if entry.get("sha256") != recorded.get("sha256"):
            result.fail(
                path,
                f"is listed with SHA-256 {entry.get('sha256')}, the report record says "
                f"{recorded.get('sha256')}",
            )
        if path not in zf.namelist():
            continue
        try:
            signature = pdf_signature_check(zf.read(path))
        except (ValueError, IndexError, zipfile.BadZipFile) as exc:
            result.fail(path, f"PAdES signature check failed: {exc}")
            continue
        if signature.certificate_sha256 != expected:
            result.fail(
                path,
                f"signed by certificate {signature.certificate_sha256} ({signature.subject}), not the "
                f"certificate "
                f"{expected} recorded in the manifest",
            )
        else:
            result.ok(
                f"{path}: PAdES signature verifies, signer {signature.subject} "
                f"(certificate SHA-256 {expected})"
            )


def _not_anchored(manifest_key: str) -> str:
    return (
        "the bundle is NOT anchored: nothing from outside this ZIP vouches for it. Its signatures verify "
        f"with the ledger key its own manifest names (key id {ledger_key_id(manifest_key)}), but anyone can "
        "make a bundle that passes every other check: replace the originals, rebuild the chains, proofs and "
        "checkpoints under a key of their own and sign them. Give --ledger-key with the agency's ledger "
        "public key obtained independently (its key id is printed in the signed report and on the portal's "
        "How to verify page), or --agency-cert with the agency's signing certificate or CA so that the "
        "agency-signed report vouches for the bundle"
    )


def _report_bytes(zf: zipfile.ZipFile, manifest: Mapping[str, Any]) -> tuple[str, bytes | None]:
    recorded = (manifest.get("bundle") or {}).get("report") or {}
    named = recorded.get("path")
    path = named if isinstance(named, str) else "report.pdf"
    try:
        return path, zf.read(path)
    except (KeyError, zipfile.BadZipFile, OSError, EOFError):
        return path, None


def _check_timestamps(
    manifest: Mapping[str, Any],
    checkpoints: Mapping[int, Mapping[str, Any]],
    tsa_certificates: list[x509.Certificate] | None,
    result: Result,
) -> None:
    """Each RFC 3161 token: of its checkpoint's signed note (or its acquisition's manifest), by the TSA."""
    entries = [e for e in manifest.get("timestamps") or [] if isinstance(e, Mapping)]
    if not entries:
        result.notes.append(
            str(manifest.get("timestamp_note") or f"{NO_TRUSTED_TIMESTAMP}: the bundle carries no token")
        )
        return
    anchors = tsa_certificates
    if not anchors:
        carried = "".join(str(pem) for pem in manifest.get("tsa_certificates") or [])
        anchors = load_certificates(carried.encode(), what="the bundle's TSA certificate") if carried else []
        result.notes.append(
            "trusted timestamps are checked against the TSA certificate the bundle carries; give the "
            "authority's certificate obtained independently with --tsa-cert to anchor them"
        )
    acquisitions = {
        item.get("acquisition") for item in manifest.get("items") or [] if isinstance(item, Mapping)
    }
    for entry in entries:
        subject, subject_id = entry.get("subject"), entry.get("subject_id")
        part = f"timestamp {entry.get('id')} ({subject} {subject_id})"
        message = str(entry.get("message_sha256"))
        if subject == "checkpoint":
            checkpoint = checkpoints.get(subject_id)  # type: ignore[arg-type]
            if checkpoint is None:
                result.fail(part, "names a checkpoint the manifest does not hold")
                continue
            note = checkpoint_message(
                int(checkpoint["tree_size"]), str(checkpoint["root_hash"]), str(checkpoint["created_at"])
            )
            if hashlib.sha256(note).hexdigest() != message:
                result.fail(part, "does not timestamp this checkpoint's signed note")
                continue
        elif subject != "acquisition" or subject_id not in acquisitions:
            result.fail(part, "names neither a checkpoint nor an acquisition of the bundle's items")
            continue
        try:
            token = base64.b64decode(str(entry.get("token")), validate=True)
            info = timestamp_token_check(token, message_sha256=message, anchors=anchors)
        except (ValueError, binascii.Error) as exc:
            result.fail(part, f"does not verify: {exc}")
            continue
        result.ok(f"{part}: trusted time {info.gen_time} from {info.tsa_subject}")


def verify_bundle(
    path: Path,
    *,
    decryption: Decryption | None = None,
    trusted_ledger_key: str | None = None,
    agency_certificates: list[x509.Certificate] | None = None,
    tsa_certificates: list[x509.Certificate] | None = None,
) -> Result:
    """Check everything in the bundle at ``path``; the result lists each failure by part.

    The bundle must be anchored from outside the ZIP: by ``trusted_ledger_key`` (obtained from the agency)
    or by its report, signed by one of ``agency_certificates`` (or a CA among them) with the bundle's items
    and checkpoint in its embedded manifest. Without an anchor the checks still run and the result fails.
    """
    decryption = decryption or Decryption()
    result = Result()
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        result.fail("zip", f"{path} is not a readable ZIP ({exc}); was the download cut short?")
        return result
    with zf:
        try:
            manifest_bytes = zf.read(MANIFEST_NAME)
        except KeyError:
            result.fail(MANIFEST_NAME, "is missing from the ZIP")
            return result
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            result.fail(MANIFEST_NAME, f"cannot be read from the ZIP ({exc})")
            return result
        try:
            manifest = json.loads(manifest_bytes)
            if not isinstance(manifest, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            result.fail(MANIFEST_NAME, f"is not valid JSON ({exc})")
            return result
        if manifest.get("format") != MANIFEST_FORMAT or manifest.get("format_version") != MANIFEST_VERSION:
            result.fail(MANIFEST_NAME, f"is not a {MANIFEST_FORMAT} v{MANIFEST_VERSION} manifest")
        manifest_key = str(manifest.get("ledger_public_key"))
        report_anchor = None
        if agency_certificates:
            report_path, pdf = _report_bytes(zf, manifest)
            if pdf is None:
                result.fail(
                    report_path, "cannot anchor the bundle: the signed report is missing from the ZIP"
                )
            else:
                report_anchor = _report_anchor(pdf, agency_certificates, report_path, result)
        if report_anchor is not None:
            signed_key = str(report_anchor.manifest.get("ledger_public_key"))
            if signed_key != manifest_key:
                result.fail(
                    MANIFEST_NAME,
                    f"names ledger key {manifest_key} (key id {ledger_key_id(manifest_key)}), but the "
                    f"agency-signed report names {signed_key} (key id {ledger_key_id(signed_key)}): the "
                    "bundle was not made by the ledger the agency's report vouches for",
                )
            else:
                result.anchors.append(
                    f"the report signed by {report_anchor.signature.subject}, issued under the agency "
                    f"certificate given, names this bundle's ledger key (key id {ledger_key_id(signed_key)})"
                )
        if trusted_ledger_key is not None:
            if manifest_key != trusted_ledger_key:
                result.fail(
                    MANIFEST_NAME,
                    f"names ledger key {manifest_key} (key id {ledger_key_id(manifest_key)}), not the "
                    f"trusted key {trusted_ledger_key} (key id {ledger_key_id(trusted_ledger_key)})",
                )
            else:
                result.anchors.append(
                    f"the ledger key given with --ledger-key (key id {ledger_key_id(trusted_ledger_key)})"
                )
        trusted = trusted_ledger_key or manifest_key
        if not result.anchors and trusted_ledger_key is None and report_anchor is None:
            result.fail("anchor", _not_anchored(manifest_key))
        try:
            signature = zf.read(SIGNATURE_NAME)
        except KeyError:
            result.fail(SIGNATURE_NAME, "is missing from the ZIP")
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            result.fail(SIGNATURE_NAME, f"cannot be read from the ZIP ({exc})")
        else:
            if ed25519_ok(trusted, signature, manifest_bytes):
                result.ok(f"{SIGNATURE_NAME}: the manifest is signed by the ledger key {trusted}")
            else:
                result.fail(
                    SIGNATURE_NAME,
                    "the Ed25519 signature of manifest.json does not verify with the ledger key (the "
                    "manifest or its signature was altered)",
                )
        try:
            listed = _check_files(zf, manifest, result)
            checkpoints = _check_checkpoints(manifest, trusted, result)
            proven = _check_consistency(manifest, checkpoints, result)
            chains = _check_events(manifest, checkpoints, proven, result)
            items = _check_items(manifest, chains, result)
            _check_pdf(zf, manifest, listed, result)
            _check_timestamps(manifest, checkpoints, tsa_certificates, result)
            if report_anchor is not None:
                part = "agency-signed report"
                _cross_check_items(manifest, report_anchor, part, result)
                _cross_check_checkpoint(manifest, report_anchor, checkpoints, proven, part, result)
            _check_originals(zf, manifest, listed, items, decryption, result)
        except (TypeError, KeyError, AttributeError, ValueError, IndexError) as exc:
            # A manifest of the wrong shape (hand-edited or forged) stops the checks; say so, do not crash.
            result.fail(
                MANIFEST_NAME, f"is malformed, the remaining checks stopped ({type(exc).__name__}: {exc})"
            )
    return result


def _read_key_argument(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read {what} {path}: {exc.strerror}") from None


def _say(stream: TextSink, text: str) -> None:
    stream.write(text + "\n")


def main(
    argv: list[str] | None = None, *, stdout: TextSink | None = None, stderr: TextSink | None = None
) -> int:
    """Command line: returns 0 (all holds), 1 (failures, each listed) or 2 (usage)."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    parser = argparse.ArgumentParser(
        prog="python -m evidence.bundle",
        description="Verify a Haetae export bundle offline: hashes, custody proofs, signatures, originals.",
    )
    parser.add_argument("bundle", metavar="FILE.zip")
    secret = parser.add_mutually_exclusive_group()
    secret.add_argument(
        "--key", metavar="FILE", help="the recipient's X25519 private key (raw, base64 or PEM)"
    )
    secret.add_argument("--passphrase-file", metavar="FILE", help="a file holding the passphrase (one line)")
    parser.add_argument(
        "--ledger-key",
        metavar="HEX|FILE",
        help="the ledger public key obtained from the agency, not from the bundle (64 hex digits, or a file "
        "holding them, the raw key or a PEM Ed25519 public key); anchors the bundle",
    )
    parser.add_argument(
        "--agency-cert",
        metavar="FILE",
        action="append",
        default=[],
        help="the agency's report-signing certificate or its CA (PEM or DER), obtained independently; the "
        "signed report then anchors the bundle (may be given more than once)",
    )
    parser.add_argument(
        "--tsa-cert",
        metavar="FILE",
        action="append",
        default=[],
        help="the timestamp authority's certificate or CA (PEM or DER), obtained independently; the "
        "bundle's RFC 3161 tokens must chain to it (without it, to the one the bundle carries)",
    )
    parser.add_argument(
        "--extract", metavar="DIR", help="write the decrypted originals here (after checking them)"
    )
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    path = Path(args.bundle)
    if not path.is_file():
        _say(err, f"error: {path} is not a file")
        return 2
    decryption = Decryption(extract_to=Path(args.extract) if args.extract else None)
    try:
        if args.key:
            decryption.private_key = load_x25519_private(
                _read_key_argument(args.key, "key file"), what=f"key file {args.key}"
            )
        if args.passphrase_file:
            raw = _read_key_argument(args.passphrase_file, "passphrase file")
            decryption.passphrase = raw.rstrip(b"\r\n")
            if not decryption.passphrase:
                raise KeyFileError(f"passphrase file {args.passphrase_file} is empty")
    except KeyFileError as exc:
        _say(err, f"error: {exc}")
        return 2
    ledger_key = None
    agency: list[x509.Certificate] = []
    tsa: list[x509.Certificate] = []
    try:
        for cert_path in args.tsa_cert:
            tsa += load_certificates(
                _read_key_argument(cert_path, "certificate file"), what=f"certificate file {cert_path}"
            )
        if args.ledger_key:
            ledger_key = load_ledger_key(args.ledger_key)
        for cert_path in args.agency_cert:
            agency += load_certificates(
                _read_key_argument(cert_path, "certificate file"), what=f"certificate file {cert_path}"
            )
    except KeyFileError as exc:
        _say(err, f"error: {exc}")
        return 2
    development = [cert for cert in agency if is_development_certificate(cert)]
    if development:
        _say(
            err,
            f"error: --agency-cert {development[0].subject.rfc4514_string()} is Haetae's development "
            "signer, which is not for court and anchors nothing: give the agency's own certificate or CA",
        )
        return 2
    if args.extract and not (decryption.private_key or decryption.passphrase):
        _say(err, "error: --extract needs --key or --passphrase-file")
        return 2
    result = verify_bundle(
        path,
        decryption=decryption,
        trusted_ledger_key=ledger_key,
        agency_certificates=agency or None,
        tsa_certificates=tsa or None,
    )
    for line in result.passed:
        _say(out, f"ok    {line}")
    for line in result.notes:
        _say(out, f"note  {line}")
    for part, message in result.failures:
        _say(out, f"FAIL  [{part}] {message}")
    for anchor in result.anchors:
        _say(out, f"anchor {anchor}")
    if result.failures:
        _say(out, f"{len(result.failures)} failure(s): the bundle does NOT verify")
        return 1
    _say(out, "the bundle verifies and is anchored: every hash, proof and signature holds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
