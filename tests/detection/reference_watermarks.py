"""Marks made by the real ``invisible-watermark`` encoder, called the way each reference pipeline calls it.

Each function below follows one generator's reference code step by step (array type, colour order, value
range, and how the marked array becomes 8-bit pixels), with numpy standing in for torch where the pipeline
holds the image in a tensor: the arithmetic is the same float32 arithmetic.

The package imports torch at import time, for its ``rivaGan`` method only; the ``dwtDct`` method that every
pipeline uses never touches it. The dev dependencies install the package without torch (see
docs/detectors/watermark.md), so when torch is absent an empty module stands in for it during the import.
"""

import importlib
import sys
import types

import cv2
import numpy as np


def _encoder_class() -> type:
    if "imwatermark" in sys.modules:
        return sys.modules["imwatermark"].WatermarkEncoder
    try:
        importlib.import_module("torch")
    except ImportError:
        sys.modules["torch"] = types.ModuleType("torch")
        try:
            module = importlib.import_module("imwatermark")
        finally:
            del sys.modules["torch"]
    else:
        module = importlib.import_module("imwatermark")
    return module.WatermarkEncoder


def _bits_encoder(bits: list[int]):
    encoder = _encoder_class()()
    encoder.set_watermark("bits", bits)
    return encoder


def _bytes_encoder(message: str):
    encoder = _encoder_class()()
    encoder.set_watermark("bytes", message.encode("utf-8"))
    return encoder


# The messages exactly as the reference code writes them; the bit lists come from the same expression.
SDXL_MESSAGE = 0b101100111110110010010000011110111011000110011110
FLUX1_MESSAGE = 0b001010101111111010000111100111001111010100101110
SDXL_BITS = [int(bit) for bit in bin(SDXL_MESSAGE)[2:]]
FLUX1_BITS = [int(bit) for bit in bin(FLUX1_MESSAGE)[2:]]


def sdxl(rgb: np.ndarray) -> np.ndarray:
    """Stability AI's generative-models (``sgm.inference.helpers.WatermarkEmbedder``, then saved as PNG).

    The sample is float in [0, 1]; 255 × sample, channels reversed to BGR, is encoded as float32; the result
    is reversed back, divided by 255 and clamped, and saved as ``(255 * sample).astype(np.uint8)``.
    """
    sample = rgb.astype(np.float32) / 255
    image_np = (255 * sample)[:, :, ::-1]
    image_np = _bits_encoder(SDXL_BITS).encode(image_np, "dwtDct")
    sample = np.clip(image_np[:, :, ::-1] / 255, 0.0, 1.0)
    return (255.0 * sample).astype(np.uint8)


def flux1(rgb: np.ndarray) -> np.ndarray:
    """Black Forest Labs' flux (``flux.util.WatermarkEmbedder`` and ``save_image``).

    The sample is float in [-1, 1]; 255 × (0.5 x + 0.5), reversed to BGR, is encoded as float32; the result
    is reversed back, divided by 255, clamped, mapped to [-1, 1], and saved as ``(127.5 * (x + 1)).byte()``
    (truncation). The bits are ``bin(WATERMARK_MESSAGE)[2:]``: 46 of them, the two leading zeros dropped.
    """
    x = rgb.astype(np.float32) / np.float32(127.5) - 1
    image = 0.5 * x + 0.5
    image_np = (255 * image)[:, :, ::-1]
    image_np = _bits_encoder(FLUX1_BITS).encode(image_np, "dwtDct")
    image = np.clip(image_np[:, :, ::-1] / 255, 0.0, 1.0)
    x = 2 * image - 1
    return (127.5 * (x + 1.0)).astype(np.uint8)


def _put_watermark(rgb: np.ndarray, message: str) -> np.ndarray:
    # scripts/txt2img.py's put_watermark: PIL image -> BGR uint8 -> encode -> reversed back to RGB.
    bgr = cv2.cvtColor(np.array(rgb), cv2.COLOR_RGB2BGR)
    bgr = _bytes_encoder(message).encode(bgr, "dwtDct")
    return np.ascontiguousarray(bgr[:, :, ::-1])


def sd1(rgb: np.ndarray) -> np.ndarray:
    """CompVis stable-diffusion ``scripts/txt2img.py``: ``put_watermark`` with bytes "StableDiffusionV1"."""
    return _put_watermark(rgb, "StableDiffusionV1")


def sd2(rgb: np.ndarray) -> np.ndarray:
    """Stability AI stablediffusion ``scripts/txt2img.py`` (and img2img): bytes "SDV2"."""
    return _put_watermark(rgb, "SDV2")


PIPELINES = {"sdxl": sdxl, "flux1": flux1, "sd1": sd1, "sd2": sd2}
