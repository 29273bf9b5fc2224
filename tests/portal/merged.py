"""Whether another helper's module is part of this checkout (tests of this branch that need it wait for it).

An editable install of another checkout can supply a subpackage that is missing here (setuptools' editable
finder resolves ``casefile.reports`` in that other tree); code mixed from two trees is not under test.
"""

import importlib
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]


def merged_here(module: str) -> bool:
    """True when ``module`` imports and its file lies in this checkout."""
    try:
        found = importlib.import_module(module)
    except ImportError:
        return False
    return Path(str(found.__file__)).resolve().is_relative_to(CHECKOUT)
