"""Types shared by the report's parts (data, render, signing) so none imports another for a type alone."""

from dataclasses import dataclass


@dataclass(frozen=True)
class SignerInfo:
    """Who signs a report, as the cover shows it: subject, whether it is the development signer (which puts
    the not-for-court warning on the cover), and the SHA-256 of the signer's certificate (DER), by which a
    reader matches it to the signature."""

    subject: str
    development: bool
    certificate_sha256: str
