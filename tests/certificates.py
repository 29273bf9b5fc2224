"""Test certificates: one builder for the CAs, signers, TSAs and TLS leaves the tests make."""

import datetime
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificatePublicKeyTypes,
    PrivateKeyTypes,
)


def certificate(
    subject: x509.Name,
    public_key: CertificatePublicKeyTypes,
    *,
    signed_by: CertificateIssuerPrivateKeyTypes,
    issuer: x509.Name | None = None,
    valid_days: int = 30,
    not_before: datetime.datetime | None = None,
    extensions: Sequence[tuple[x509.ExtensionType, bool]] = (),
) -> x509.Certificate:
    """A certificate for ``public_key`` signed (SHA-256) by ``signed_by`` as ``issuer`` (self-signed when
    no issuer is named), valid from a day ago (or ``not_before``) to ``valid_days`` from now; each extension
    with whether it is critical."""
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer or subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=valid_days))
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(signed_by, hashes.SHA256())


def key_pem(key: PrivateKeyTypes) -> bytes:
    """A private key as unencrypted PKCS#8 PEM."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
