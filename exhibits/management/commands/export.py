"""manage.py export NUMBER --exhibits E-001,E-002 --recipient TEXT --out FILE.zip
[--recipient-key FILE | --passphrase-file FILE] [--lang ko|en] --actor USERNAME [--json]"""

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from access.policy import Action
from access.selectors import case_for_command
from exhibits.bundles import bundle_export, bundle_request, bundle_secret_check
from exhibits.choices import ReportLanguage
from exhibits.reports.services import report_generate, report_request
from haetae.cli import HaetaeCommand
from haetae.errors import UsageError


class Command(HaetaeCommand):
    """Export exhibits for the prosecutor: a ZIP with the signed manifest, a freshly generated signed report,
    the originals encrypted to the recipient's X25519 key (or a passphrase) and a README on verifying it.
    Each exported item gets an 'exported' custody event."""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("number", help="case number")
        parser.add_argument("--exhibits", required=True, help="exhibit numbers, comma-separated: E-001,E-002")
        parser.add_argument("--recipient", required=True, help="who receives it (office and name)")
        parser.add_argument("--out", required=True, help="where to write the ZIP")
        secret = parser.add_mutually_exclusive_group(required=True)
        secret.add_argument(
            "--recipient-key",
            metavar="FILE",
            help="the recipient's X25519 public key (raw 32 bytes, base64 or PEM)",
        )
        secret.add_argument(
            "--passphrase-file",
            metavar="FILE",
            help="a file holding the passphrase (one line), given out of band",
        )
        parser.add_argument(
            "--lang", choices=ReportLanguage.values, default=ReportLanguage.KO, help="report language"
        )
        self.add_actor_and_json(parser, actor_help="username of the person exporting", required=True)

    def _read(self, path: str, what: str) -> bytes:
        try:
            return Path(path).read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read {what} {path}: {exc.strerror}") from None

    def handle(self, *args: Any, **options: Any) -> None:

        actor = self.get_actor(options["actor"])
        case = case_for_command(
            user=actor, number=options["number"], action=Action.BUNDLE_EXPORT, doing="export bundles"
        )
        numbers = [n.strip() for n in options["exhibits"].split(",") if n.strip()]
        public_key = passphrase = None
        if options["recipient_key"]:
            public_key = self._read(options["recipient_key"], "recipient key file")
        else:
            passphrase = (
                self._read(options["passphrase_file"], "passphrase file").decode("utf-8").rstrip("\r\n")
            )
        out = Path(options["out"])
        if out.is_dir():
            raise UsageError(f"--out {out} is a directory: name the ZIP file to write")
        bundle_secret_check(recipient_public_key=public_key, passphrase=passphrase)  # before the slow part
        bundle = bundle_request(
            case=case, exhibit_numbers=numbers, recipient=options["recipient"], actor=actor
        )
        report = report_request(
            case=case, exhibit_numbers=bundle.scope, language=options["lang"], actor=actor
        )
        report = report_generate(report=report)
        bundle = bundle_export(
            bundle=bundle, out=out, recipient_public_key=public_key, passphrase=passphrase, report=report
        )
        payload = {
            "bundle": bundle.pk,
            "case": case.number,
            "exhibits": bundle.scope,
            "recipient": bundle.recipient,
            "recipient_key": bundle.recipient_key,
            "report": f"{report.report_id} v{report.version}",
            "sha256": bundle.sha256,
            "size": bundle.size,
            "out": str(out),
        }
        if options["json"]:
            self.emit_json(payload)
        else:
            self.stdout.write(
                f"exported {', '.join(bundle.scope)} of case {case.number} to {out} ({bundle.size} bytes, "
                f"SHA-256 {bundle.sha256}); verify with 'manage.py verify_bundle {out}'"
            )
