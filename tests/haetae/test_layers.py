"""scripts/check_layers.py: the project's floors hold, and the check does catch an arrow that runs up."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("check_layers", ROOT / "scripts" / "check_layers.py")
assert spec is not None and spec.loader is not None
check_layers = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_layers)


def test_the_project_has_no_upward_arrow_no_circle_and_no_model_string_to_another_app() -> None:
    findings = [p for p in check_layers.check() if ": warning: " not in p]
    assert findings == []
    sizes = check_layers.shares()
    assert max(sizes.values()) / sum(sizes.values()) < 0.30


def _app(root: Path, app: str, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / app / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_an_upward_import_a_circle_and_a_model_string_are_each_found(tmp_path: Path) -> None:
    _app(tmp_path, "access", {"models.py": "from exhibits.models import Exhibit\n"})
    _app(
        tmp_path,
        "exhibits",
        {
            "a.py": "from exhibits.b import thing\n",
            "b.py": "from exhibits.a import other\n",
            "c.py": "from django.apps import apps\nE = apps.get_model('parties', 'Person')\n",
            "d.py": "def late():\n    from access.models import Case\n",
        },
    )
    findings = check_layers.check(tmp_path)
    assert any("access/models.py:1: access (floor 1) imports exhibits" in f for f in findings)
    assert any("exhibits.a and exhibits.b import each other" in f for f in findings)
    assert any("apps.get_model names another app (parties)" in f for f in findings)
    assert any("exhibits/d.py:2: warning: import of access.models inside a function" in f for f in findings)
