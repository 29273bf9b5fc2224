"""Types shared by the report's parts (data, render, signing) so none imports another for a type alone."""

from dataclasses import dataclass


@dataclass(frozen=True)
class SignerInfo:
    """Who signs a report, as its cover states it; ``development`` puts the not-for-court warning on it."""

    subject: str
    development: bool
    certificate_sha256: str
