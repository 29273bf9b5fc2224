"""manage.py demo [--json]: load a demo case built from benign photographs, so the portal can be explored.

Everything goes through the real services, so the demo case has a real chain of custody: users for every
role, a case with its team and warrant, a ZIP of scikit-image's photographs ingested (the detectors run on
it), a victim V-1 with a support file, a suspect S-1, a Telegram channel, links, one exhibit, a signed
checkpoint and a verification run. It runs once: a second run refuses and says where the accounts are.
"""

import base64
import io
import os
import secrets
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from PIL import Image

from access.choices import CaseMemberRole, GlobalRole, LegalAuthorityKind
from access.models import Case
from access.services import case_create, legal_authority_record, member_add
from detection.models import DetectionRun
from evidence.ingest import evidence_ingest
from evidence.ledger import checkpoint_create
from evidence.models import EvidenceItem
from evidence.sources import PathSource
from evidence.verify import vault_verify
from exhibits.services import exhibit_create
from haetae.admin_site import totp_required
from haetae.cli import HaetaeCommand
from haetae.errors import RejectedInput
from parties.services.channels import channel_record
from parties.services.links import (
    Assertion,
    link_assert_derivation,
    link_assert_item_channel,
    link_assert_item_person,
    link_assert_person_channel,
)
from parties.services.people import person_record
from support.services import support_file_open, takedown_create, takedown_send

DEMO_CASE = "DEMO-2026-0001"
SECOND_CASE = "DEMO-2026-0002"
ACCOUNTS_FILE = "demo-accounts.txt"
# (username, global role, case role or None, what to look at)
ACCOUNTS: list[tuple[str, str, str | None, str]] = [
    (
        "demo-lead",
        GlobalRole.INVESTIGATOR,
        CaseMemberRole.LEAD,
        "the dashboard, the case, evidence, exhibits",
    ),
    ("demo-investigator", GlobalRole.INVESTIGATOR, CaseMemberRole.INVESTIGATOR, "evidence and findings"),
    ("demo-supervisor", GlobalRole.SUPERVISOR, CaseMemberRole.INVESTIGATOR, "approving exhibit E-001"),
    ("demo-prosecutor", GlobalRole.PROSECUTOR, CaseMemberRole.PROSECUTOR, "shared exhibits only"),
    (
        "demo-support",
        GlobalRole.VICTIM_SUPPORT,
        CaseMemberRole.VICTIM_SUPPORT,
        "V-1's support file, overdue takedown",
    ),
    ("demo-auditor", GlobalRole.AUDITOR, CaseMemberRole.AUDITOR, "the ledger, checkpoints, verification"),
    ("demo-admin", GlobalRole.ADMIN, None, "the admin site (/admin/): users, devices, hash banks"),
]
# scikit-image's bundled photographs: benign pictures, a face among them for the face detector.
PHOTOS = ["astronaut", "coffee", "chelsea", "camera", "rocket"]


@dataclass
class Account:
    username: str
    role: str
    case_role: str | None
    look_at: str
    password: str
    totp_secret: str
    totp_uri: str


def _photo(name: str) -> np.ndarray:
    from skimage import data

    picture = getattr(data, name)()
    return np.stack([picture] * 3, axis=-1) if picture.ndim == 2 else picture[..., :3]


def _jpeg(rgb: np.ndarray, **params: Any) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=90, **params)
    return buffer.getvalue()


def demo_zip(path: Path) -> list[str]:
    """A ZIP like a seized phone's export: the photographs, and an altered copy of the astronaut (cropped,
    resized and mirrored: a near-duplicate that PDQ still recognises). Returns the member names."""
    members = {f"DCIM/{name}.jpg": _jpeg(_photo(name)) for name in PHOTOS}
    astronaut = Image.fromarray(_photo("astronaut"))
    altered = astronaut.crop((20, 20, 492, 492)).resize((400, 400)).transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    members["Telegram/channel_export/photo_2026-11-02_21-14-07.jpg"] = _jpeg(np.asarray(altered))
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return list(members)


class Command(HaetaeCommand):
    """Load a demo case built from scikit-image's photographs, with users for every role, and print how to
    sign in. Runs once; a second run refuses (exit 1) and says where the accounts were written."""

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        self.as_json = bool(options["json"])
        accounts_path = Path(settings.DATA_DIR) / ACCOUNTS_FILE
        users = get_user_model().objects
        taken = [name for name, *_rest in ACCOUNTS if users.filter(username=name).exists()]
        if Case.objects.filter(number__in=[DEMO_CASE, SECOND_CASE]).exists() or taken:
            raise RejectedInput(
                f"the demo is already loaded (case {DEMO_CASE} or the users {', '.join(taken) or 'demo-*'} "
                f"exist): sign in with the accounts written when it was loaded, in {accounts_path}. To start "
                "again, use a fresh data directory (HAETAE_DATA_DIR) or database."
            )
        accounts = self._users()
        lead = users.get(username="demo-lead")
        case = self._case(lead, accounts)
        items = self._ingest(case, lead)
        self._people_channels_links(case, lead, items)
        self._second_case()
        exhibit = exhibit_create(
            case=case,
            item_ids=[items["altered"].pk, items["astronaut"].pk],
            description="The altered photograph posted in @demo_room and the photograph it was made from.",
            opinion="The posted picture is a cropped, mirrored copy of the victim's photograph (PDQ match).",
            actor=lead,
        )
        # Without a broker (make run) the detectors ran inside the ingest; with one, workers run them.
        queued = DetectionRun.objects.filter(item__case=case, status__in=["queued", "running"]).count()
        checkpoint = checkpoint_create()
        auditor = users.get(username="demo-auditor")
        report = vault_verify(case=case, actor=auditor)
        self._write_accounts(accounts_path, accounts)
        self._print(
            options["json"],
            case,
            accounts,
            accounts_path,
            exhibit.number,
            checkpoint.tree_size,
            report.ok,
            queued,
        )

    # -- users ------------------------------------------------------------------------------------------

    def _users(self) -> list[Account]:
        accounts = []
        with transaction.atomic():
            for username, role, case_role, look_at in ACCOUNTS:
                password = secrets.token_urlsafe(12)
                user = User(username=username, first_name=username.removeprefix("demo-").title())
                user.is_staff = user.is_superuser = role == GlobalRole.ADMIN
                user.set_password(password)
                user.save()
                user.groups.add(Group.objects.get_or_create(name=role)[0])
                secret = uri = ""
                if totp_required():
                    device = TOTPDevice.objects.create(user=user, name="demo", confirmed=True)
                    secret, uri = base64.b32encode(device.bin_key).decode(), device.config_url
                accounts.append(Account(username, role, case_role, look_at, password, secret, uri))
        return accounts

    # -- case -------------------------------------------------------------------------------------------

    def _case(self, lead: User, accounts: list[Account]) -> Case:
        case = case_create(
            number=DEMO_CASE,
            title="Demo: altered photographs shared in a Telegram channel",
            actor=lead,
            unit="Demo cyber investigation unit",
            jurisdiction="Demo district prosecutors' office",
            offences=["sc-14-2-create", "sc-14-2-distribute"],
        )
        users = get_user_model().objects
        for account in accounts:
            if account.case_role and account.case_role != CaseMemberRole.LEAD:
                member_add(
                    case=case, user=users.get(username=account.username), role=account.case_role, actor=lead
                )
        now = timezone.now()
        legal_authority_record(
            case=case,
            actor=lead,
            kind=LegalAuthorityKind.SEARCH_WARRANT,
            number="DEMO-2026-12345",
            court="Demo District Court",
            scope="the suspect's phone: photographs and Telegram exports",
            issued_at=now - timedelta(days=2),
            executed_at=now - timedelta(days=1),
        )
        return case

    def _ingest(self, case: Case, lead: User) -> dict[str, EvidenceItem]:
        with tempfile.TemporaryDirectory(prefix="haetae-demo-") as folder:
            archive = Path(folder) / "demo-phone-export.zip"
            demo_zip(archive)
            if not self.as_json:
                self.stderr.write(
                    "ingesting the demo ZIP and running the detectors (a minute on a small machine)…"
                )
            evidence_ingest(
                case=case,
                sources=[PathSource(archive)],
                actor=lead,
                source_label="suspect's phone (demo export)",
                seizure_reference="warrant DEMO-2026-12345",
                seal_numbers=["DEMO-SEAL-0001"],
                location="Demo cyber investigation unit, evidence room",
                participants=["demo-lead", "demo-investigator"],
            )
        found = EvidenceItem.objects.filter(case=case, blob__isnull=False)
        return {
            "astronaut": found.get(original_name="astronaut.jpg"),
            "altered": found.get(original_name="photo_2026-11-02_21-14-07.jpg"),
        }

    def _people_channels_links(self, case: Case, lead: User, items: dict[str, EvidenceItem]) -> None:
        victim = person_record(case=case, kind="victim", actor=lead, description="adult; reported the posts")
        suspect = person_record(
            case=case, kind="suspect", actor=lead, description="administrator of the channel"
        )
        support = get_user_model().objects.get(username="demo-support")
        support_file = support_file_open(case=case, person=victim, actor=lead, assigned_worker=support)
        channel = channel_record(
            case=case,
            platform="telegram",
            handle="@demo_room",
            url="https://t.me/demo_room",
            title="Demo room",
            description="a channel where the altered photograph was posted (demo)",
            actor=lead,
        )
        confirmed = Assertion(confidence="confirmed", note="demo")
        link_assert_item_person(
            item=items["astronaut"], person=victim, relation="depicts", assertion=confirmed, actor=lead
        )
        link_assert_item_person(
            item=items["altered"],
            person=victim,
            relation="depicts",
            assertion=Assertion(confidence="suspected", note="altered copy"),
            actor=lead,
        )
        link_assert_item_channel(
            item=items["altered"],
            channel=channel,
            assertion=confirmed,
            actor=lead,
            posted_at=timezone.now() - timedelta(days=23),
            message_reference="t.me/demo_room/17",
        )
        link_assert_person_channel(
            person=suspect, channel=channel, relation="administers", assertion=confirmed, actor=lead
        )
        link_assert_derivation(
            item=items["altered"], source_item=items["astronaut"], assertion=confirmed, actor=lead
        )
        # A takedown request sent five days ago and not answered: overdue on the support worker's dashboard.
        takedown = takedown_create(
            case=case,
            support_file=support_file,
            actor=support,
            addressee="platform",
            platform="telegram",
            target_url="https://t.me/demo_room/17",
            item_ids=[items["altered"].pk],
            channel_reference="@demo_room",
            description="an altered photograph of the victim posted without consent (demo)",
        )
        takedown_send(takedown=takedown, actor=support, sent_at=timezone.now() - timedelta(days=5))

    def _second_case(self) -> Case:
        """Another team's case holding the victim's original photograph: its PDQ hash matches the first
        case's items, so both leads get a cross-case match alert (each learns only whom to ask)."""
        other_lead = get_user_model().objects.get(username="demo-investigator")
        case = case_create(
            number=SECOND_CASE,
            title="Demo: the victim's own report, with her original photograph",
            actor=other_lead,
            unit="Demo victim report desk",
            offences=["sc-14-2-distribute"],
        )
        with tempfile.TemporaryDirectory(prefix="haetae-demo-") as folder:
            original = Path(folder) / "original-from-victim.png"
            Image.fromarray(_photo("astronaut")).save(original, format="PNG")
            evidence_ingest(
                case=case,
                sources=[PathSource(original)],
                actor=other_lead,
                source_label="handed over by the victim's representative (demo)",
                seizure_reference="voluntary submission DEMO-VS-0001",
            )
        return case

    # -- output -----------------------------------------------------------------------------------------

    def _write_accounts(self, path: Path, accounts: list[Account]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [f"Haetae demo accounts (case {DEMO_CASE}); keep this file private.", ""]
        for account in accounts:
            lines.append(f"{account.username}\tpassword: {account.password}")
            if account.totp_uri:
                lines.append(f"\tTOTP secret: {account.totp_secret}\t{account.totp_uri}")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write("\n".join(lines) + "\n")

    def _print(
        self,
        as_json: bool,
        case: Case,
        accounts: list[Account],
        accounts_path: Path,
        exhibit: str,
        checkpoint_size: int,
        verified: bool,
        queued: int,
    ) -> None:
        if as_json:
            self.emit_json(
                {
                    "case": case.number,
                    "exhibit": exhibit,
                    "items": EvidenceItem.objects.filter(case=case).count(),
                    "checkpoint_size": checkpoint_size,
                    "verified": verified,
                    "detection": "queued" if queued else "done",
                    "totp_required": totp_required(),
                    "accounts_file": str(accounts_path),
                    "accounts": [account.__dict__ for account in accounts],
                }
            )
            return
        items = EvidenceItem.objects.filter(case=case).count()
        out = [
            "",
            f"Demo case {case.number} loaded: {items} items from a ZIP of scikit-image photographs, detector",
            "findings, victim V-1 (support file, an overdue takedown request), suspect S-1, channel",
            f"@demo_room, links, exhibit {exhibit}, a signed checkpoint ({checkpoint_size} events) and a",
            f"verification run ({'clean' if verified else 'FAILED: see /audit/verification/'}).",
            f"A second case, {SECOND_CASE}, holds the victim's original photograph: its PDQ hash matches, so",
            "demo-lead sees a cross-case match alert on the dashboard.",
            "",
            "Accounts (passwords shown now and kept in " + str(accounts_path) + ", mode 0600):",
        ]
        for account in accounts:
            out.append(
                f"  {account.username:<19} {account.password:<18} {account.role:<15} {account.look_at}"
            )
        if queued:
            out += [
                "",
                f"{queued} detector runs are queued for the Celery workers (CELERY_BROKER_URL is set): start",
                "one with  .venv/bin/celery -A haetae worker -Q ingest,detect,reports  to see the findings.",
            ]
        if totp_required():
            out += [
                "",
                "Sign-in asks for a one-time code. Add each account to an authenticator app (the secrets and",
                f"otpauth:// URIs are in {accounts_path}); or, for a local trial only, start the server with",
                "HAETAE_LOCAL_TRIAL=1 (make run), which turns the code off and serves this machine only.",
            ]
        else:
            out += [
                "",
                "TOTP is off (HAETAE_LOCAL_TRIAL or HAETAE_REQUIRE_TOTP=0): sign in with the password alone.",
            ]
        out += [
            "",
            "Open http://127.0.0.1:8000/ (make run) and sign in, e.g. as demo-lead;",
            "demo-auditor sees /audit/, demo-admin the admin site at /admin/.",
            "",
        ]
        self.stdout.write("\n".join(out))
