"""json_safe: text from seized files stays storable (PostgreSQL refuses NUL and lone surrogates)."""

import json

from detection.detectors.jsonsafe import json_safe


def test_hostile_strings_numbers_and_keys_become_storable():
    hostile = json.loads('{"a\\u0000b": ["\\ud800x", NaN, Infinity, 1.5, 7, null, true], "n": {"k": "ok"}}')
    safe = json_safe(hostile)
    assert safe == {"a\\x00b": ["?x", "nan", "inf", 1.5, 7, None, True], "n": {"k": "ok"}}
    json.dumps(safe, allow_nan=False).encode("utf-8")  # valid strict JSON, valid UTF-8
