"""manage.py capture NUMBER URL... --actor USERNAME [--json]"""

import sys
from typing import Any

from access.policy import Action
from access.selectors import case_for_command
from captures.choices import CaptureStatus
from captures.selectors import capture_items
from captures.services import capture_request, capture_run, capture_urls_check
from haetae.cli import HaetaeCommand
from haetae.errors import RejectedInput, UsageError


class Command(HaetaeCommand):
    """Capture reported URLs into a case with headless Chromium: a WACZ of every response, a full-page
    screenshot, the rendered DOM and its text, and the capture's facts (final URL, server address, TLS
    chain, headers, user agent, times), each an item of one acquisition. Exit 0 when every URL was
    captured, 1 when any failed (each with its reason), 2 on usage errors."""

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("number", help="case number, e.g. 2024-SEOUL-0001")
        parser.add_argument("urls", nargs="+", metavar="URL", help="http:// or https:// addresses")
        self.add_actor_and_json(
            parser, actor_help="username of the person asking for the capture", required=True
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = self.get_actor(options["actor"])
        case = case_for_command(
            user=actor, number=options["number"], action=Action.CAPTURE_REQUEST, doing="ask for captures"
        )
        try:
            urls = capture_urls_check(options["urls"])
        except RejectedInput as exc:
            raise UsageError(str(exc)) from None
        outcomes: list[dict[str, Any]] = []
        for url in urls:
            capture = capture_run(capture=capture_request(case=case, url=url, actor=actor))
            outcomes.append(
                {
                    "capture": capture.pk,
                    "url": capture.url,
                    "status": capture.status,
                    "reason": capture.reason,
                    "final_url": capture.final_url,
                    "resolved_ip": capture.resolved_ip,
                    "acquisition": capture.acquisition_id,
                    "manifest_sha256": capture.acquisition.manifest_sha256 if capture.acquisition else None,
                    "files": capture_items(capture=capture),
                }
            )
            if not options["json"]:
                if capture.status == CaptureStatus.CAPTURED:
                    self.stdout.write(
                        f"captured {capture.url} → {capture.final_url} ({capture.resolved_ip}): capture "
                        f"{capture.pk}, acquisition {capture.acquisition_id}"
                    )
                    for item in outcomes[-1]["files"]:
                        self.stdout.write(f"  item {item['id']}: {item['name']} sha256 {item['sha256']}")
                else:
                    self.stderr.write(f"failed: {capture.url}: {capture.reason}")
        failed = [o for o in outcomes if o["status"] != CaptureStatus.CAPTURED]
        if options["json"]:
            self.emit_json({"case": case.number, "ok": not failed, "captures": outcomes})
        if failed:
            sys.exit(1)
