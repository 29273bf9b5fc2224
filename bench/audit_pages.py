"""Server time of the dashboard and the auditor pages on a large ledger (PostgreSQL).

Builds, in the database named by DATABASE_URL (migrated here; use a scratch database), one case with an
auditor and a lead, and appends EVENTS custody events to it through the real ledger code: half `stored`,
half `verified` spread over RUNS verification runs (case-level events: the pages read the same rows either
way). A checkpoint signs the ledger. Then each page is fetched REPEAT times in-process with Django's test
client (an OTP-verified session), and the best and median server times are printed.

Run from the repository root:
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/haetae_pcore .venv/bin/python bench/audit_pages.py \
      [--events 100000] [--runs 5] [--repeat 5]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if "postgres" not in os.environ.get("DATABASE_URL", ""):
        sys.exit("set DATABASE_URL to a scratch PostgreSQL database")
    os.environ.setdefault("HAETAE_DATA_DIR", tempfile.mkdtemp(prefix="haetae-bench-audit-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haetae.settings")
    os.environ.pop("CELERY_BROKER_URL", None)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import transaction
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from access.models import CaseMember
    from access.services import case_create
    from evidence.choices import CustodyAction
    from evidence.custody import EventSpec, custody_append_many
    from evidence.ledger import checkpoint_create
    from tests.factories import new_user

    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    call_command("migrate", verbosity=0)
    lead, auditor = new_user(), new_user()
    case = case_create(number=f"BENCH-{uuid.uuid4().hex[:8]}", title="audit bench", actor=lead)
    CaseMember.objects.create(case=case, user=auditor, role="auditor")
    runs = [uuid.uuid4().hex for _ in range(args.runs)]
    started = time.perf_counter()
    batch: list[EventSpec] = []
    for n in range(args.events):
        if n % 2:
            details = {"ok": n % 1000 != 1, "problems": [], "run": runs[n % len(runs)]}
            batch.append(
                EventSpec(case_id=case.pk, action=CustodyAction.VERIFIED, actor=auditor, details=details)
            )
        else:
            batch.append(
                EventSpec(case_id=case.pk, action=CustodyAction.STORED, actor=lead, details={"n": n})
            )
        if len(batch) == 5000:
            with transaction.atomic():
                custody_append_many(batch)
            batch = []
    with transaction.atomic():
        custody_append_many(batch)
    checkpoint_create()
    print(f"built {args.events} events in {time.perf_counter() - started:.1f} s")

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    device = TOTPDevice.objects.create(user=auditor, name="bench", confirmed=True)
    client.force_login(auditor)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    from evidence.models import CustodyEvent

    middle = CustodyEvent.objects.filter(case=case).order_by("seq")[args.events // 2].seq
    pages = {
        "dashboard /": "/",
        "ledger /audit/": "/audit/",
        f"ledger, {args.events // 100} pages deep": f"/audit/?before={middle}",
        "ledger ?action=verified": "/audit/?action=verified",
        f"event #{middle} with proof": f"/audit/events/{middle}/",
        "checkpoints": "/audit/checkpoints/",
        "verification runs": "/audit/verification/",
        "one run's results": f"/audit/verification/{runs[0]}/",
    }
    print(f"{'page':<32} {'first ms':>9} {'best ms':>9} {'median ms':>10}")
    for name, url in pages.items():
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, (url, response.status_code)
            if "proof" in name:  # the proof was made and checked, not replaced by an error
                body = response.content.decode()
                assert "leads from this event" in body and "does not check out" not in body, body[-2000:]
        print(f"{name:<32} {times[0]:>9.1f} {min(times):>9.1f} {statistics.median(times):>10.1f}")


if __name__ == "__main__":
    main()
