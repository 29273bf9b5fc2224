"""Make values read from seized files storable as JSON on every database Haetae runs on.

PostgreSQL's jsonb refuses the NUL character and text that is not valid UTF-8 (lone surrogates, which
``json.loads`` happily produces), and JSON has no NaN or infinity. A hostile file must not be able to make
an annotation unstorable (the run would fail and retry forever), so strings are made visible and valid,
numbers finite, keys strings.
"""

import math
from typing import Any


def json_safe(value: Any, depth: int = 0) -> Any:
    """``value`` with NULs shown as ``\\x00``, invalid UTF-8 replaced, non-finite floats as strings."""
    if depth > 50:
        return "…"
    if isinstance(value, str):
        if "\x00" in value:
            value = value.replace("\x00", "\\x00")
        return value.encode("utf-8", errors="replace").decode("utf-8")
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {json_safe(str(k), depth + 1): json_safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v, depth + 1) for v in value]
    return value
