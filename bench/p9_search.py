"""P9: the text index and search on a 100,000-item case (PostgreSQL and SQLite), and OCR throughput.

    .venv/bin/python bench/p9_search.py        # 100,000 items, both databases, 40 OCR images
    .venv/bin/python bench/p9_search.py --items 5000 --queries 30 --ocr-images 12 --backends sqlite

Search, each database in its own process (Django's settings are per process):
- the case is built with bulk-inserted rows: items (file names like a phone's camera roll) and findings
  whose text is generated Korean and English (a chat's vocabulary with particles, handles, numbers), its
  length log-normally distributed (median about 120 characters, a few thousand at most), in the shapes the
  index reads: OCR text (60 % of items), EXIF camera (20 %), document text (10 %);
- ``search_reindex(case=…)`` is timed: items indexed per second (the goal: ≥ 2,000 on PostgreSQL);
- ``--queries`` one-word and as many two-word Korean queries, drawn from the vocabulary, each run through
  ``search.services.case_search`` as the lead (the whole service: the match, the count, the first page of
  20 with snippets, and the custody event): median and p95 (the goal: p95 ≤ 100 ms on PostgreSQL).
PostgreSQL uses the database ``haetae_bench_search`` (``--db-url``), emptied first; SQLite a file in
``bench/out/p9-sqlite``.

OCR: ``--ocr-images`` generated images, half chat-like screenshots in NanumGothic (Korean and English) and
half scikit-image photographs scaled and cropped, through the ``ocr`` detector in one process (one core):
images per second and the share that skipped Tesseract (the text-presence test said no text).
"""

import argparse
import io
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "bench"))

from _common import (  # noqa: E402
    OUT_DIR,
    bench_blob,
    bench_item,
    ensure_database,
    machine_info,
    print_machine,
    print_table,
    save_results,
)

NUMBER = "2026-BENCH-SEARCH"
GOAL_P95_MS = 100.0
GOAL_BUILD_PER_S = 2000.0


def _words(text: str) -> list[str]:
    return text.split()


NOUNS = _words(
    "피해자 가해자 학교 친구 사진 영상 합성 딥페이크 텔레그램 카카오톡 단체방 채널 링크 계정 신고 경찰 "
    "유포 삭제 요청 캡처 얼굴 이름 주소 번호 방 선배 후배 졸업사진 프로필 인스타 트위터 디스코드 "
    "지인능욕 봇 결제 문화상품권 코인 초대 입장 공지 관리자 운영자 회원 증거 파일 원본 버전"
)
PARTICLES = ["", "", "", "가", "이", "는", "은", "를", "을", "의", "에", "에서", "로", "도", "만", "랑"]
ENDINGS = _words("했다 했어 보냈음 올림 있음 없음 봤어? 해줘 ㅋㅋ ㅠㅠ 맞지 아님 ㄱㄱ 확인 완료")
ENGLISH = _words("telegram room link join admin bot deepfake photo video leak delete report free vip")


def sentence(rng: random.Random) -> str:
    words = []
    for _ in range(rng.randint(3, 9)):
        roll = rng.random()
        if roll < 0.70:
            words.append(rng.choice(NOUNS) + rng.choice(PARTICLES))
        elif roll < 0.85:
            words.append(rng.choice(ENDINGS))
        elif roll < 0.95:
            words.append(rng.choice(ENGLISH))
        else:
            words.append(str(rng.randint(1, 999)))
    return " ".join(words)


def text_of_length(rng: random.Random) -> str:
    target = min(4000, max(10, int(rng.lognormvariate(math.log(120), 0.9))))
    parts: list[str] = []
    size = 0
    while size < target:
        line = sentence(rng)
        parts.append(line)
        size += len(line) + 1
    return "\n".join(parts)[:target]


# --- the child: one database ------------------------------------------------------------------------------


def _setup(backend: str, db_url: str) -> None:
    if backend == "postgres":
        os.environ["DATABASE_URL"] = db_url
        ensure_database(db_url)
    else:
        os.environ.pop("DATABASE_URL", None)
        folder = OUT_DIR / "p9-sqlite"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        os.environ["HAETAE_DATA_DIR"] = str(folder)
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.setdefault("HAETAE_DATA_DIR", str(OUT_DIR / "p9-data"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "haetae.settings"
    import django

    django.setup()


def build(count: int, seed: int) -> Any:
    """A fresh schema and the case: items with names and text findings (bulk rows; no content stored)."""
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from access.choices import GlobalRole
    from access.services import case_create
    from detection.models import Annotation, DetectionRun, Detector
    from detection.models.runs import RunStatus
    from evidence.choices import AcquisitionStatus
    from evidence.models import Acquisition, Blob, EvidenceItem

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    call_command("migrate", "--noinput", verbosity=0)
    rng = random.Random(seed)
    lead = User.objects.create_user("bench-lead")
    lead.groups.add(Group.objects.get_or_create(name=GlobalRole.INVESTIGATOR)[0])
    case = case_create(number=NUMBER, title="Benchmark: search", actor=lead)
    acquisition = Acquisition.objects.create(
        case=case, actor=lead, tool_name="bench", tool_version="9", status=AcquisitionStatus.COMPLETED
    )
    detectors = {name: Detector.objects.create(name=name, version="1") for name in ("ocr", "metadata")}
    now = timezone.now()
    batch = 5000
    for start in range(0, count, batch):
        n = min(batch, count - start)
        blobs, items = [], []
        for i in range(start, start + n):
            sha256 = rng.randbytes(32).hex()
            blobs.append(bench_blob(rng, sha256=sha256, size=1000, mime="image/png"))
            name = rng.choice(["IMG", "Screenshot", "KakaoTalk", "photo", "캡처"]) + f"_{i:07d}.png"
            items.append(
                bench_item(
                    rng,
                    case=case,
                    acquisition=acquisition,
                    actor=lead,
                    index=i,
                    sha256=sha256,
                    name=name,
                    size=1000,
                    mime="image/png",
                )
            )
        with transaction.atomic():
            Blob.objects.bulk_create(blobs)
            made = EvidenceItem.objects.bulk_create(items)
            runs, notes = [], []
            for item in made:
                roll = rng.random()
                if roll < 0.6:
                    runs.append((item, "ocr", "ocr_text", "extracted_text", {"text": text_of_length(rng)}))
                elif roll < 0.8:
                    runs.append(
                        (item, "metadata", "camera", "metadata", {"make": "Samsung", "model": "SM-S918N"})
                    )
                elif roll < 0.9:
                    runs.append(
                        (
                            item,
                            "metadata",
                            "document_text",
                            "extracted_text",
                            {"text": text_of_length(rng) * 3},
                        )
                    )
            rows = DetectionRun.objects.bulk_create(
                [
                    DetectionRun(
                        item=item,
                        detector=detectors[d],
                        status=RunStatus.DONE,
                        input_sha256=str(item.blob_id),
                        finished_at=now,
                    )
                    for item, d, *_ in runs
                ]
            )
            for run, (item, d, label, category, details) in zip(rows, runs, strict=True):
                notes.append(
                    Annotation(
                        run=run,
                        item=item,
                        label=label,
                        category=category,
                        details=details,
                        detector_name=d,
                        detector_version="1",
                        input_sha256=str(item.blob_id),
                        ran_at=now,
                    )
                )
            Annotation.objects.bulk_create(notes)
    return case, lead


def child(args: argparse.Namespace) -> None:
    _setup(args.child, args.db_url)
    from django.db import connection

    from access.selectors import case_get_for
    from search.models import IndexEntry
    from search.services import case_search, search_reindex

    started = time.perf_counter()
    case, lead = build(args.items, args.seed)
    built_s = time.perf_counter() - started
    started = time.perf_counter()
    entries = search_reindex(case=case)
    index_s = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE search_indexentry")
    rng = random.Random(args.seed + 1)
    one = [rng.choice(NOUNS) for _ in range(args.queries)]
    two = [f"{rng.choice(NOUNS)} {rng.choice(NOUNS)}" for _ in range(args.queries)]
    seen = case_get_for(user=lead, number=NUMBER)
    results: dict[str, Any] = {
        "backend": connection.vendor,
        "items": args.items,
        "entries": entries,
        "rows_built_s": round(built_s, 2),
        "index_s": round(index_s, 2),
        "items_per_s": round(args.items / index_s, 1),
    }
    for name, queries in (("one_word", one), ("two_words", two)):
        case_search(case=seen, user=lead, query=queries[0])  # warm-up
        times, hits = [], []
        for query in queries:
            t0 = time.perf_counter()
            page = case_search(case=seen, user=lead, query=query)
            times.append((time.perf_counter() - t0) * 1000)
            hits.append(page.count)
        times.sort()
        results[name] = {
            "median_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[max(0, math.ceil(0.95 * len(times)) - 1)], 1),
            "median_hits": int(statistics.median(hits)),
        }
    if connection.vendor == "postgresql":
        from search.backends import matching
        from search.tokens import query_terms

        matched = matching(IndexEntry.objects.filter(case_id=case.pk), query_terms(one[0]))
        with connection.cursor() as cursor:
            sql, params = matched.query.sql_with_params()
            cursor.execute("EXPLAIN " + sql, params)
            results["plan_uses_gin"] = any("search_terms_gin" in row[0] for row in cursor.fetchall())
    print(json.dumps(results))


# --- OCR ----------------------------------------------------------------------------------------------


def ocr_images(count: int, seed: int) -> list[tuple[str, bytes]]:
    import numpy as np
    import skimage.data
    from PIL import Image

    from tests.factories.search import screenshot

    rng = random.Random(seed)
    photos = [
        "astronaut",
        "coffee",
        "chelsea",
        "camera",
        "rocket",
        "hubble_deep_field",
        "immunohistochemistry",
    ]
    images = []
    for index in range(count):
        if index % 2 == 0:
            lines = [sentence(rng)[:34] for _ in range(rng.randint(3, 12))]
            images.append(
                (
                    "screenshot",
                    screenshot(lines, size=rng.choice([22, 26, 30]), width=rng.choice([720, 1080])),
                )
            )
        else:
            pixels = getattr(skimage.data, photos[index // 2 % len(photos)])()
            if pixels.ndim == 2:
                pixels = np.stack([pixels] * 3, axis=-1)
            image = Image.fromarray(pixels[..., :3]).resize(
                (rng.randint(600, 1600), rng.randint(600, 1600)), Image.Resampling.BILINEAR
            )
            out = io.BytesIO()
            image.save(out, format="JPEG", quality=85)
            images.append(("photo", out.getvalue()))
    return images


def ocr_bench(count: int, seed: int) -> dict[str, Any]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haetae.settings")
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from detection.detectors.ocr import ocr_detector
    from detection.subject import Subject

    detector = ocr_detector()
    images = ocr_images(count, seed)
    skipped = {"screenshot": 0, "photo": 0}
    started = time.perf_counter()
    cpu = time.process_time()
    children = os.times()
    for kind, data in images:
        mime = "image/png" if kind == "screenshot" else "image/jpeg"
        labels = [f.label for f in detector.analyze(Subject.from_bytes(data, mime=mime))]
        if labels == ["no_text_detected"]:
            skipped[kind] += 1
    wall = time.perf_counter() - started
    after = os.times()
    tesseract_cpu = (after.children_user - children.children_user) + (
        after.children_system - children.children_system
    )
    total_cpu = time.process_time() - cpu + tesseract_cpu
    return {
        "images": count,
        "wall_s": round(wall, 2),
        "cpu_s": round(total_cpu, 2),
        "images_per_s_wall": round(count / wall, 2),
        "images_per_cpu_s": round(count / total_cpu, 2),
        "skip_share": round((skipped["screenshot"] + skipped["photo"]) / count, 3),
        "photos_skipped": f"{skipped['photo']}/{count // 2}",
        "screenshots_skipped": f"{skipped['screenshot']}/{count - count // 2}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=50, help="queries of each shape (one and two words)")
    parser.add_argument("--backends", default="postgres,sqlite")
    parser.add_argument("--db-url", default="postgres://postgres@127.0.0.1:5432/haetae_bench_search")
    parser.add_argument("--ocr-images", type=int, default=40)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--child", choices=["postgres", "sqlite"], help=argparse.SUPPRESS)
    parser.add_argument("--ocr-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    if args.ocr_child:
        print(json.dumps(ocr_bench(args.ocr_images, args.seed)))
        return
    info = machine_info(OUT_DIR)
    print_machine(info)
    results: dict[str, Any] = {"machine": info, "search": [], "ocr": None}
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        print(f"{backend}: building {args.items} items and the index …", flush=True)
        argv = [
            sys.executable,
            __file__,
            "--child",
            backend,
            "--items",
            str(args.items),
            "--queries",
            str(args.queries),
            "--db-url",
            args.db_url,
            "--seed",
            str(args.seed),
        ]
        out = subprocess.run(argv, check=True, capture_output=True, text=True, cwd=REPO_ROOT).stdout
        results["search"].append(json.loads(out.strip().splitlines()[-1]))
    rows = []
    for r in results["search"]:
        rows.append(
            [
                r["backend"],
                str(r["items"]),
                str(r["entries"]),
                f"{r['items_per_s']:.0f}",
                f"{r['one_word']['median_ms']} / {r['one_word']['p95_ms']}",
                f"{r['two_words']['median_ms']} / {r['two_words']['p95_ms']}",
                str(r.get("plan_uses_gin", "")),
            ]
        )
    print_table(
        ["database", "items", "entries", "indexed/s", "1 word ms (med/p95)", "2 words ms", "GIN"], rows
    )
    for r in results["search"]:
        if r["backend"] == "postgresql":
            ok = (
                r["items_per_s"] >= GOAL_BUILD_PER_S
                and max(r["one_word"]["p95_ms"], r["two_words"]["p95_ms"]) <= GOAL_P95_MS
            )
            goal = f"≥ {GOAL_BUILD_PER_S:.0f} items/s, p95 ≤ {GOAL_P95_MS:.0f} ms"
            print(f"PostgreSQL goal ({goal}): {'met' if ok else 'NOT met'}")
    if args.ocr_images:
        argv = [
            sys.executable,
            __file__,
            "--ocr-child",
            "--ocr-images",
            str(args.ocr_images),
            "--seed",
            str(args.seed),
        ]
        # One core: Tesseract's OpenMP threads limited to one, as in one worker process per core.
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
        out = subprocess.run(argv, check=True, capture_output=True, text=True, cwd=REPO_ROOT, env=env).stdout
        results["ocr"] = json.loads(out.strip().splitlines()[-1])
        o = results["ocr"]
        print(
            f"OCR: {o['images']} images (half screenshots), {o['images_per_cpu_s']} images per CPU-second "
            f"({o['images_per_s_wall']}/s wall), {o['skip_share']:.0%} skipped Tesseract "
            f"(photos skipped {o['photos_skipped']}, screenshots skipped {o['screenshots_skipped']})"
        )
    path = save_results("p9", results)
    print(f"results: {path}")


if __name__ == "__main__":
    main()
