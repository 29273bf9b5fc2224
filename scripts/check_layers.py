"""Check the floors: each app imports only from the apps below it, never up, never in a circle.

Reads every module's imports with ``ast`` (module level and inside functions alike) and fails on:
- an import of an app on the same floor or a higher one (the floors are ``FLOORS`` below, drawn in
  docs/architecture.md);
- a circle between two modules of one app (``a`` imports ``b`` and ``b`` imports ``a``, at module level);
- an ``apps.get_model("<other app>", …)`` string naming another app, which hides an arrow from this check;
- an import inside a function that is not of a heavy optional library (``HEAVY``) or done in
  ``AppConfig.ready``: such imports exist to dodge a circle, which the floors make unnecessary. These are
  listed as warnings (the ones left are inside an app, mostly detection's plug-in modules); ``--strict``
  makes them findings too.

It also prints each app's share of the code (lines of Python outside migrations) and fails when the largest
holds 30 % or more. Exit 1 on any finding.
"""

import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Ground floor first. An app may import from any app on a lower floor.
FLOORS: list[list[str]] = [
    ["haetae"],
    ["access", "accounts"],
    ["evidence"],
    ["detection"],
    ["parties"],
    ["sources", "captures"],
    ["support"],
    ["search"],
    ["exhibits"],
    ["records"],
    ["portal"],
]
FLOOR = {app: level for level, apps in enumerate(FLOORS) for app in apps}
# Libraries that are slow to load or optional: imported where first needed, so start-up stays light.
HEAVY = {
    "av",
    "cv2",
    "dlib",
    "onnxruntime",
    "onnx",
    "skimage",
    "pikepdf",
    "pyhanko",
    "pyhanko_certvalidator",
    "reportlab",
    "c2pa",
    "nudenet",
    "scipy",
    "pywt",
    "django_otp",
    "playwright",
    "warcio",
    "wacz",
    "tesserocr",
    "pypdf",
    "kiwipiepy",
    "faiss",
}


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _files(app: str, root: Path = ROOT) -> list[Path]:
    return [p for p in (root / app).rglob("*.py") if "migrations" not in p.parts]


def _in_ready(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.FunctionDef) and node.name == "ready":
            return True
    return False


def check(root: Path = ROOT) -> list[str]:
    problems: list[str] = []
    module_imports: dict[str, set[str]] = defaultdict(set)
    for app in FLOOR:
        for path in _files(app, root):
            tree = ast.parse(path.read_text(), filename=str(path))
            parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
            here = _module_name(path, root)
            where = path.relative_to(root)
            for node in ast.walk(tree):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
                elif (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "get_model"
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                ):
                    target = node.args[0].value.split(".")[0]
                    if target in FLOOR and target != app:
                        problems.append(f"{where}:{node.lineno}: apps.get_model names another app ({target})")
                    continue
                if not names or not isinstance(node, ast.Import | ast.ImportFrom):
                    continue
                top = names[0].split(".")[0]
                nested = not isinstance(parents.get(node), ast.Module)
                in_type_check = isinstance(parents.get(node), ast.If) and "TYPE_CHECKING" in ast.unparse(
                    parents[node].test  # type: ignore[attr-defined]
                )
                if top in FLOOR and top != app and FLOOR[top] >= FLOOR[app]:
                    problems.append(
                        f"{where}:{node.lineno}: {app} (floor {FLOOR[app]}) imports {top} "
                        f"(floor {FLOOR[top]}): arrows point down only"
                    )
                hidden = nested and not in_type_check and not _in_ready(node, parents)
                if hidden and top not in HEAVY and (top in FLOOR or top in {"django", "rest_framework"}):
                    problems.append(f"{where}:{node.lineno}: warning: import of {names[0]} inside a function")
                if top == app and not nested:
                    for name in names:
                        module_imports[here].add(name)
    modules = set(module_imports)
    for module, targets in module_imports.items():
        for target in targets:
            mutual = target in modules and target != module and module in module_imports.get(target, ())
            if mutual and module < target:
                problems.append(f"{module} and {target} import each other")
    return problems


def shares() -> dict[str, int]:
    return {app: sum(len(p.read_text().splitlines()) for p in _files(app)) for app in FLOOR}


def main() -> int:
    problems = check()
    sizes = shares()
    total = sum(sizes.values())
    for app, lines in sorted(sizes.items(), key=lambda kv: -kv[1]):
        print(f"{app:10} {lines:6} lines  {100 * lines / total:5.1f} %")
    strict = "--strict" in sys.argv
    for problem in problems:
        print(problem, file=sys.stderr)
    problems = [p for p in problems if strict or ": warning: " not in p]
    largest = max(sizes.values()) / total
    if largest >= 0.30:
        print(f"the largest app holds {100 * largest:.1f} % of the code (limit 30 %)", file=sys.stderr)
        return 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
