"""A test-only encoder for the invisible-watermark ``dwtDct`` scheme, to make marked images to decode.

Written from the package's algorithm (see ``detection/detectors/watermark.py``), independently of the
decoder under test: a loop over blocks where the decoder is vectorised, OpenCV's own conversions in both
directions, and the package's quirks that shape the pixels a pipeline writes (detail bands passed back
swapped, float-to-uint8 truncation when the encoder is given an 8-bit array).
"""

import cv2
import numpy as np
import pywt

SCALE = 36
BLOCK = 4


def embed(rgb: np.ndarray, bits: np.ndarray, *, colour_order: str, array_type: str) -> np.ndarray:
    """``rgb`` (uint8, H × W × 3) marked with ``bits`` the way a pipeline would; returns RGB uint8.

    colour_order "bgr": the pipeline converts to BGR before encoding (Stability's scripts); "rgb": it hands
    the RGB array over (older diffusers). array_type "float32" (diffusers, sgm, FLUX.1) or "uint8" (the
    SD 1.x/2.x scripts).
    """
    handed = rgb[:, :, ::-1] if colour_order == "bgr" else rgb
    handed = np.ascontiguousarray(handed, dtype=np.float32 if array_type == "float32" else np.uint8)
    yuv = cv2.cvtColor(handed, cv2.COLOR_BGR2YUV)
    rows, cols = yuv.shape[0] // 4 * 4, yuv.shape[1] // 4 * 4
    approx, (horizontal, vertical, diagonal) = pywt.dwt2(yuv[:rows, :cols, 1], "haar")
    number = 0
    for i in range(approx.shape[0] // BLOCK):
        for j in range(approx.shape[1] // BLOCK):
            block = approx[i * BLOCK : (i + 1) * BLOCK, j * BLOCK : (j + 1) * BLOCK]
            flat = block.reshape(-1)
            position = 1 + int(np.argmax(np.abs(flat[1:])))
            value = float(flat[position])
            bit = int(bits[number % len(bits)])
            magnitude = (abs(value) // SCALE + 0.25 + 0.5 * bit) * SCALE
            block[position // BLOCK, position % BLOCK] = magnitude if value >= 0 else -magnitude
            number += 1
    # The package passes the detail bands back as (vertical, horizontal, diagonal); kept for its pixels.
    yuv[:rows, :cols, 1] = pywt.idwt2((approx, (vertical, horizontal, diagonal)), "haar")
    out = cv2.cvtColor(yuv, cv2.COLOR_YUV2BGR)
    if array_type == "float32":
        out = np.clip(np.rint(out), 0, 255).astype(np.uint8)  # the pipeline's conversion to an image
    return np.ascontiguousarray(out[:, :, ::-1] if colour_order == "bgr" else out)
