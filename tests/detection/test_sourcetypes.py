"""IPTC digital source types: terms from URIs, meanings, and which declare generative AI."""

import pytest

from detection.detectors.sourcetypes import IPTC_PREFIX, describe, source_type_term


@pytest.mark.parametrize(
    ("value", "term", "generative"),
    [
        (IPTC_PREFIX + "trainedAlgorithmicMedia", "trainedAlgorithmicMedia", True),
        (IPTC_PREFIX + "compositeWithTrainedAlgorithmicMedia/", "compositeWithTrainedAlgorithmicMedia", True),
        ("http://c2pa.org/digitalsourcetype/trainedAlgorithmicData", "trainedAlgorithmicData", False),
        ("digitalCapture", "digitalCapture", False),
        (IPTC_PREFIX + "algorithmicMedia", "algorithmicMedia", False),
    ],
)
def test_describe(value, term, generative):
    described = describe(value)
    assert source_type_term(value) == term == described["term"]
    assert described["value"] == value and described["generative_ai"] is generative


def test_unknown_terms_are_said_to_be_unknown():
    assert describe("http://example.org/made-up")["meaning"] == "term not in the IPTC vocabulary"
