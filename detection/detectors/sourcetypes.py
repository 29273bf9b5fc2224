"""IPTC digital source types: the vocabulary C2PA actions and IPTC/XMP metadata use to say how media was made.

Terms from the IPTC NewsCodes scheme http://cv.iptc.org/newscodes/digitalsourcetype/ (current and deprecated
ones still found in files). A file *declares* its source type; the declaration is what its writer claimed.
"""

IPTC_PREFIX = "http://cv.iptc.org/newscodes/digitalsourcetype/"

MEANINGS: dict[str, str] = {
    "digitalCapture": "original digital capture of a real scene",
    "computationalCapture": "digital capture processed by the device (e.g. multi-frame phone photo)",
    "negativeFilm": "digitised from a film negative",
    "positiveFilm": "digitised from a film positive",
    "print": "digitised from a print",
    "humanEdits": "edited by a person",
    "minorHumanEdits": "edited by a person (minor edits; deprecated term)",
    "compositeCapture": "composite of captured elements",
    "algorithmicallyEnhanced": "captured media enhanced by an algorithm",
    "dataDrivenMedia": "created from data (e.g. a chart)",
    "digitalArt": "created by a person with digital tools",
    "digitalCreation": "created by a person with digital tools (deprecated term)",
    "softwareImage": "created by software (deprecated term)",
    "virtualRecording": "recording of a virtual scene",
    "screenCapture": "screen capture",
    "composite": "composite of elements",
    "compositeSynthetic": "composite including synthetic elements",
    "algorithmicMedia": "created purely by an algorithm not based on training data",
    "trainedAlgorithmicMedia": "created by a generative model trained on sample content (generative AI)",
    "compositeWithTrainedAlgorithmicMedia": "composite including generative-AI elements",
}

# Declarations that the content is, or contains, generative-AI output.
GENERATIVE_AI = frozenset({"trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia"})


def source_type_term(value: str) -> str:
    """The bare term of a digital source type given as an IPTC URI, a C2PA URI or the term itself."""
    return value.strip().rstrip("/").rsplit("/", 1)[-1]


def describe(value: str) -> dict[str, object]:
    """A declared source type as stored in findings: the value as found, its term, meaning, and AI flag."""
    term = source_type_term(value)
    return {
        "value": value,
        "term": term,
        "meaning": MEANINGS.get(term, "term not in the IPTC vocabulary"),
        "generative_ai": term in GENERATIVE_AI,
    }
