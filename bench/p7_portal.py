"""P7: server-side render time of the portal's case and evidence pages on a 100,000-item case.

    .venv/bin/python bench/p7_portal.py                       # 100,000 items, 30 requests per page
    .venv/bin/python bench/p7_portal.py --items 20000 --repeat 10 --rebuild

Each page is requested through Django's test Client (the whole request path: middleware, session, OTP
check, selectors, queries, template; no network and no browser) by the case lead, ``--repeat`` times after
one warm-up; median and 95th percentile are printed with the number of SQL queries. The anchor, in the same
run and on the same data: a bare Django view rendering the same 50 rows (the first page of the evidence
list, same ordering) with a plain template, through the same Client and middleware. The goal (issue 6 §3):
every page under 300 ms.

The data are built once in the PostgreSQL database named by ``--db-url`` (default
``haetae_bench_portal``) and reused while the item count matches (``--rebuild`` starts over).
Shortcuts, to build 100,000 items in about a minute rather than ingesting 100,000 files:
- items, blobs, runs, findings, matches, links are bulk-inserted rows; a blob row has random digests and no
  stored object (no page timed here reads content: thumbnails are separate requests, the reveal is a
  click), and the links have no ``link_asserted`` events;
- every item gets its ``acquired`` custody event through ``custody_append_many`` (a real, hash-chained
  ledger of 100,000+ events), so the custody timeline and the exposure count run against a real ledger size;
- one signed checkpoint is made at the end (``checkpoint_create``).
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
import types
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "bench"))

from _common import bench_blob, bench_item, ensure_database  # noqa: E402

LABELS = ["FACE_FEMALE", "FACE_MALE", "EXPOSED_BREAST", "ai_generated", "c2pa_manifest"]
MIMES = [("image/jpeg", 80), ("video/mp4", 10), ("application/pdf", 5), ("image/png", 5)]
NUMBER = "2026-BENCH-0001"


def _setup(db_url: str) -> None:
    os.environ["DATABASE_URL"] = db_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haetae.settings")
    os.environ.setdefault("HAETAE_DATA_DIR", str(REPO_ROOT / "bench" / "out" / "p7-data"))
    import django

    django.setup()


def build(count: int, rebuild: bool) -> None:
    """The 100,000-item case (or reuse it when it is there with ``count`` items)."""
    from django.core.management import call_command
    from django.db import connection

    from access.models import Case

    call_command("migrate", "--noinput", verbosity=0)
    existing = Case.objects.filter(number=NUMBER).first()
    if existing is not None and not rebuild and existing.items.count() == count:
        print(f"reusing case {NUMBER} with {count} items", flush=True)
        return
    if existing is not None or rebuild:
        # The ledger refuses DELETE: start from an empty schema instead.
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        call_command("migrate", "--noinput", verbosity=0)
    started = time.perf_counter()
    _populate(count)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"built {count} items in {time.perf_counter() - started:.1f} s", flush=True)


def _populate(count: int) -> None:
    from django.contrib.auth.models import Group, User
    from django.db import transaction

    from access.choices import GlobalRole
    from access.services import case_create
    from detection.models import Annotation, BankEntry, DetectionRun, Detector, HashBank, Match
    from detection.models.runs import RunStatus
    from evidence.choices import AcquisitionStatus, CustodyAction
    from evidence.custody import EventSpec, custody_append_many
    from evidence.ledger import checkpoint_create
    from evidence.models import Acquisition, Blob, EvidenceItem
    from parties.models import ItemChannelLink, ItemPersonLink
    from parties.services.channels import channel_record
    from parties.services.people import person_record

    rng = random.Random(7)
    lead = User.objects.create_user("bench-lead")  # signs in through a session, never a password
    lead.groups.add(Group.objects.get_or_create(name=GlobalRole.INVESTIGATOR)[0])
    case = case_create(number=NUMBER, title="Benchmark: 100,000 items", actor=lead)
    people = [person_record(case=case, kind="victim", actor=lead) for _ in range(12)]
    people += [person_record(case=case, kind="suspect", actor=lead) for _ in range(8)]
    channels = [
        channel_record(case=case, platform="telegram", handle=f"@room_{n}", title=f"Room {n}", actor=lead)
        for n in range(10)
    ]
    acquisition = Acquisition.objects.create(
        case=case, actor=lead, tool_name="bench", tool_version="7", status=AcquisitionStatus.COMPLETED
    )
    detectors = [Detector.objects.create(name=f"bench-{label}", version="1") for label in LABELS]
    bank = HashBank.objects.create(name="bench victims", kind="victim_originals")
    mimes = [mime for mime, weight in MIMES for _ in range(weight)]
    base = datetime(2026, 1, 1, tzinfo=UTC)
    batch = 5000
    for start in range(0, count, batch):
        n = min(batch, count - start)
        blobs = []
        items = []
        for i in range(start, start + n):
            sha256 = rng.randbytes(32).hex()
            mime = rng.choice(mimes)
            size = rng.randint(20_000, 8_000_000)
            blobs.append(bench_blob(rng, sha256=sha256, size=size, mime=mime))
            name = f"IMG_{rng.randint(0, 10**8):08d}.{mime.split('/')[1]}"
            item = bench_item(
                rng,
                case=case,
                acquisition=acquisition,
                actor=lead,
                index=i,
                sha256=sha256,
                name=name,
                size=size,
                mime=mime,
            )
            item.acquired_at = base + timedelta(seconds=i * 37 + rng.randint(0, 30))
            items.append(item)
        with transaction.atomic():
            Blob.objects.bulk_create(blobs)
            made = EvidenceItem.objects.bulk_create(items)
            custody_append_many(
                [
                    EventSpec(
                        case_id=case.pk,
                        item_id=item.pk,
                        action=CustodyAction.ACQUIRED,
                        actor=lead,
                        actor_role="lead",
                        sha256_after=item.blob_id or "",
                        new_item=True,
                    )
                    for item in made
                ]
            )
            runs, findings, matches, person_links, channel_links = [], [], [], [], []
            for item in made:
                if rng.random() < 0.3:
                    k = rng.randrange(len(LABELS))
                    runs.append(
                        DetectionRun(
                            item=item,
                            detector=detectors[k],
                            status=RunStatus.DONE,
                            input_sha256=item.blob_id or "",
                        )
                    )
                    findings.append((item, k))
                if rng.random() < 0.01:
                    entry = BankEntry(bank=bank, sha256=item.blob_id or "", label="bench")
                    matches.append((item, entry))
                if rng.random() < 0.05:
                    person_links.append(
                        ItemPersonLink(
                            item=item,
                            person=rng.choice(people),
                            relation="depicts",
                            confidence="confirmed",
                            asserted_by=lead,
                        )
                    )
                if rng.random() < 0.1:
                    channel_links.append(
                        ItemChannelLink(
                            item=item,
                            channel=rng.choice(channels),
                            confidence="confirmed",
                            asserted_by=lead,
                            message_reference=str(item.pk),
                        )
                    )
            made_runs = DetectionRun.objects.bulk_create(runs)
            now = datetime.now(UTC)
            Annotation.objects.bulk_create(
                Annotation(
                    run=run,
                    item=item,
                    label=LABELS[k],
                    score=round(rng.random(), 3),
                    detector_name=run.detector.name,
                    detector_version="1",
                    input_sha256=item.blob_id or "",
                    ran_at=now,
                )
                for run, (item, k) in zip(made_runs, findings, strict=True)
            )
            entries = BankEntry.objects.bulk_create(entry for _, entry in matches)
            Match.objects.bulk_create(
                Match(item=item, entry=entry, kind="sha256")
                for (item, _), entry in zip(matches, entries, strict=True)
            )
            ItemPersonLink.objects.bulk_create(person_links)
            ItemChannelLink.objects.bulk_create(channel_links)
        print(f"  {start + n} items", flush=True)
    _team_exhibits_support(case=case, lead=lead, people=people)
    with transaction.atomic():
        checkpoint_create()


def _team_exhibits_support(*, case: Any, lead: Any, people: list[Any]) -> None:
    """The rest of a working case: a team in every role, 60 exhibits (20 shared), takedowns."""
    from django.contrib.auth.models import Group, User

    from access.choices import CaseMemberRole, GlobalRole
    from access.services import member_add
    from evidence.models import EvidenceItem
    from exhibits.services import exhibit_approve, exhibit_create, exhibit_share
    from support.services import support_file_open, takedown_create

    team = {}
    for role, group in [
        (CaseMemberRole.INVESTIGATOR, GlobalRole.SUPERVISOR),
        (CaseMemberRole.PROSECUTOR, GlobalRole.PROSECUTOR),
        (CaseMemberRole.VICTIM_SUPPORT, GlobalRole.VICTIM_SUPPORT),
        (CaseMemberRole.AUDITOR, GlobalRole.AUDITOR),
    ]:
        user = User.objects.create_user(f"bench-{group}")
        user.groups.add(Group.objects.get_or_create(name=group)[0])
        member_add(case=case, user=user, role=role, actor=lead)
        team[group] = user
    item_ids = list(EvidenceItem.objects.filter(case=case).order_by("pk").values_list("pk", flat=True)[:120])
    for n in range(60):
        exhibit = exhibit_create(
            case=case, item_ids=item_ids[2 * n : 2 * n + 2], description=f"Exhibit {n + 1}", actor=lead
        )
        if n < 20:
            exhibit_approve(exhibit=exhibit, actor=team[GlobalRole.SUPERVISOR])
            exhibit_share(exhibit=exhibit, actor=lead)
    victim = next(person for person in people if person.kind == "victim")
    support_file = support_file_open(
        case=case, person=victim, actor=lead, assigned_worker=team[GlobalRole.VICTIM_SUPPORT]
    )
    for n in range(30):
        takedown_create(
            case=case,
            support_file=support_file,
            actor=team[GlobalRole.VICTIM_SUPPORT],
            addressee="platform",
            platform="telegram",
            target_url=f"https://t.me/room_0/{n}",
            item_ids=item_ids[n : n + 1],
        )


class Timer:
    """Requests one URL many times through the test Client; median, p95 and the query count."""

    def __init__(self, client: Any, repeat: int) -> None:
        self.client = client
        self.repeat = repeat
        self.rows: list[dict[str, Any]] = []

    def page(self, name: str, url: str) -> dict[str, Any]:
        from django.db import connection

        queries: list[str] = []

        def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            response = self.client.get(url)  # warm-up, and the query count
        if response.status_code != 200:
            raise SystemExit(f"{name}: {url} answered {response.status_code}: {response.content[:500]!r}")
        times = []
        for _ in range(self.repeat):
            started = time.perf_counter()
            response = self.client.get(url)
            if hasattr(response, "streaming_content"):
                b"".join(response.streaming_content)
            else:
                response.content  # noqa: B018 (rendered already; touched for symmetry)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        row = {
            "page": name,
            "url": url,
            "median_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[max(0, round(0.95 * len(times)) - 1)], 1),
            "best_ms": round(times[0], 1),
            "queries": len(queries),
            "bytes": len(response.content) if not hasattr(response, "streaming_content") else 0,
        }
        self.rows.append(row)
        print(
            f"{name:34} median {row['median_ms']:7.1f} ms  p95 {row['p95_ms']:7.1f} ms  "
            f"{row['queries']:3d} queries",
            flush=True,
        )
        return row


def anchor_urlconf() -> types.ModuleType:
    """The project's URLs plus the anchor: the same 50 rows as the list's first page, a plain template."""
    from django.http import HttpRequest, HttpResponse
    from django.template import engines
    from django.urls import include, path

    from access.models import Case
    from evidence.models import EvidenceItem

    template = engines["django"].from_string(
        "<!doctype html><html><body><table>{% for item in rows %}<tr><td>{{ item.pk }}</td>"
        "<td>{{ item.original_name }}</td><td>{{ item.mime }}</td><td>{{ item.size }}</td>"
        "<td>{{ item.acquired_at }}</td></tr>{% endfor %}</table></body></html>"
    )

    def anchor(request: HttpRequest, number: str) -> HttpResponse:
        case = Case.objects.get(number=number)
        rows = EvidenceItem.objects.filter(case=case).order_by("-acquired_at", "-id")[:50]
        return HttpResponse(template.render({"rows": rows}, request))

    module = types.ModuleType("p7_urls")
    module.urlpatterns = [  # type: ignore[attr-defined]
        path("bench-anchor/<str:number>/", anchor),
        path("", include("haetae.urls")),
    ]
    return module


def measure(repeat: int) -> list[dict[str, Any]]:
    from django.contrib.auth.models import User
    from django.db.models import F
    from django.test import Client, override_settings

    from access.models import Case
    from evidence.models import CustodyEvent, EvidenceItem
    from exhibits.models import Exhibit
    from parties.models import Channel, Person
    from portal.views.cases import _encode_cursor
    from support.models import SupportFile
    from tests.factories import verified_login

    case = Case.objects.get(number=NUMBER)
    lead = User.objects.get(username="bench-lead")
    client = Client()
    verified_login(client, lead)
    timer = Timer(client, repeat)
    base = f"/cases/{NUMBER}/evidence/"
    items = EvidenceItem.objects.filter(case=case)
    total = items.count()
    deep = items.order_by(F("acquired_at").desc(), F("id").desc()).values_list("acquired_at", "id")[
        int(total * 0.9)
    ]
    deep_name = items.order_by("original_name", "id").values_list("original_name", "id")[int(total * 0.9)]
    victim = Person.objects.filter(case=case, kind="victim").order_by("pseudonym_number").first()
    room = Channel.objects.filter(case=case).order_by("pk").first()
    sample = items.filter(annotations__isnull=False).order_by("pk").first() or items.order_by("pk").first()
    assert victim is not None and room is not None and sample is not None
    with override_settings(ROOT_URLCONF=anchor_urlconf(), ALLOWED_HOSTS=["testserver"]):
        anchor = timer.page("anchor: bare view, same 50 rows", f"/bench-anchor/{NUMBER}/")
        timer.page("dashboard", "/")
        timer.page("case page", f"/cases/{NUMBER}/")
        timer.page("evidence list, first page", base)
        timer.page("evidence list, deep page (90%)", f"{base}?after={_encode_cursor(deep[0], deep[1])}")
        timer.page(
            "… deep page, by name", f"{base}?sort=name&after={_encode_cursor(deep_name[0], deep_name[1])}"
        )
        for sort in ("acquired", "name", "-name", "size", "-size"):
            timer.page(f"… sort {sort}", f"{base}?sort={sort}")
        timer.page("… filter type=video", f"{base}?type=video")
        timer.page("… filter mime=image/png", f"{base}?mime=image/png")
        timer.page("… filter label=EXPOSED_BREAST", f"{base}?label=EXPOSED_BREAST")
        timer.page("… filter match=yes", f"{base}?match=yes")
        timer.page("… filter match=no", f"{base}?match=no")
        timer.page(f"… filter person={victim.pseudonym}", f"{base}?person={victim.pseudonym}")
        timer.page("… filter channel", f"{base}?channel={room.pk}")
        timer.page("… filters combined + sort size", f"{base}?type=image&label=FACE_FEMALE&sort=-size")
        timer.page("item page", f"/evidence/{sample.pk}/")
        timer.page("graph JSON", f"/cases/{NUMBER}/graph.json")
        timer.page("ingest page", f"/cases/{NUMBER}/ingest/")
        timer.page("exhibits list (60)", f"/cases/{NUMBER}/exhibits/")
        timer.page("exhibit page", f"/cases/{NUMBER}/exhibits/E-001/")
        timer.page("new exhibit form", f"/cases/{NUMBER}/exhibits/new/")
        timer.page("exhibit item search", f"/cases/{NUMBER}/exhibits/items/?q=IMG_1")
        middle_seq = CustodyEvent.objects.order_by("seq").values_list("seq", flat=True)[total // 2]
        exhibit_count = Exhibit.objects.filter(case=case).count()
        assert exhibit_count == 60, "rebuild the bench database (--rebuild): it predates the exhibits"
        for username, pages in [
            (
                "bench-prosecutor",
                [
                    ("prosecutor: dashboard", "/"),
                    ("prosecutor: shared exhibits", "/prosecutor/"),
                    ("prosecutor: case", f"/prosecutor/cases/{NUMBER}/"),
                    ("prosecutor: how to verify", "/prosecutor/verify/"),
                ],
            ),
            (
                "bench-victim_support",
                [
                    ("support: dashboard", "/"),
                    ("support: my cases", "/support/"),
                    ("support: case", f"/cases/{NUMBER}/support/"),
                    ("support: file", f"/cases/{NUMBER}/support/files/{SupportFile.objects.get().pk}/"),
                    ("support: takedowns", f"/cases/{NUMBER}/support/takedowns/"),
                    ("support: overdue", f"/cases/{NUMBER}/support/overdue/"),
                ],
            ),
            (
                "bench-auditor",
                [
                    ("auditor: ledger", "/audit/"),
                    ("auditor: ledger of the case, by action", f"/audit/?case={NUMBER}&action=acquired"),
                    (
                        "auditor: event with proof",
                        f"/audit/events/{middle_seq}/",
                    ),
                    ("auditor: checkpoints", "/audit/checkpoints/"),
                    ("auditor: verification runs", "/audit/verification/"),
                ],
            ),
        ]:
            other = Client()
            verified_login(other, User.objects.get(username=username))
            role_timer = Timer(other, repeat)
            for name, url in pages:
                role_timer.page(name, url)
            timer.rows.extend(role_timer.rows)
    for row in timer.rows:
        row["ratio_to_anchor"] = round(row["median_ms"] / anchor["median_ms"], 1)
    return timer.rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--db-url", default="postgres://postgres@127.0.0.1:5432/haetae_bench_portal")
    parser.add_argument("--rebuild", action="store_true", help="drop the database's tables and build again")
    args = parser.parse_args()
    ensure_database(args.db_url)
    _setup(args.db_url)
    build(args.items, args.rebuild)
    load_before = os.getloadavg()
    rows = measure(args.repeat)
    load_after = os.getloadavg()
    worst = max(row["p95_ms"] for row in rows if not row["page"].startswith("anchor"))
    print(
        f"\ngoal: every page under 300 ms server time; slowest p95 {worst:.1f} ms: "
        f"{'met' if worst < 300 else 'NOT met'}"
    )
    print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (2 shared cores)")
    print("\n| page | median ms | p95 ms | queries | × anchor |\n| --- | ---: | ---: | ---: | ---: |")
    for row in rows:
        cells = [row["page"], row["median_ms"], row["p95_ms"], row["queries"], row["ratio_to_anchor"]]
        print("| " + " | ".join(str(cell) for cell in cells) + " |")
    out = REPO_ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"p7-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(
        json.dumps(
            {"items": args.items, "repeat": args.repeat, "load": [load_before, load_after], "pages": rows},
            indent=2,
        )
    )
    print(f"raw numbers: {path}")


if __name__ == "__main__":
    main()
