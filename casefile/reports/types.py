"""Small value types shared by the report modules (rendering, signing, services)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class SignerInfo:
    """Who signs a report, as the cover shows it: subject, whether it is the development signer, and the
    SHA-256 of the signer's certificate (DER), by which a reader matches it to the signature."""

    subject: str
    development: bool
    certificate_sha256: str
