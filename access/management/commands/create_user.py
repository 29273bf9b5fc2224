"""manage.py create_user USERNAME --role ROLE [--email EMAIL] [--json]"""

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from access.choices import GlobalRole
from haetae.cli import HaetaeCommand
from haetae.errors import RejectedInput


class Command(HaetaeCommand):
    """Create a user with a global role and print a generated first password, shown only this once. Exit 1 if
    the username is taken or invalid."""

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=GlobalRole.values, help="global role")
        parser.add_argument("--email", default="")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        username, role = options["username"].strip(), options["role"]
        user = user_model(username=username, email=options["email"].strip())
        # Administrators run the system (users, models, settings) in the admin site; nobody else is staff.
        if role == GlobalRole.ADMIN:
            user.is_staff = True
            user.is_superuser = True
        if user_model.objects.filter(username=username).exists():
            raise RejectedInput(f"a user named {username!r} already exists: choose another name")
        try:
            user.full_clean(exclude=["password"], validate_unique=False)
        except ValidationError as exc:
            problems = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
            raise RejectedInput(f"cannot create user {username!r}: {problems}") from None
        password = secrets.token_urlsafe(15)
        with transaction.atomic():
            user.set_password(password)
            try:
                with transaction.atomic():
                    user.save()
            except IntegrityError:  # created by someone else since the check above
                raise RejectedInput(
                    f"a user named {username!r} already exists: choose another name"
                ) from None
            group, _ = Group.objects.get_or_create(name=role)
            user.groups.add(group)
        if options["json"]:
            self.emit_json({"username": username, "role": role, "password": password})
        else:
            self.stdout.write(
                f"created {username} ({role}). First password, shown only now: {password}\n"
                "Give it to them in person; they change it at first sign-in (admin: 'Change password')."
            )
