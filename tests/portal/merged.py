"""Whether another helper's module is part of this checkout (tests of this branch that need it wait for it).

Looked up as a file, not imported: an editable install of another checkout can supply a subpackage that is
missing here (setuptools' editable finder resolves ``casefile.reports`` in that other tree), and code mixed
from two trees is not under test.
"""

from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]


def merged_here(module: str) -> bool:
    """True when ``module`` (dotted) is a module or package file of this checkout."""
    path = CHECKOUT.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()
