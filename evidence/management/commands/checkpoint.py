"""manage.py checkpoint: sign the custody ledger's current tree head (Celery beat does it in production)."""

from typing import Any

from django.core.management.base import CommandParser

from evidence.ledger import checkpoint_create, checkpoint_summary
from haetae.cli import HaetaeCommand


class Command(HaetaeCommand):
    """Sign the custody ledger's Merkle tree head (size, root, time) with the ledger key. If nothing was
    appended since the last checkpoint, that one is shown again."""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        summary = checkpoint_summary(checkpoint_create())
        if options["json"]:
            self.emit_json(summary)
            return
        self.stdout.write(
            f"checkpoint {summary['id']}: size {summary['tree_size']}, root {summary['root_hash']}, "
            f"signed {summary['created_at']} by key {summary['key_id']}"
        )
