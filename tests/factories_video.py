"""Test media for video and model packs, made at test time: short videos (PyAV) and tiny ONNX packs (onnx)."""

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image
from skimage import data as skdata


def photos() -> list[np.ndarray]:
    """scikit-image's bundled photographs: a face (astronaut), a cup of coffee, a cat."""
    return [skdata.astronaut(), skdata.coffee(), skdata.chelsea()]


def make_video(
    *,
    seconds: int = 3,
    fps: int = 10,
    size: tuple[int, int] = (160, 128),
    codec: str = "libx264",
    gop_seconds: int = 2,
    rotation: int | None = None,
    frames: list[np.ndarray] | None = None,
    container_format: str = "mp4",
) -> bytes:
    """A video (MP4 by default) whose picture changes each second: astronaut, coffee, cat, … ."""
    pictures = frames or photos()
    out = io.BytesIO()
    with av.open(out, mode="w", format=container_format) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        stream.options = {"g": str(fps * gop_seconds)}
        if codec == "libvpx-vp9":
            stream.options = {"g": str(fps * gop_seconds), "deadline": "realtime", "cpu-used": "8"}
        if codec == "libx264":
            stream.options = {"g": str(fps * gop_seconds), "preset": "ultrafast", "keyint_min": "1"}
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for i in range(seconds * fps):
            picture = np.asarray(Image.fromarray(pictures[(i // fps) % len(pictures)]).resize(size))
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


# --- model packs ---


def tiny_model(
    *,
    size: tuple[int, int] = (8, 8),
    layout: str = "NCHW",
    weight: float = 8.0,
    bias: float = -4.0,
    outputs: int = 1,
) -> bytes:
    """An ONNX graph: sigmoid-able logit = weight · mean(input) + bias (per output, shifted by its index).

    A real model in miniature: its score rises with the picture's brightness, so a test can predict it.
    """
    from onnx import TensorProto, helper

    height, width = size
    shape = [1, 3, height, width] if layout == "NCHW" else [1, height, width, 3]
    x = helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["batch", *shape[1:]])
    y = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", outputs])
    nodes = [
        helper.make_node("ReduceMean", ["pixels", "axes"], ["mean"], keepdims=0),
        helper.make_node("Reshape", ["mean", "shape"], ["mean_col"]),
        helper.make_node("Mul", ["mean_col", "w"], ["scaled"]),
        helper.make_node("Add", ["scaled", "b"], ["logits"]),
    ]
    initialisers = [
        helper.make_tensor("axes", TensorProto.INT64, [3], [1, 2, 3]),
        helper.make_tensor("shape", TensorProto.INT64, [2], [-1, 1]),
        helper.make_tensor("w", TensorProto.FLOAT, [1, outputs], [weight] * outputs),
        helper.make_tensor("b", TensorProto.FLOAT, [1, outputs], [bias + i for i in range(outputs)]),
    ]
    graph = helper.make_graph(nodes, "brightness", [x], [y], initialisers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    return model.SerializeToString()


def manifest_for(model: bytes, **overrides: Any) -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "format": "haetae-model-pack/1",
        "name": "brightness-test",
        "version": "1.0.0",
        "sha256": hashlib.sha256(model).hexdigest(),
        "task": "test_brightness",
        "label": "bright_picture",
        "granularity": "image",
        "description": "test pack: sigmoid of a weighted mean brightness",
        "preprocessing": {
            "size": [8, 8],
            "resize": "bilinear",
            "colour_order": "RGB",
            "layout": "NCHW",
            "scale": 255,
            "mean": [0.0, 0.0, 0.0],
            "std": [1.0, 1.0, 1.0],
        },
        "output": {"head": "sigmoid", "index": 0},
        "threshold": 0.5,
        "calibration": {"method": "none"},
        "validation": "not validated",
        "licence": "AGPL-3.0-or-later",
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(manifest.get(key), dict):
            manifest[key] = {**manifest[key], **value}
        else:
            manifest[key] = value
    return manifest


def write_pack(
    directory: Path, *, model: bytes | None = None, as_zip: bool = False, **overrides: Any
) -> tuple[Path, dict[str, Any]]:
    """A pack directory (or a zip of one) with ``model.onnx`` and ``manifest.json``."""
    model = model if model is not None else tiny_model()
    manifest = manifest_for(model, **overrides)
    directory.mkdir(parents=True, exist_ok=True)
    if as_zip:
        target = directory.with_suffix(".zip")
        with zipfile.ZipFile(target, "w") as archive:
            archive.writestr("pack/model.onnx", model)
            archive.writestr("pack/manifest.json", json.dumps(manifest))
        return target, manifest
    (directory / "model.onnx").write_bytes(model)
    (directory / "manifest.json").write_text(json.dumps(manifest))
    return directory, manifest


def png(rgb: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="PNG")
    return out.getvalue()
