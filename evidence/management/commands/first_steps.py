"""manage.py first_steps: what `make run` prints before the server starts (the demo, a first user, URLs)."""

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model

from evidence.crypto import ledger_signing_key, master_key
from haetae.cli import HaetaeCommand


class Command(HaetaeCommand):
    """Create the data directory's keys if missing and print how to start using Haetae."""

    def handle(self, *args: Any, **options: Any) -> None:
        key = master_key()
        ledger_signing_key()
        users = get_user_model().objects.count()
        lines = [
            "",
            f"Haetae data directory: {settings.DATA_DIR}",
            f"  vault: {settings.VAULT_DIR}   master key id: {key.key_id} ({settings.MASTER_KEY_FILE})",
            f"  ledger signing key: {settings.LEDGER_KEY_FILE}",
            "  back up both key files, offline and apart from the vault: see docs/operations.md",
        ]
        if users == 0:
            lines += [
                "",
                "No users yet. To explore at once, load the demo case (benign photographs, users for every",
                "role; it prints their passwords) in another terminal:",
                "  .venv/bin/python manage.py demo",
                "",
                "Or create your own first user:",
                "  .venv/bin/python manage.py createsuperuser",
                *(
                    [
                        "  .venv/bin/python manage.py totp_enrol YOURNAME  # admin sign-in asks a TOTP code",
                        "  (for a trial on this machine alone: HAETAE_LOCAL_TRIAL=1 make run asks no code)",
                    ]
                    if getattr(settings, "HAETAE_REQUIRE_TOTP", False)
                    else []
                ),
                "then try the CLI tour in README.md, e.g.:",
                "  .venv/bin/python manage.py create_case 2024-SEOUL-0001 --title 'Test' --actor YOURNAME",
            ]
        lines += [
            "",
            "Portal: http://127.0.0.1:8000/   (sign in; Korean by default, English in the top bar)",
            "Admin:  http://127.0.0.1:8000/admin/   API: http://127.0.0.1:8000/api/v1/ "
            "(OpenAPI docs: /api/docs/)",
            "",
        ]
        self.stdout.write("\n".join(lines))
