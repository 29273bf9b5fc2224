"""Previews of image evidence: blurred (optionally greyscale) by default, made once, hashed, served on record.

A blurred preview lets an investigator tell items apart without seeing what they show. The recipe
(``BLURRED_RECIPE``) is fixed: decode, apply the EXIF orientation, shrink to fit 32×32 pixels with a box
filter (every output pixel the mean of a block of the original), blur that with a Gaussian of radius 2,
enlarge to fit 256×256 (bicubic) and blur again with radius 4, then encode as JPEG without metadata. At 32
pixels a face is a few pixels wide and the blur spreads each pixel over its neighbours: colours and layout
remain, nothing explicit can be recognised. Serving it records a ``preview_served`` custody event.

An unblurred preview (fit to 1024×1024) is a content view: it needs the same membership, role, reason and
legal basis as the original and records ``viewed``. Neither kind goes to victim_support or auditor.
Derivatives are stored through ``evidence.derivatives.derivative_store`` (a ``derived`` event the first
time), keyed by the recipe, so each is made once.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from access.policy import case_access_role
from evidence.choices import CustodyAction, DerivativeKind
from evidence.content import content_access_check, media_refusal, prosecutor_may_see
from evidence.custody import custody_append
from evidence.derivatives import derivative_find, derivative_read, derivative_store
from evidence.destruction import destroyed_refusal
from evidence.imaging import TooManyPixels, image_open
from evidence.models import Derivative, EvidenceItem
from evidence.vault import read_verified
from haetae.errors import RejectedInput

PREVIEW_TOOL = "haetae.previews"
PREVIEW_VERSION = "1"
BLURRED_RECIPE: dict[str, Any] = {
    "tool": PREVIEW_TOOL,
    "version": PREVIEW_VERSION,
    "shrink_to": 32,
    "shrink_filter": "box",
    "blur_radius_small": 2,
    "enlarge_to": 256,
    "enlarge_filter": "bicubic",
    "blur_radius_large": 4,
    "format": "jpeg",
    "quality": 80,
}
UNBLURRED_RECIPE: dict[str, Any] = {
    "tool": PREVIEW_TOOL,
    "version": PREVIEW_VERSION,
    "fit_to": 1024,
    "filter": "lanczos",
    "format": "jpeg",
    "quality": 90,
}
_KINDS = {
    (True, False): DerivativeKind.PREVIEW_BLURRED,
    (True, True): DerivativeKind.PREVIEW_BLURRED_GREY,
    (False, False): DerivativeKind.PREVIEW,
    (False, True): DerivativeKind.PREVIEW_GREY,
}


@dataclass(frozen=True)
class Preview:
    """A preview ready to send: its derivative row (kind, recipe, SHA-256) and verified bytes."""

    derivative: Derivative
    data: bytes
    blurred: bool
    grey: bool
    mime: str = "image/jpeg"


def preview_recipe(*, blur: bool, grey: bool) -> dict[str, Any]:
    """The recipe of a preview kind: tool, version and parameters (integers and strings only)."""
    return {**(BLURRED_RECIPE if blur else UNBLURRED_RECIPE), "grey": 1 if grey else 0}


def _max_source_bytes() -> int:
    return int(getattr(settings, "HAETAE_PREVIEW_MAX_SOURCE_BYTES", 256 * 1024 * 1024))


def _decode(item: EvidenceItem, *, fit: int, grey: bool) -> Image.Image:
    if not (item.mime or "").startswith("image/"):
        raise RejectedInput(
            f"item {item.pk} is {item.mime or 'of unknown type'}, not an image: previews are made of still "
            "images only (a video's frames come from detection)"
        )
    if item.size is not None and item.size > _max_source_bytes():
        raise RejectedInput(
            f"item {item.pk} is {item.size} bytes, over the preview limit of {_max_source_bytes()} bytes: "
            "view the original through /content/ with a reason instead"
        )
    data = b"".join(read_verified(item.blob_id or ""))
    try:
        # A JPEG decodes at a reduced scale (less work); anything over the pixel bound is refused unread.
        opened = image_open(data, mode="L" if grey else "RGB", need=(fit, fit))
        opened.seek(0)  # the first frame of an animation
        image = ImageOps.exif_transpose(opened)
        return image.convert("L" if grey else "RGB")
    except TooManyPixels as exc:
        raise RejectedInput(f"item {item.pk} has no preview: {exc.message}") from None
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise RejectedInput(
            f"item {item.pk} ({item.mime}) could not be decoded as an image, so it has no preview: {exc}"
        ) from None


def _fit(size: tuple[int, int], longest: int) -> tuple[int, int]:
    width, height = size
    scale = longest / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def render_preview(image: Image.Image, *, blur: bool) -> Image.Image:
    """Apply the preview recipe to a decoded image (the pixels only; encoding is separate)."""
    if not blur:
        out = image.copy()
        out.thumbnail((UNBLURRED_RECIPE["fit_to"],) * 2, Image.Resampling.LANCZOS)
        return out
    small = image.resize(_fit(image.size, BLURRED_RECIPE["shrink_to"]), Image.Resampling.BOX)
    small = small.filter(ImageFilter.GaussianBlur(BLURRED_RECIPE["blur_radius_small"]))
    large = small.resize(_fit(small.size, BLURRED_RECIPE["enlarge_to"]), Image.Resampling.BICUBIC)
    return large.filter(ImageFilter.GaussianBlur(BLURRED_RECIPE["blur_radius_large"]))


def _make(*, item: EvidenceItem, actor: User | None, blur: bool, grey: bool) -> Derivative:
    kind, recipe = _KINDS[(blur, grey)], preview_recipe(blur=blur, grey=grey)
    existing = derivative_find(source_sha256=item.blob_id or "", kind=kind, recipe=recipe)
    if existing is not None:
        return existing
    fit = BLURRED_RECIPE["enlarge_to"] if blur else UNBLURRED_RECIPE["fit_to"]
    picture = render_preview(_decode(item, fit=fit, grey=grey), blur=blur)
    return preview_picture_store(item=item, kind=kind, recipe=recipe, picture=picture, actor=actor)


def preview_picture_store(
    *, item: EvidenceItem, kind: str, recipe: dict[str, Any], picture: Image.Image, actor: User | None
) -> Derivative:
    """Store a rendered preview as a JPEG derivative of ``item`` at ``recipe``'s quality (made once)."""
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=recipe["quality"])  # no EXIF or other metadata is copied
    derivative, _ = derivative_store(
        item=item,
        kind=kind,
        recipe=recipe,
        data=buffer.getvalue(),
        mime="image/jpeg",
        actor=actor,
        width=picture.width,
        height=picture.height,
    )
    return derivative


def preview_blurred_derivative(*, item: EvidenceItem, actor: User | None = None) -> Derivative:
    """The item's blurred preview as a stored derivative (made once), for system use such as reports.

    Nothing is served and no ``preview_served`` event is written: the caller puts the derivative's bytes
    (``derivative_read``) into a document and records in its own custody event which derivatives it
    included. Making the derivative the first time records ``derived`` as always. Never the unblurred kind.
    """
    destroyed = destroyed_refusal(item, what="preview")
    if destroyed is not None:
        raise destroyed
    if item.blob_id is None:
        raise RejectedInput(f"item {item.pk} has no stored content ({item.status}), so it has no preview")
    return _make(item=item, actor=actor, blur=True, grey=False)


def preview_serve(
    *,
    item: EvidenceItem,
    actor: User,
    blur: bool = True,
    grey: bool = False,
    purpose: str = "",
    legal_basis: str = "",
) -> Preview:
    """Need-to-know checked, the preview made once, its serving recorded, then its verified bytes.

    Blurred: any role that may see content (no reason needed), recorded as ``preview_served``. Unblurred:
    a content view, with a reason (and legal basis where the case requires one), recorded as ``viewed``.
    """
    derivative, data = derivative_serve(
        item=item,
        actor=actor,
        blur=blur,
        purpose=purpose,
        legal_basis=legal_basis,
        what="previews",
        served="preview",
        make=lambda: _make(item=item, actor=actor, blur=blur, grey=grey),
    )
    return Preview(derivative=derivative, data=data, blurred=blur, grey=grey)


def derivative_serve(
    *,
    item: EvidenceItem,
    actor: User,
    blur: bool,
    purpose: str,
    legal_basis: str,
    what: str,
    served: str,
    make: Callable[[], Derivative],
) -> tuple[Derivative, bytes]:
    """Serve a picture derived from an item's content the way previews are served; the one copy of the rule.

    Blurred: any role that may see content (no reason needed), recorded as ``preview_served``. Unblurred:
    a content view, with a reason (and legal basis where the case requires one), recorded as ``viewed``.
    victim_support and auditor are refused before anything is made. ``make`` returns the derivative (made
    once, with its ``derived`` event the first time); ``what`` names it in refusals, ``served`` in the event.
    """
    if blur:
        role = case_access_role(user=actor, case_id=item.case_id)
        refusal = media_refusal(
            role=role,
            item_id=item.pk,
            what=what,
            shared_exhibit=prosecutor_may_see(role=role, item=item),
        )
        if refusal is not None:
            raise refusal
        purpose, legal_basis = (purpose or "").strip(), (legal_basis or "").strip()
    else:
        access = content_access_check(
            item=item, actor=actor, purpose=purpose, legal_basis=legal_basis, what=f"unblurred {what}"
        )
        role, purpose, legal_basis = access.role, access.purpose, access.legal_basis
    destroyed = destroyed_refusal(item, what="preview")
    if destroyed is not None:
        raise destroyed
    if item.blob_id is None:
        raise RejectedInput(
            f"item {item.pk} has no stored content ({item.status}: "
            f"{item.status_reason or 'no reason given'}), so it has no {what}"
        )
    derivative = make()
    data = derivative_read(derivative)
    custody_append(  # committed before the bytes are returned to the caller
        case_id=item.case_id,
        item_id=item.pk,
        action=CustodyAction.PREVIEW_SERVED if blur else CustodyAction.VIEWED,
        actor=actor,
        actor_role=role,
        purpose=purpose,
        legal_authority=legal_basis,
        sha256_before=item.blob_id,
        sha256_after=item.blob_id,
        details={
            "served": served,
            "derivative": derivative.pk,
            "kind": derivative.kind,
            "derivative_sha256": derivative.blob_id,
        },
    )
    return derivative, data
