"""manage.py report NUMBER --out FILE.pdf [--exhibits E-001,…] [--lang ko|en] --actor USERNAME [--json]"""

from pathlib import Path
from typing import Any

from access.policy import Action
from access.selectors import case_for_command
from exhibits.choices import ReportLanguage, ReportStatus
from exhibits.reports.services import report_generate, report_open, report_request
from haetae.cli import HaetaeCommand
from haetae.errors import RejectedInput, UsageError


class Command(HaetaeCommand):
    """Generate a signed PDF/A-3 report of a case's exhibits (every exhibit not withdrawn, unless --exhibits
    names some), store it in the vault as a new version and write it to --out (a report_downloaded custody
    event). Exit 1 with the reason if the report is refused or fails."""

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("number", help="case number, e.g. 2024-SEOUL-0001")
        parser.add_argument("--out", required=True, help="where to write the signed PDF")
        parser.add_argument(
            "--exhibits", help="comma-separated exhibit numbers, e.g. E-001,E-002 (default: all)"
        )
        parser.add_argument(
            "--lang", choices=ReportLanguage.values, default=ReportLanguage.KO, help="language"
        )
        self.add_actor_and_json(
            parser, actor_help="username of who asks for the report (recorded)", required=True
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = self.get_actor(options["actor"])
        out = Path(options["out"])
        if out.exists() and out.is_dir():
            raise UsageError(f"--out {out} is a directory: name the PDF file to write")
        if not out.parent.is_dir():
            raise UsageError(f"--out: the directory {out.parent} does not exist")
        numbers = [n.strip() for n in options["exhibits"].split(",")] if options["exhibits"] else None
        case = case_for_command(
            user=actor, number=options["number"], action=Action.REPORT_REQUEST, doing="generate reports"
        )
        report = report_request(case=case, exhibit_numbers=numbers, language=options["lang"], actor=actor)
        with self.progress(total=100, unit="%", enabled=not options["json"]) as bar:

            def advance(percent: int) -> None:
                bar.update(max(0, percent - bar.n))

            report = report_generate(report=report, on_progress=advance)
            if report.status == ReportStatus.DONE:
                advance(100)
        if report.status != ReportStatus.DONE:
            raise RejectedInput(f"report {report.report_id} v{report.version} failed: {report.error}")
        partial = out.with_name(f".{out.name}.partial")
        try:
            with open(partial, "wb") as handle:
                for chunk in report_open(report=report, actor=actor, purpose=f"manage.py report --out {out}"):
                    handle.write(chunk)
            partial.replace(out)
        finally:
            partial.unlink(missing_ok=True)
        payload = {
            "case": case.number,
            "report_id": report.report_id,
            "version": report.version,
            "language": report.language,
            "exhibits": report.scope,
            "sha256": report.sha256,
            "size": report.size,
            "pages": report.page_count,
            "signer": report.signer_subject,
            "development_signer": report.development_signer,
            "out": str(out),
        }
        if options["json"]:
            self.emit_json(payload)
            return
        self.stdout.write(
            f"report {report.report_id} v{report.version}: {report.page_count} pages, "
            f"SHA-256 {report.sha256}, written to {out}"
        )
        if report.development_signer:
            self.stdout.write(
                "warning: signed with the development certificate, not for court: set "
                "HAETAE_SIGNER_CERT_FILE and HAETAE_SIGNER_KEY_FILE to the agency's certificate and key"
            )
