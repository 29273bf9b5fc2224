"""The OpenAPI schema as ``manage.py spectacular --validate --fail-on-warn`` writes it, made once per test
process: every schema test reads its own part of the same document. Generating and validating it costs
about ten seconds of CPU, and it depends on nothing a test changes (the URL conf and the views)."""

import copy
import functools
import tempfile
from pathlib import Path
from typing import Any

import yaml


@functools.cache
def _generated() -> dict[str, Any]:
    from django.core.management import call_command
    from django.utils import translation
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.plumbing import _load_enum_name_overrides

    # As a fresh `manage.py spectacular` would: no warnings counted from schema requests of earlier tests,
    # and the enum-name overrides (cached per language) made anew, in English.
    GENERATOR_STATS.reset()
    _load_enum_name_overrides.cache_clear()
    with tempfile.TemporaryDirectory() as folder, translation.override("en"):
        out = Path(folder) / "schema.yaml"
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
        return yaml.safe_load(out.read_text())


def openapi_schema() -> dict[str, Any]:
    """The validated schema, generated without a warning (else the first caller fails); a copy to read."""
    return copy.deepcopy(_generated())
