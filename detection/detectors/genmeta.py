"""Generator metadata: what image-generation and face-swap tools write into the files they save.

Read from PNG text chunks (tEXt, zTXt, iTXt), EXIF (Software, UserComment, Make/Model, ImageDescription),
XMP (IPTC ``DigitalSourceType``, ``CreatorTool``) and JPEG comments, in PNG, JPEG and WebP:

- AUTOMATIC1111 and its forks (Forge, SD.Next…): ``parameters`` text "prompt / Negative prompt: / Steps: …"
- ComfyUI: ``prompt`` (API graph) and ``workflow`` (editor graph) JSON; in WebP, EXIF Make/Model
- InvokeAI: ``invokeai_metadata`` / ``invokeai_graph`` (3.x+), ``sd-metadata`` (2.x), ``Dream`` (1.x)
- NovelAI: ``Software`` = NovelAI, ``Comment`` JSON, ``Source``, ``Description``
- Fooocus: ``fooocus_scheme`` and ``parameters`` JSON (or A1111 text naming Fooocus)
- SwarmUI: ``sui_image_params`` JSON
- Midjourney: ``Description`` "prompt --parameters Job ID: <uuid>" (and ``Author``)
- IPTC digital source type (e.g. trainedAlgorithmicMedia) in XMP
- DeepFaceLab: its JPEG APP15 segment, a Python pickle read by ``pickle_reader`` without unpickling
- "stealth" metadata hidden in the pixels' least-significant bits (NovelAI, A1111's stealth-pnginfo).

Metadata is written by software and trivially edited or removed: presence is a strong lead about the
tool that saved the file, absence means nothing (platforms strip it). Prompts can be sensitive; they stay
in the annotation's details, which only the case's members can read.
"""

import hashlib
import json
import re
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from detection.detectors.jsonsafe import json_safe
from detection.detectors.pickle_reader import DATA_CALLABLES, Call, Global, PickleUnreadable, read_pickle
from detection.detectors.sourcetypes import describe
from detection.registry import DetectorInfo, Finding
from detection.subject import Subject

MAX_TEXT = 20_000  # characters kept of one field; the raw text's SHA-256 and length are always kept
MAX_ARRAY_VALUES = 200  # arrays in a DeepFaceLab pickle are kept whole up to this many values

EXIF_IFD = 0x8769
EXIF_TAGS = {
    0x010E: "ImageDescription",
    0x010F: "Make",
    0x0110: "Model",
    0x0131: "Software",
    0x013B: "Artist",
}
EXIF_IFD_TAGS = {0x9286: "UserComment", 0x927C: "MakerNote"}

# Software names (EXIF Software, XMP CreatorTool, PNG Software) that are image generators.
GENERATOR_SOFTWARE = re.compile(
    r"novelai|midjourney|dall[\s·-]?e|stable\s*diffusion|firefly|comfyui|fooocus|invokeai|automatic1111|"
    r"imagen|gemini|ideogram|leonardo\.?ai|flux|deepfacelab|faceswap|roop|facefusion|swarmui|"
    r"nightcafe|dreamstudio|playground\s*ai|krea|runway",
    re.IGNORECASE,
)

PRESENCE_NOTE = (
    "Written by the software that saved the file. A strong lead to the tool and settings used, but "
    "metadata is easily edited or copied into another file; corroborate before relying on it."
)
ABSENCE_NOTE = (
    "No generator metadata found — not probative: most platforms and messengers strip metadata on upload, "
    "and it is removed by re-saving or a screenshot."
)


@dataclass
class Sources:
    """The metadata containers of one file, decoded to text where they are text."""

    texts: dict[str, str] = field(default_factory=dict)  # PNG text chunks by keyword
    exif: dict[str, str] = field(default_factory=dict)  # selected EXIF tags by name
    xmp: str = ""
    comments: list[str] = field(default_factory=list)  # JPEG COM segments
    app15: list[bytes] = field(default_factory=list)  # JPEG APP15 segments
    container: str = ""
    stealth: tuple[str, str] | None = None  # (signature, text) hidden in pixel least-significant bits
    unreadable: list[str] = field(default_factory=list)  # containers present but malformed


@dataclass
class Hit:
    """One generator's metadata found in the file."""

    generator_id: str
    generator: str
    where: list[str]
    fields: dict[str, Any]
    raw: str | bytes = ""
    category: str = "ai_provenance"
    label: str = "generator_metadata"


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _clip(value: str) -> str:
    return (
        value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + f"… [{len(value) - MAX_TEXT} more characters]"
    )


def _user_comment(raw: Any) -> str:
    """EXIF UserComment: an 8-byte character-code header, then the text (A1111 and Fooocus use UNICODE)."""
    if not isinstance(raw, bytes):
        return _text(raw)
    header, body = raw[:8], raw[8:]
    if header.startswith(b"UNICODE"):
        candidates = [body.decode(codec, errors="replace") for codec in ("utf-16-be", "utf-16-le")]
        # Whichever byte order yields more plain ASCII is the right one (prompts are mostly ASCII).
        return max(candidates, key=lambda t: sum(c.isascii() and c.isprintable() for c in t)).rstrip("\x00")
    if header.startswith((b"ASCII", b"\x00" * 8, b"JIS")):
        return body.decode("utf-8", errors="replace").rstrip("\x00")
    return raw.decode("utf-8", errors="replace").rstrip("\x00")


def collect_sources(image: Image.Image) -> Sources:
    """The text-bearing metadata containers Pillow exposes for this image."""
    sources = Sources(container=image.format or "")
    text_chunks = getattr(image, "text", None)  # PNG: tEXt, zTXt and iTXt, read to the end of the file
    if isinstance(text_chunks, dict):
        sources.texts = {str(k): _text(v) for k, v in text_chunks.items()}
    try:
        exif = image.getexif()
        for tag, name in EXIF_TAGS.items():
            if tag in exif:
                sources.exif[name] = _text(exif[tag]).rstrip("\x00")
        exif_ifd = exif.get_ifd(EXIF_IFD)
        for tag, name in EXIF_IFD_TAGS.items():
            if tag in exif_ifd:
                sources.exif[name] = _user_comment(exif_ifd[tag])
    except (SyntaxError, ValueError, TypeError, KeyError, OSError, struct.error) as exc:
        sources.unreadable.append(f"EXIF: {type(exc).__name__}: {exc}")
    xmp = image.info.get("xmp") or sources.texts.get("XML:com.adobe.xmp") or ""
    sources.xmp = _text(xmp)
    if image.info.get("comment"):
        sources.comments.append(_text(image.info["comment"]))
    for marker, payload in getattr(image, "applist", []):
        if marker == "APP15":
            sources.app15.append(payload)
        elif marker == "COM" and _text(payload) not in sources.comments:
            sources.comments.append(_text(payload))
    if image.format in {"PNG", "WEBP"}:  # lossless carriers only: JPEG destroys least-significant bits
        sources.stealth = read_stealth(image)
    return sources


# --- "stealth" metadata in least-significant bits (NovelAI, the A1111 stealth-pnginfo extension) -------

STEALTH_SIGNATURES = {
    b"stealth_pnginfo": ("alpha", False),
    b"stealth_pngcomp": ("alpha", True),
    b"stealth_rgbinfo": ("rgb", False),
    b"stealth_rgbcomp": ("rgb", True),
}
MAX_STEALTH_BYTES = 4_000_000  # refuse longer payloads and larger decompressed text (gzip bombs)


def _stealth_bits(image: Image.Image, mode: str, count: int) -> np.ndarray:
    """The first ``count`` least-significant bits in the writers' order: column by column (x outer, y inner),
    R, G, B within a pixel in "rgb" mode. Only the columns needed are converted."""
    per_column = image.height * (1 if mode == "alpha" else 3)
    columns = min(image.width, -(-count // per_column))
    strip = image.crop((0, 0, columns, image.height))
    if mode == "alpha":
        values = np.asarray(strip.getchannel("A")).T
    else:
        values = np.asarray(strip.convert("RGB")).transpose(1, 0, 2)
    return (values & 1).reshape(-1)[:count]


def read_stealth(image: Image.Image) -> tuple[str, str] | None:
    """(signature, text) of stealth metadata in the pixels' least-significant bits, or None."""
    modes = ["alpha", "rgb"] if "A" in image.getbands() else ["rgb"]
    for mode in modes:
        header = _stealth_bits(image, mode, 152)
        if header.size < 152:
            continue
        signature = np.packbits(header[:120]).tobytes()
        if signature not in STEALTH_SIGNATURES or STEALTH_SIGNATURES[signature][0] != mode:
            continue
        length = int.from_bytes(np.packbits(header[120:152]).tobytes(), "big")  # in bits
        capacity = image.width * image.height * (1 if mode == "alpha" else 3) - 152
        if length <= 0 or length > min(capacity, MAX_STEALTH_BYTES * 8):
            return None
        payload = np.packbits(_stealth_bits(image, mode, 152 + length)[152:]).tobytes()
        if STEALTH_SIGNATURES[signature][1]:
            inflater = zlib.decompressobj(wbits=31)  # gzip
            try:
                payload = inflater.decompress(payload, MAX_STEALTH_BYTES)
            except zlib.error:
                return None
        return signature.decode(), payload.decode("utf-8", errors="replace")
    return None


def _find_stealth(sources: Sources) -> list[Hit]:
    if sources.stealth is None:
        return []
    signature, text = sources.stealth
    where = f"pixel least-significant bits '{signature}'"
    data = _json(text)
    inner = Sources(container=sources.container)
    if isinstance(data, dict):
        inner.texts = {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
    else:
        inner.texts = {"parameters": text}
    hits = _find_novelai(inner) + _find_a1111(inner) + _find_comfyui(inner) + _find_json_parameters(inner)
    for hit in hits:
        hit.where = [where] + [f"inside it: {w}" for w in hit.where]
    if not hits:
        hits = [
            Hit(
                "stealth_metadata",
                "hidden metadata in pixel bits (format not recognised)",
                [where],
                {"text": _clip(text)},
                raw=text,
                category="metadata",
                label="hidden_pixel_metadata",
            )
        ]
    return hits


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, TypeError):
        return None


# --- AUTOMATIC1111-style parameters ---------------------------------------------------------------


def _a1111_settings(line: str) -> dict[str, str]:
    """``Key: value, Key: "quoted, value", …`` split in one linear pass (no backtracking on hostile text)."""
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in line:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    settings = {}
    for part in parts:
        key, colon, value = part.partition(":")
        if colon and key.strip():
            settings[key.strip()] = value.strip().removeprefix('"').removesuffix('"')
    return settings


def parse_a1111(text: str) -> dict[str, Any] | None:
    """Prompt, negative prompt and the "Key: value, …" settings line; None if the text is not that format."""
    lines = text.strip().split("\n")
    if not lines or not re.search(r"(^|,\s*)Steps:\s*\d+", lines[-1]):
        return None
    settings = _a1111_settings(lines[-1])
    prompt_lines: list[str] = []
    negative_lines: list[str] = []
    target = prompt_lines
    for line in lines[:-1]:
        if line.startswith("Negative prompt:"):
            target = negative_lines
            line = line.removeprefix("Negative prompt:").strip()
        target.append(line)
    return {
        "prompt": _clip("\n".join(prompt_lines).strip()),
        "negative_prompt": _clip("\n".join(negative_lines).strip()),
        "settings": {k: _clip(v) for k, v in settings.items()},
    }


def _a1111_generator(settings: dict[str, str]) -> tuple[str, str]:
    version = settings.get("Version", "")
    if "fooocus" in version.lower():
        return "fooocus", f"Fooocus ({version}), A1111-format parameters"
    if version.startswith("f") and "v" in version:  # Forge versions read like "f0.0.17v1.8.0rc-latest-276"
        return "a1111", f"Stable Diffusion WebUI Forge ({version})"
    return "a1111", f"AUTOMATIC1111 Stable Diffusion web UI or a fork ({version or 'version not stated'})"


# --- the generators ---------------------------------------------------------------------------------


def _find_a1111(sources: Sources) -> list[Hit]:
    hits = []
    places = [("PNG text 'parameters'", sources.texts.get("parameters", ""))]
    places.append(("EXIF UserComment", sources.exif.get("UserComment", "")))
    places += [("JPEG comment", c) for c in sources.comments]
    for where, text in places:
        parsed = parse_a1111(text) if text else None
        if parsed:
            generator_id, generator = _a1111_generator(parsed["settings"])
            hits.append(Hit(generator_id, generator, [where], parsed, raw=text))
    return hits


def _comfy_summary(prompt: Any, workflow: Any) -> dict[str, Any]:
    """What a ComfyUI graph says: node types, model files, prompt texts, seeds."""
    summary: dict[str, Any] = {"node_types": [], "models": [], "prompts": [], "seeds": []}
    nodes: list[tuple[str, dict[str, Any]]] = []
    if isinstance(prompt, dict):
        nodes += [
            (str(n.get("class_type", "")), n.get("inputs") or {})
            for n in prompt.values()
            if isinstance(n, dict)
        ]
    for class_type, inputs in nodes:
        summary["node_types"].append(class_type)
        if not isinstance(inputs, dict):
            continue
        for key, value in inputs.items():
            if isinstance(value, str) and re.search(r"\.(safetensors|ckpt|pt|pth|bin|gguf|onnx)$", value):
                summary["models"].append(value)
            elif key in {"text", "text_g", "text_l", "positive", "negative"} and isinstance(value, str):
                summary["prompts"].append(_clip(value))
            elif key in {"seed", "noise_seed"} and isinstance(value, int):
                summary["seeds"].append(value)
    if isinstance(workflow, dict) and isinstance(workflow.get("nodes"), list):
        summary["workflow_nodes"] = len(workflow["nodes"])
        if not nodes:
            summary["node_types"] = [str(n.get("type", "")) for n in workflow["nodes"] if isinstance(n, dict)]
    summary["node_types"] = sorted(set(summary["node_types"]))
    summary["models"] = sorted(set(summary["models"]))
    return summary


def _find_comfyui(sources: Sources) -> list[Hit]:
    prompt_text = sources.texts.get("prompt", "")
    workflow_text = sources.texts.get("workflow", "")
    where = [f"PNG text '{k}'" for k, v in (("prompt", prompt_text), ("workflow", workflow_text)) if v]
    for tag, key in (("Make", "workflow"), ("Model", "prompt")):  # ComfyUI's WebP and some JPEG savers
        value = sources.exif.get(tag, "")
        if value.startswith(f"{key}:"):
            where.append(f"EXIF {tag} '{key}:'")
            if key == "prompt":
                prompt_text = value.removeprefix("prompt:")
            else:
                workflow_text = value.removeprefix("workflow:")
    prompt, workflow = _json(prompt_text), _json(workflow_text)
    is_graph = isinstance(prompt, dict) and any(
        isinstance(n, dict) and "class_type" in n for n in prompt.values()
    )
    is_workflow = isinstance(workflow, dict) and "nodes" in workflow
    if not (is_graph or is_workflow):
        return []
    return [
        Hit("comfyui", "ComfyUI", where, _comfy_summary(prompt, workflow), raw=prompt_text + workflow_text)
    ]


def _find_invokeai(sources: Sources) -> list[Hit]:
    hits = []
    for key in ("invokeai_metadata", "sd-metadata"):
        data = _json(sources.texts.get(key, ""))
        if isinstance(data, dict):
            fields = _pick(
                data,
                (
                    "positive_prompt",
                    "negative_prompt",
                    "seed",
                    "model",
                    "steps",
                    "cfg_scale",
                    "scheduler",
                    "width",
                    "height",
                    "app_version",
                    "generation_mode",
                    "model_weights",
                    "image",
                ),
            )
            where = [f"PNG text '{key}'"]
            where += [
                f"PNG text '{k}'" for k in ("invokeai_graph", "invokeai_workflow") if k in sources.texts
            ]
            hits.append(Hit("invokeai", "InvokeAI", where, fields, raw=sources.texts[key]))
    dream = sources.texts.get("Dream", "")
    if dream:
        hits.append(
            Hit(
                "invokeai",
                "InvokeAI 1.x (lstein dream.py)",
                ["PNG text 'Dream'"],
                {"command": _clip(dream)},
                raw=dream,
            )
        )
    return hits


def _find_novelai(sources: Sources) -> list[Hit]:
    software = sources.texts.get("Software", "") or sources.exif.get("Software", "")
    comment = _json(sources.texts.get("Comment", ""))
    if "novelai" not in software.lower() and not (
        isinstance(comment, dict) and "uc" in comment and "prompt" in comment
    ):
        return []
    fields: dict[str, Any] = {"software": software}
    for key in ("Source", "Description", "Title", "Generation time"):
        if key in sources.texts:
            fields[key.lower().replace(" ", "_")] = _clip(sources.texts[key])
    if isinstance(comment, dict):
        fields["comment"] = _pick(
            comment,
            (
                "prompt",
                "uc",
                "steps",
                "seed",
                "sampler",
                "scale",
                "width",
                "height",
                "strength",
                "noise",
                "request_type",
                "signed_hash",
            ),
        )
    where = [
        f"PNG text '{k}'" for k in ("Software", "Comment", "Source", "Description") if k in sources.texts
    ]
    return [
        Hit("novelai", "NovelAI", where or ["EXIF Software"], fields, raw=sources.texts.get("Comment", ""))
    ]


_MIDJOURNEY_JOB = re.compile(
    r"Job ID:\s*([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})", re.I
)


def _find_midjourney(sources: Sources) -> list[Hit]:
    """Midjourney's description: "prompt --parameters Job ID: <uuid>" (PNG Description, EXIF description)."""
    places = [("PNG text 'Description'", sources.texts.get("Description", ""))]
    places.append(("EXIF ImageDescription", sources.exif.get("ImageDescription", "")))
    for where, text in places:
        job = _MIDJOURNEY_JOB.search(text) if text else None
        if job:
            described = text[: job.start()].strip()
            prompt, _, parameters = described.partition(" --")
            fields = {
                "prompt": _clip(prompt.strip()),
                "parameters": _clip(f"--{parameters}" if parameters else ""),
            }
            fields["job_id"] = job.group(1)
            if "Author" in sources.texts:
                fields["author"] = _clip(sources.texts["Author"])
            return [Hit("midjourney", "Midjourney", [where], fields, raw=text)]
    return []


def _find_json_parameters(sources: Sources) -> list[Hit]:
    """Fooocus and SwarmUI write JSON (PNG 'parameters', or EXIF UserComment in JPEG/WebP)."""
    hits = []
    places = [("PNG text 'parameters'", sources.texts.get("parameters", ""))]
    places.append(("EXIF UserComment", sources.exif.get("UserComment", "")))
    places.append(("PNG text 'sui_image_params'", sources.texts.get("sui_image_params", "")))
    scheme = sources.texts.get("fooocus_scheme", "") or sources.exif.get("MakerNote", "")
    for where, text in places:
        data = _json(text) if text else None
        if not isinstance(data, dict):
            continue
        params = data.get("sui_image_params") if isinstance(data.get("sui_image_params"), dict) else None
        if params is not None or where.endswith("'sui_image_params'"):
            fields = _pick(
                params or data,
                (
                    "prompt",
                    "negativeprompt",
                    "model",
                    "seed",
                    "steps",
                    "cfgscale",
                    "width",
                    "height",
                    "sampler",
                    "scheduler",
                    "swarm_version",
                ),
            )
            if isinstance(data.get("sui_models"), list):
                fields["models"] = [_clip(json.dumps(m, sort_keys=True)) for m in data["sui_models"][:20]]
            hits.append(Hit("swarmui", "SwarmUI", [where], fields, raw=text))
            continue
        version = str(data.get("version") or data.get("Version") or "")
        if "fooocus" in version.lower() or "fooocus" in scheme.lower():
            keys = (
                "prompt",
                "Prompt",
                "negative_prompt",
                "Negative Prompt",
                "base_model",
                "Base Model",
                "seed",
                "Seed",
                "steps",
                "Steps",
                "styles",
                "Styles",
                "performance",
                "Performance",
                "resolution",
                "Resolution",
                "loras",
                "version",
                "Version",
            )
            where_all = [where] + (["PNG text 'fooocus_scheme'"] if "fooocus_scheme" in sources.texts else [])
            hits.append(
                Hit(
                    "fooocus",
                    f"Fooocus ({version or 'version not stated'})",
                    where_all,
                    _pick(data, keys),
                    raw=text,
                )
            )
    return hits


_XMP_SOURCE_TYPE = re.compile(
    r"DigitalSourceType(?:\s*=\s*[\"']([^\"']+)[\"']|\s*>\s*([^<\s]+)\s*<|[^>]*?rdf:resource\s*=\s*[\"']([^\"']+)[\"'])"
)
_XMP_CREATOR_TOOL = re.compile(r"CreatorTool(?:\s*=\s*[\"']([^\"']*)[\"']|\s*>\s*([^<]*)<)")


def _find_xmp_and_software(sources: Sources) -> list[Hit]:
    hits = []
    declared = [next(g for g in m if g) for m in _XMP_SOURCE_TYPE.findall(sources.xmp)]
    for value in dict.fromkeys(declared):
        described = describe(value)
        hits.append(
            Hit(
                "iptc_digital_source_type",
                "IPTC digital source type (XMP)",
                ["XMP Iptc4xmpExt:DigitalSourceType"],
                {"digital_source_type": described},
                category="ai_provenance" if described["generative_ai"] else "metadata",
                label="declared_generative_ai" if described["generative_ai"] else "declared_source_type",
            )
        )
    tools = [
        (f"EXIF {k}", sources.exif[k]) for k in ("Software", "Make", "Model", "Artist") if k in sources.exif
    ]
    tools += [("PNG text 'Software'", sources.texts["Software"])] if "Software" in sources.texts else []
    tools += [("XMP xmp:CreatorTool", m[0] or m[1]) for m in _XMP_CREATOR_TOOL.findall(sources.xmp)]
    for where, value in tools:
        if not value or value.startswith(("prompt:", "workflow:")):
            continue
        if GENERATOR_SOFTWARE.search(value):
            hits.append(Hit("generator_software", value.strip(), [where], {"software": _clip(value)}))
        elif where in {"EXIF Software", "XMP xmp:CreatorTool", "PNG text 'Software'"}:
            hits.append(
                Hit(
                    "software",
                    value.strip(),
                    [where],
                    {"software": _clip(value)},
                    category="metadata",
                    label="saved_by_software",
                )
            )
    return hits


def _find_deepfacelab(sources: Sources) -> list[Hit]:
    hits = []
    for index, segment in enumerate(sources.app15):
        digest = hashlib.sha256(segment).hexdigest()
        base = {"segment": index, "segment_sha256": digest, "segment_length": len(segment)}
        try:
            reading = read_pickle(segment)
        except PickleUnreadable as exc:
            hits.append(
                Hit(
                    "jpeg_app15",
                    "JPEG APP15 segment (not a readable pickle)",
                    ["JPEG APP15"],
                    {**base, "error": str(exc)},
                    category="metadata",
                    label="unknown_app15_segment",
                )
            )
            continue
        unexpected = sorted(
            {c for c in reading.calls if c.removesuffix(".__setstate__") not in DATA_CALLABLES}
        )
        value = reading.value
        fields = {**base, "data": _plain(value), "callables_named": sorted(set(reading.calls))}
        looks_dfl = isinstance(value, dict) and bool(
            {"face_type", "landmarks", "source_filename"} & set(value)
        )
        if unexpected:
            fields["unexpected_callables"] = unexpected
            hits.append(
                Hit(
                    "pickle_with_code",
                    "JPEG APP15 pickle naming code to run",
                    ["JPEG APP15"],
                    fields,
                    category="suspicious_content",
                    label="pickle_code_reference",
                )
            )
        if looks_dfl:
            hits.append(Hit("deepfacelab", "DeepFaceLab (DFLJPG face metadata)", ["JPEG APP15"], fields))
        elif not unexpected:
            hits.append(
                Hit(
                    "jpeg_app15",
                    "JPEG APP15 pickle (not DeepFaceLab's keys)",
                    ["JPEG APP15"],
                    fields,
                    category="metadata",
                    label="unknown_app15_segment",
                )
            )
    return hits


def _plain(value: Any, depth: int = 0) -> Any:
    """JSON-ready form of a pickle reading: arrays summarised, calls named, never executed."""
    if depth > 20:
        return "…"
    if isinstance(value, np.ndarray):
        out: dict[str, Any] = {"array_shape": list(value.shape), "dtype": str(value.dtype)}
        if value.size <= MAX_ARRAY_VALUES and value.dtype.kind in "biuf":
            out["values"] = value.tolist()
        return out
    if isinstance(value, dict):
        return {str(k): _plain(v, depth + 1) for k, v in list(value.items())[:200]}
    if isinstance(value, list | tuple):
        return [_plain(v, depth + 1) for v in value[:MAX_ARRAY_VALUES]]
    if isinstance(value, Call):
        return {"would_call": str(value.callable), "with": _plain(value.args, depth + 1)}
    if isinstance(value, Global):
        return {"names": str(value)}
    if isinstance(value, bytes):
        return {"bytes": len(value), "sha256": hashlib.sha256(value).hexdigest()}
    if isinstance(value, str):
        return _clip(value)
    if isinstance(value, float) and not np.isfinite(value):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        return str(value)
    return value


def _pick(data: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    picked: dict[str, Any] = {}
    for key in keys:
        if key in data:
            value = data[key]
            picked[key] = _clip(value) if isinstance(value, str) else _clip(json.dumps(value, sort_keys=True))
    return picked


FINDERS = (
    _find_a1111,
    _find_comfyui,
    _find_invokeai,
    _find_novelai,
    _find_midjourney,
    _find_json_parameters,
    _find_xmp_and_software,
    _find_deepfacelab,
    _find_stealth,
)


def find_generators(sources: Sources) -> list[Hit]:
    """Every generator's metadata in the file, as found."""
    return [hit for finder in FINDERS for hit in finder(sources)]


class GeneratorMetadataDetector:
    """Reports generator metadata (A1111, ComfyUI, InvokeAI, NovelAI, Fooocus, SwarmUI, IPTC, DeepFaceLab)."""

    info = DetectorInfo(
        name="generator-metadata",
        version="1",
        media_types=frozenset({"image"}),
        parameters={
            "containers": "PNG tEXt/zTXt/iTXt, EXIF, XMP, JPEG COM and APP15 (PNG, JPEG, WebP)",
            "formats": "a1111,comfyui,invokeai,novelai,fooocus,swarmui,midjourney,"
            "iptc-digital-source-type,deepfacelab,stealth-lsb",
            "pickle": "opcodes read with pickletools.genops; never unpickled",
            "max_text_chars": MAX_TEXT,
        },
        model_card="docs/detectors/genmeta.md",
        licence="AGPL-3.0-or-later",
        validation=(
            "tests: metadata written by the fixtures in each format is found and parsed; a pickle naming "
            "os.system is reported and not run; no error rates (a parser, not a model)"
        ),
    )

    def load(self) -> None:
        pass

    def analyze(self, subject: Subject) -> list[Finding]:
        sources = collect_sources(subject.image)
        hits = find_generators(sources)
        findings = [self._finding(hit, sources.container) for hit in hits]
        if sources.unreadable:  # a malformed container is itself worth an analyst's look
            findings.append(
                Finding(
                    label="metadata_unreadable",
                    category="metadata",
                    details=json_safe({"container": sources.container, "problems": sources.unreadable}),
                )
            )
        if not any(hit.category == "ai_provenance" for hit in hits):
            findings.append(
                Finding(
                    label="generator_metadata_none",
                    category="not_probative",
                    details={"container": sources.container, "note": ABSENCE_NOTE},
                )
            )
        return findings

    def _finding(self, hit: Hit, container: str) -> Finding:
        raw = hit.raw.encode() if isinstance(hit.raw, str) else hit.raw
        details: dict[str, Any] = {
            "generator_id": hit.generator_id,
            "generator": hit.generator,
            "where": hit.where,
            "container": container,
            "fields": hit.fields,
            "note": PRESENCE_NOTE if hit.category == "ai_provenance" else "",
        }
        if raw:
            details["raw_sha256"] = hashlib.sha256(raw).hexdigest()
            details["raw_length"] = len(raw)
        if hit.label == "pickle_code_reference":
            details["note"] = (
                "The APP15 pickle names callables that unpickling would run (listed, not executed). "
                "Treat the file as hostile: never open it with DeepFaceLab or Python's pickle."
            )
        return Finding(label=hit.label, category=hit.category, details=json_safe(details))
