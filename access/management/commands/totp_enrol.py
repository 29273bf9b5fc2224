"""manage.py totp_enrol USERNAME [--replace] [--json]: give a staff member a TOTP device for signing in."""

import base64
from typing import Any

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from haetae.cli import HaetaeCommand
from haetae.errors import RejectedInput


class Command(HaetaeCommand):
    """Create a TOTP device for a user and print its otpauth:// URI and secret, to add to an authenticator
    app. The secret is shown once; keep it off shared screens."""

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--replace", action="store_true", help="replace the user's existing devices")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        user = self.get_actor(options["username"])
        with transaction.atomic():
            existing = TOTPDevice.objects.devices_for_user(user, confirmed=None)
            if existing.exists() and not options["replace"]:
                raise RejectedInput(
                    f"{user.get_username()} already has a TOTP device: pass --replace to issue a new one "
                    "(the old one stops working)"
                )
            existing.delete()
            device = TOTPDevice.objects.create(user=user, name="default", confirmed=True)
        secret = base64.b32encode(device.bin_key).decode()
        if options["json"]:
            self.emit_json({"user": user.get_username(), "device": device.pk, "uri": device.config_url})
        else:
            self.stdout.write(
                f"TOTP device for {user.get_username()}: add it to an authenticator app\n"
                f"  URI:    {device.config_url}\n  secret: {secret}\n"
                "Signing in to the admin now asks for the 6-digit code."
            )
