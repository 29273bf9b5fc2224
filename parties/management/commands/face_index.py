"""manage.py face_index rebuild|status [--json]"""

import time
from typing import Any

from haetae.cli import HaetaeCommand
from parties.faceindex import face_index, face_index_models, index_dir


class Command(HaetaeCommand):
    """rebuild: build the face index from the database (every face finding not rejected, of items not
    destroyed) and save it under DATA_DIR/face-index/ for the processes that start next; status: what this
    process's index holds after catching up. No case content is printed."""

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("what", choices=["rebuild", "status"])
        parser.add_argument("--json", action="store_true", help="print one JSON document")

    def handle(self, *args: Any, **options: Any) -> None:
        report: list[dict[str, Any]] = []
        for model in face_index_models():
            index = face_index(model)
            started = time.monotonic()
            if options["what"] == "rebuild":
                index.rebuild()
                path = str(index.save(index_dir()))
            else:
                index.sync()
                path = ""
            report.append(
                {
                    "model_sha256": model,
                    "faces": len(index.vectors),
                    "index": index.version,
                    "seconds": round(time.monotonic() - started, 3),
                    "path": path,
                }
            )
        if options["json"]:
            self.emit_json({"models": report})
            return
        if not report:
            self.stdout.write("no face findings in the database: nothing to index")
        for row in report:
            saved = f", saved to {row['path']}" if row["path"] else ""
            self.stdout.write(f"{row['model_sha256'][:12]}: {row['faces']} faces ({row['index']}){saved}")
