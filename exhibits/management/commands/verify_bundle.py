"""manage.py verify_bundle FILE.zip (--ledger-key HEX|FILE | --agency-cert FILE) [--tsa-cert FILE]
[--key FILE] [--extract DIR]

Needs no database and no server: it runs the standalone verifier ``evidence/bundle.py``.
"""

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from evidence import bundle


class Command(BaseCommand):
    help = (
        "Verify an export bundle offline: every file's SHA-256, the manifest signature, custody chains, "
        "inclusion and consistency proofs, checkpoint signatures, the PDF signature and, with the key, the "
        "originals; the bundle must be anchored by --ledger-key or --agency-cert. Exit 0 when everything "
        "holds, 1 listing each failure (or an unanchored bundle), 2 for a usage error."
    )
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("bundle", metavar="FILE.zip")
        parser.add_argument(
            "--key", metavar="FILE", help="the recipient's X25519 private key (raw, base64 or PEM)"
        )
        parser.add_argument("--passphrase-file", metavar="FILE", help="a file holding the passphrase")
        parser.add_argument(
            "--ledger-key",
            metavar="HEX|FILE",
            help="the ledger public key obtained from the agency, not from the bundle; anchors the bundle",
        )
        parser.add_argument(
            "--agency-cert",
            metavar="FILE",
            action="append",
            default=[],
            help="the agency's report-signing certificate or CA (PEM or DER); the signed report anchors the "
            "bundle",
        )
        parser.add_argument(
            "--tsa-cert",
            metavar="FILE",
            action="append",
            default=[],
            help="the timestamp authority's certificate or CA (PEM or DER); the bundle's RFC 3161 tokens "
            "must chain to it",
        )
        parser.add_argument("--extract", metavar="DIR", help="write the decrypted originals here")

    def handle(self, *args: Any, **options: Any) -> None:
        argv = [options["bundle"]]
        for name in ("key", "passphrase_file", "ledger_key", "extract"):
            if options[name]:
                argv += [f"--{name.replace('_', '-')}", options[name]]
        for cert in options["agency_cert"]:
            argv += ["--agency-cert", cert]
        for cert in options["tsa_cert"]:
            argv += ["--tsa-cert", cert]
        code = bundle.main(argv, stdout=self.stdout, stderr=self.stderr)
        if code:
            sys.exit(code)
