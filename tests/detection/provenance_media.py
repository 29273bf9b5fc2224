"""Test media for the provenance detectors, made at test time: C2PA-signed files, generator metadata.

Everything is built from scikit-image's bundled photographs; the certificates are a throwaway test CA.
"""

import io
import json
import struct
from dataclasses import dataclass

import c2pa
import numpy as np
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from PIL import Image, PngImagePlugin
from skimage import data as skdata

from tests.certificates import certificate, key_pem

AI_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


def photo(name: str = "astronaut", *, half: bool = False) -> np.ndarray:
    pixels = getattr(skdata, name)()
    if pixels.ndim == 2:
        pixels = np.stack([pixels] * 3, axis=-1)
    pixels = pixels[:, :, :3]
    return np.ascontiguousarray(pixels[::2, ::2] if half else pixels)


def encode(pixels: np.ndarray, fmt: str = "JPEG", **options) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format=fmt, **options)
    return out.getvalue()


def decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def tiny_mp4(frames: int = 10) -> bytes:
    """A short H.264 MP4 made with PyAV (64 × 64, 10 frames per second, grey ramp)."""
    import av

    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        for index in range(frames):
            pixels = np.full((64, 64, 3), index * 20, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


# --- C2PA ---------------------------------------------------------------------------------------------


@dataclass
class TestCa:
    """A root CA and an end-entity signing certificate issued by it, PEM encoded."""

    root_pem: str
    chain_pem: str  # signer certificate, then the root
    key_pem: str


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Haetae test generator"),
        ]
    )


def make_test_ca(root_name: str = "Haetae Test Root CA") -> TestCa:
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = certificate(
        _name(root_name),
        root_key.public_key(),
        signed_by=root_key,
        extensions=[
            (x509.BasicConstraints(ca=True, path_length=0), True),
            (x509.KeyUsage(False, False, False, False, False, True, True, False, False), True),
            (x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), False),
        ],
    )
    key = ec.generate_private_key(ec.SECP256R1())
    signer = certificate(
        _name("Test Image Generator"),
        key.public_key(),
        signed_by=root_key,
        issuer=root.subject,
        extensions=[
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (x509.KeyUsage(True, False, False, False, False, False, False, False, False), True),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False),
            (x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False),
            (x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), False),
        ],
    )

    def pem(cert: x509.Certificate) -> str:
        return cert.public_bytes(serialization.Encoding.PEM).decode()

    return TestCa(root_pem=pem(root), chain_pem=pem(signer) + pem(root), key_pem=key_pem(key).decode())


def ai_manifest(title: str = "generated.jpg") -> dict:
    return {
        "claim_generator_info": [{"name": "haetae-test-generator", "version": "1.0"}],
        "title": title,
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {"actions": [{"action": "c2pa.created", "digitalSourceType": AI_SOURCE_TYPE}]},
            }
        ],
    }


def c2pa_sign(
    source: bytes, *, ca: TestCa, mime: str = "image/jpeg", manifest: dict | None = None, remote_url: str = ""
) -> bytes:
    """``source`` with a C2PA manifest signed by the test CA's signer (no timestamp authority, offline)."""
    signer = c2pa.Signer.from_info(
        c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, ca.chain_pem.encode(), ca.key_pem.encode(), None)
    )
    context = c2pa.Context.from_dict({"builder": {"thumbnail": {"enabled": False}}})
    builder = c2pa.Builder(manifest or ai_manifest(), context)
    if remote_url:
        builder.set_no_embed()
        builder.set_remote_url(remote_url)
    out = io.BytesIO()
    builder.sign(signer, mime, io.BytesIO(source), out)
    return out.getvalue()


def jpeg_segments(data: bytes) -> list[tuple[int, int, int]]:
    """(marker, start, end) of each JPEG segment up to and including the start of scan (to the end)."""
    segments, position = [], 2
    while position < len(data):
        marker = data[position + 1]
        if marker == 0xDA:
            segments.append((marker, position, len(data)))
            break
        length = struct.unpack(">H", data[position + 2 : position + 4])[0]
        segments.append((marker, position, position + 2 + length))
        position += 2 + length
    return segments


def jpeg_strip_app11(data: bytes) -> bytes:
    """The JPEG without its APP11 (JUMBF, where C2PA lives) segments; everything else byte for byte."""
    return data[:2] + b"".join(data[s:e] for marker, s, e in jpeg_segments(data) if marker != 0xEB)


def jpeg_flip_scan_byte(data: bytes, offset: int = 200) -> bytes:
    """One byte of the entropy-coded image data changed (its lowest bit flipped)."""
    start_of_scan = next(s for marker, s, _e in jpeg_segments(data) if marker == 0xDA)
    header = struct.unpack(">H", data[start_of_scan + 2 : start_of_scan + 4])[0]
    position = start_of_scan + 2 + header + offset
    changed = bytearray(data)
    changed[position] ^= 0x01
    return bytes(changed)


def jpeg_insert_segment(data: bytes, marker: int, payload: bytes) -> bytes:
    """A JPEG with one more APPn/COM segment right after SOI (how DeepFaceLab adds its APP15)."""
    return data[:2] + bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload + data[2:]


# --- generator metadata -------------------------------------------------------------------------------

A1111_PARAMETERS = (
    "portrait photo of an astronaut, detailed, 8k\n"
    "Negative prompt: blurry, lowres\n"
    "Steps: 28, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 1234567890, Size: 512x512, "
    "Model hash: 6ce0161689, "
    'Model: v1-5-pruned-emaonly, Lora hashes: "face: 0123abcd, style: 4567ef01", Version: v1.9.4'
)

COMFY_PROMPT = {
    "3": {
        "class_type": "KSampler",
        "inputs": {"seed": 987654321, "steps": 20, "cfg": 8, "model": ["4", 0], "positive": ["6", 0]},
    },
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd_xl_base_1.0.safetensors"}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "an astronaut on the moon", "clip": ["4", 1]}},
    "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}},
}
COMFY_WORKFLOW = {
    "last_node_id": 9,
    "nodes": [{"id": 3, "type": "KSampler"}, {"id": 4, "type": "CheckpointLoaderSimple"}],
}

NOVELAI_COMMENT = {
    "prompt": "1girl, astronaut suit, space",
    "uc": "lowres, bad anatomy",
    "steps": 28,
    "seed": 42424242,
    "sampler": "k_euler_ancestral",
    "scale": 5.0,
    "width": 832,
    "height": 1216,
    "signed_hash": "c2lnbmVk",
}


def png_with_text(
    pixels: np.ndarray, chunks: dict[str, str], *, compressed: frozenset[str] = frozenset()
) -> bytes:
    """A PNG with tEXt chunks (zTXt for the keys in ``compressed``), as generator front-ends write them."""
    info = PngImagePlugin.PngInfo()
    for key, value in chunks.items():
        info.add_text(key, value, zip=key in compressed)
    return encode(pixels, "PNG", pnginfo=info)


def user_comment_unicode(text: str) -> bytes:
    """EXIF UserComment the way piexif writes A1111's parameters: 'UNICODE\\0' + UTF-16 big-endian."""
    return b"UNICODE\x00" + text.encode("utf-16-be")


def with_exif(
    pixels: np.ndarray, fmt: str, *, tags: dict[int, str] | None = None, exif_ifd: dict | None = None
) -> bytes:
    exif = Image.Exif()
    for tag, value in (tags or {}).items():
        exif[tag] = value
    if exif_ifd:
        exif.get_ifd(0x8769).update(exif_ifd)
    options = {"quality": 90} if fmt in {"JPEG", "WEBP"} else {}
    return encode(pixels, fmt, exif=exif.tobytes(), **options)


def xmp_packet(source_type: str, creator_tool: str = "", *, as_element: bool = False) -> bytes:
    tool = f' xmp:CreatorTool="{creator_tool}"' if creator_tool else ""
    if as_element:
        body = (
            f'<rdf:Description rdf:about=""{tool}>'
            f"<Iptc4xmpExt:DigitalSourceType>{source_type}</Iptc4xmpExt:DigitalSourceType></rdf:Description>"
        )
    else:
        body = f'<rdf:Description rdf:about="" Iptc4xmpExt:DigitalSourceType="{source_type}"{tool}/>'
    return (
        '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/">'
        f'{body}</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()


def comfy_chunks() -> dict[str, str]:
    return {"prompt": json.dumps(COMFY_PROMPT), "workflow": json.dumps(COMFY_WORKFLOW)}


def stealth_png(pixels: np.ndarray, text: str, *, compressed: bool = True, channels: str = "alpha") -> bytes:
    """A PNG carrying ``text`` in the least-significant bits of its alpha channel (RGBA) or of R, G, B, column
    by column, after the signature and a 32-bit length in bits — as NovelAI and the A1111 extension write."""
    import gzip

    payload = gzip.compress(text.encode()) if compressed else text.encode()
    kind = "png" if channels == "alpha" else "rgb"
    signature = f"stealth_{kind}{'comp' if compressed else 'info'}".encode()
    message = signature + (len(payload) * 8).to_bytes(4, "big") + payload
    bits = np.unpackbits(np.frombuffer(message, dtype=np.uint8))
    height, width = pixels.shape[:2]
    if channels == "alpha":
        carrier = np.full((width, height, 1), 255, dtype=np.uint8)  # x, y: filled column by column
    else:
        carrier = np.ascontiguousarray(pixels.transpose(1, 0, 2))
    flat = carrier.reshape(-1)
    flat[: bits.size] = (flat[: bits.size] & 0xFE) | bits
    written = carrier.transpose(1, 0, 2)
    out = np.dstack([pixels, written]) if channels == "alpha" else written
    return encode(np.ascontiguousarray(out), "PNG")
