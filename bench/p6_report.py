"""P6: render the report of a case with 1,000 exhibits (time, peak memory) and of 10,000 (memory flat).

For each size N (default 1,000 and 10,000) a case is built once into bench/out/p6-N/ (its own
HAETAE_DATA_DIR: SQLite database and vault): N small distinct photographs (96x72 JPEG) ingested in one
acquisition with seizure details, the ``c2pa`` and ``file-hashes`` detectors run on every item, one
exhibit per item (``exhibit_create``), every blurred preview made (as the portal does when items are
listed), and a signed checkpoint. Then, each in a fresh child process measured with wait4 (peak RSS):

  ours     report_data + report_render of all N exhibits (ko) to a PDF: data layer, layout, fonts,
           thumbnails, re-hashing every original from the vault, joining the parts;
  anchor   reportlab alone laying out the same number of plain table rows (4 text columns, NanumGothic
           embedded, tables of 200 rows, one document), without our data layer: what reportlab costs.

Goals (issue 5 §6): N=1,000 in ≤ 30 s and ≤ 500 MB peak; N=10,000 with peak memory not growing with N
(compare the peak RSS at 1,000 and 10,000).
Run from the repository root:  .venv/bin/python bench/p6_report.py [--sizes 1000,10000]
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import OUT_DIR, PYTHON, machine_info, print_machine, print_table, run_child, save_results

GOAL_SECONDS_1K = 30.0
GOAL_MB_1K = 500.0
HERE = Path(__file__).resolve()


def _django(data_dir: Path) -> None:
    os.environ["HAETAE_DATA_DIR"] = str(data_dir)
    os.environ["HAETAE_DETECT_ON_INGEST"] = "false"
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haetae.settings")
    import django

    django.setup()


def _photo(index: int) -> bytes:
    import io
    import random

    from PIL import Image, ImageDraw

    rng = random.Random(index)
    image = Image.new("RGB", (96, 72), tuple(rng.randint(0, 255) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        box = sorted(rng.sample(range(96), 2)), sorted(rng.sample(range(72), 2))
        draw.rectangle(
            (box[0][0], box[1][0], box[0][1], box[1][1]), fill=tuple(rng.randint(0, 255) for _ in range(3))
        )
    draw.text((4, 4), f"{index}", fill=(0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def setup(count: int, data_dir: Path) -> None:
    """Build the case of ``count`` exhibits (once; a finished build is reused)."""
    done = data_dir / "built.json"
    if done.exists():
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    _django(data_dir)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.contrib.auth.models import User

    from access.services import case_create, legal_authority_record
    from detection.registry import detector_get
    from detection.services import detection_run
    from evidence.ingest import PathSource, evidence_ingest
    from evidence.ledger import checkpoint_create
    from evidence.models import EvidenceItem
    from evidence.previews import preview_blurred_derivative
    from exhibits.services import exhibit_create

    photos = data_dir / "photos"
    photos.mkdir(exist_ok=True)
    for index in range(count):
        (photos / f"img-{index:05d}.jpg").write_bytes(_photo(index))
    lead = User.objects.create_user("bench-lead", first_name="Bench", last_name="Lead")
    case = case_create(number=f"2024-BENCH-{count}", title="P6 bench", actor=lead, unit="bench unit")
    from django.utils import timezone

    legal_authority_record(case=case, actor=lead, number="2024-0001", scope="bench", issued_at=timezone.now())
    started = time.perf_counter()
    evidence_ingest(
        case=case,
        sources=[PathSource(photos)],
        actor=lead,
        source_label="bench phone",
        seizure_reference="2024-0001",
        seal_numbers=["SEAL-1"],
        location="bench",
        participants=["W-1"],
    )
    items = list(EvidenceItem.objects.filter(case=case, blob__isnull=False).order_by("original_path"))
    print(f"  ingested {len(items)} items in {time.perf_counter() - started:.0f} s", flush=True)
    for name in ("c2pa", "file-hashes"):
        plugin = detector_get(name)
        for item in items:
            detection_run(item=item, detector=plugin, actor=lead)
    print(f"  detectors done at {time.perf_counter() - started:.0f} s", flush=True)
    for n, item in enumerate(items):
        exhibit_create(
            case=case, item_ids=[item.pk], description=f"Image {n} from the seized phone.", actor=lead
        )
        preview_blurred_derivative(item=item)
    checkpoint_create()
    print(f"  exhibits and previews done at {time.perf_counter() - started:.0f} s", flush=True)
    done.write_text(json.dumps({"count": count, "case": case.number}))


def render(data_dir: Path, out: Path) -> None:
    _django(data_dir)
    from access.models import Case
    from exhibits.models import Exhibit
    from exhibits.reports.data import report_data
    from exhibits.reports.render import report_render
    from exhibits.reports.types import SignerInfo

    case_number = json.loads((data_dir / "built.json").read_text())["case"]
    case = Case.objects.get(number=case_number)
    started = time.perf_counter()
    data = report_data(case=case, exhibits=Exhibit.objects.filter(case=case), language="ko")
    signer = SignerInfo(subject="CN=bench", development=True, certificate_sha256="0" * 64)
    rows = 0
    sections = data.exhibits

    def counted():  # the table rows we lay out, for the anchor
        nonlocal rows
        for section in sections:
            for item in section.items:
                rows += len(item.hashes) + len(item.findings) + len(item.provenance) + len(item.custody)
            yield section

    data.exhibits = counted()
    with out.open("wb") as pdf:
        result = report_render(data=data, out=pdf, report_id=f"RPT-{case_number}", version=1, signer=signer)
    rows += 3 * data.cover.item_count + len(data.exhibit_list)  # hash certificate and exhibit list
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {"seconds": seconds, "pages": result.page_count, "rows": rows, "bytes": out.stat().st_size}
        )
    )


def anchor(rows: int, out: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import SimpleDocTemplate, Table, TableStyle

    started = time.perf_counter()
    pdfmetrics.registerFont(TTFont("NanumGothic", "/usr/share/fonts/truetype/nanum/NanumGothic.ttf"))
    style = TableStyle([("FONTNAME", (0, 0), (-1, -1), "NanumGothic"), ("FONTSIZE", (0, 0), (-1, -1), 6.5)])
    story = []
    for start in range(0, rows, 200):
        data = [
            [str(n), "2024-05-01 14:03:09 +09:00", "acquired", f"{n:064x}"]
            for n in range(start, min(rows, start + 200))
        ]
        table = Table(data, colWidths=[15 * mm, 40 * mm, 25 * mm, 94 * mm], repeatRows=0)
        table.setStyle(style)
        story.append(table)
    doc = SimpleDocTemplate(str(out), pagesize=A4)
    doc.build(story, canvasmaker=lambda *a, **k: Canvas(*a, **{**k, "initialFontName": "NanumGothic"}))
    print(json.dumps({"seconds": time.perf_counter() - started, "pages": doc.page}))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="step")
    sub.add_parser("run")
    for name in ("setup", "render"):
        step = sub.add_parser(name)
        step.add_argument("data_dir", type=Path)
        step.add_argument("--count", type=int, default=0)
        step.add_argument("--out", type=Path)
    step = sub.add_parser("anchor")
    step.add_argument("rows", type=int)
    step.add_argument("--out", type=Path)
    parser.add_argument("--sizes", default="1000,10000")
    args = parser.parse_args()
    if args.step == "setup":
        setup(args.count, args.data_dir)
        return
    if args.step == "render":
        render(args.data_dir, args.out)
        return
    if args.step == "anchor":
        anchor(args.rows, args.out)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    info = machine_info(OUT_DIR)
    info["load_before"] = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print_machine(info)
    results = []
    for count in sizes:
        data_dir = OUT_DIR / f"p6-{count}"
        print(f"building the case of {count} exhibits (reused when built) …", flush=True)
        run_child([PYTHON, HERE, "setup", data_dir, "--count", str(count)])
        out_json = OUT_DIR / f"p6-{count}.json"
        ours = run_child(
            [PYTHON, HERE, "render", data_dir, "--out", OUT_DIR / f"p6-{count}.pdf"], stdout_path=out_json
        )
        measured = json.loads(out_json.read_text())
        anchor_json = OUT_DIR / f"p6-{count}-anchor.json"
        theirs = run_child(
            [PYTHON, HERE, "anchor", str(measured["rows"]), "--out", OUT_DIR / f"p6-{count}-anchor.pdf"],
            stdout_path=anchor_json,
        )
        anchored = json.loads(anchor_json.read_text())
        results.append(
            {
                "exhibits": count,
                "pages": measured["pages"],
                "rows": measured["rows"],
                "pdf_bytes": measured["bytes"],
                "ours_seconds": round(ours.seconds, 2),
                "ours_render_seconds": round(measured["seconds"], 2),
                "ours_peak_rss_mb": round(ours.max_rss_kib * 1024 / 1e6, 1),
                "ours_cpu_seconds": round(ours.cpu_seconds, 2),
                "anchor_cpu_seconds": round(theirs.cpu_seconds, 2),
                "anchor_seconds": round(theirs.seconds, 2),
                "anchor_render_seconds": round(anchored["seconds"], 2),
                "anchor_pages": anchored["pages"],
                "anchor_peak_rss_mb": round(theirs.max_rss_kib * 1024 / 1e6, 1),
                "ratio_seconds": round(measured["seconds"] / anchored["seconds"], 2),
                "ratio_cpu": round(ours.cpu_seconds / theirs.cpu_seconds, 2),
            }
        )
    info["load_after"] = " ".join(f"{v:.2f}" for v in os.getloadavg())
    rows = [
        [
            str(r["exhibits"]),
            str(r["pages"]),
            f"{r['ours_render_seconds']:.1f} s wall, {r['ours_cpu_seconds']:.1f} s CPU",
            f"{r['ours_peak_rss_mb']:.0f} MB",
            f"{r['anchor_render_seconds']:.1f} s wall, {r['anchor_cpu_seconds']:.1f} s CPU",
            f"{r['anchor_peak_rss_mb']:.0f} MB",
            f"{r['ratio_seconds']:.2f} (CPU {r['ratio_cpu']:.2f})",
        ]
        for r in results
    ]
    print_table(
        ["exhibits", "pages", "ours (render)", "ours peak RSS", "anchor", "anchor peak RSS", "ratio"], rows
    )
    by_count = {r["exhibits"]: r for r in results}
    if 1000 in by_count:
        r = by_count[1000]
        ok = r["ours_render_seconds"] <= GOAL_SECONDS_1K and r["ours_peak_rss_mb"] <= GOAL_MB_1K
        verdict = "met" if ok else "NOT met"
        print(f"goal 1,000 exhibits ≤ {GOAL_SECONDS_1K:.0f} s and ≤ {GOAL_MB_1K:.0f} MB: {verdict}")
    if 1000 in by_count and 10000 in by_count:
        growth = by_count[10000]["ours_peak_rss_mb"] / by_count[1000]["ours_peak_rss_mb"]
        print(f"peak RSS 10,000 / 1,000 exhibits: {growth:.2f}x")
    print(f"load average after: {info['load_after']}")
    save_results("p6_report", {"machine": info, "results": results})


if __name__ == "__main__":
    main()
