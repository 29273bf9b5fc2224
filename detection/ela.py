"""A JPEG item's error level analysis (ELA) map: made once when an analyst opens it, served like previews.

Triage no longer makes the map (``jpeg-forensics`` 2 records quality, tables and the double-compression
score only): an analyst who opens it gets it made from the verified content and stored as a derivative
(kind ``ela_map``, recipe ``ELA_RECIPE``, a ``derived`` custody event the first time). It is served the way
previews are (``evidence.previews.derivative_serve``): blurred by default with the preview recipe (itself a
derivative, made once) and recorded as ``preview_served``; unblurred only with a reason (and legal basis
where the case needs one), recorded as ``viewed``. The map shows the picture's edges, so the unblurred map
is a content view; victim_support and auditor never receive it.
"""

import io
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from PIL import Image

from detection.detectors.jpeg_forensics import ELA_RECIPE, error_level_map
from detection.subject import Subject, UndecodableMedia
from evidence.choices import DerivativeKind
from evidence.derivatives import derivative_find, derivative_read, derivative_store
from evidence.models import Derivative, EvidenceItem
from evidence.previews import BLURRED_RECIPE, derivative_serve, preview_picture_store, render_preview
from haetae.errors import RejectedInput

# The blurred map is the preview recipe applied to the map; the recipe says so, so the two never mix.
ELA_BLURRED_RECIPE: dict[str, Any] = {**BLURRED_RECIPE, "of": "ela_map", "ela_version": ELA_RECIPE["version"]}


@dataclass(frozen=True)
class ElaMap:
    """An ELA map ready to send: its derivative row and verified PNG or JPEG bytes."""

    derivative: Derivative
    data: bytes
    blurred: bool

    @property
    def mime(self) -> str:
        # The full map is a lossless PNG; the blurred one is a JPEG like every blurred preview.
        return "image/jpeg" if self.blurred else "image/png"


def _is_jpeg(item: EvidenceItem) -> bool:
    return (item.mime or "").lower() in ("image/jpeg", "image/jpg", "image/pjpeg")


def ela_map_derivative(*, item: EvidenceItem, actor: User | None) -> Derivative:
    """The item's unblurred ELA map as a stored derivative, made once from the verified content."""
    existing = derivative_find(
        source_sha256=item.blob_id or "", kind=DerivativeKind.ELA_MAP, recipe=ELA_RECIPE
    )
    if existing is not None:
        return existing
    try:
        rgb = Subject.for_item(item).pixels
    except UndecodableMedia as exc:
        raise RejectedInput(f"item {item.pk} has no ELA map: {exc}") from None
    derivative, _ = derivative_store(
        item=item,
        kind=DerivativeKind.ELA_MAP,
        recipe=ELA_RECIPE,
        data=error_level_map(rgb),
        mime="image/png",
        actor=actor,
        width=int(rgb.shape[1]),
        height=int(rgb.shape[0]),
    )
    return derivative


def _blurred(*, item: EvidenceItem, actor: User | None) -> Derivative:
    existing = derivative_find(
        source_sha256=item.blob_id or "", kind=DerivativeKind.ELA_MAP, recipe=ELA_BLURRED_RECIPE
    )
    if existing is not None:
        return existing
    full = ela_map_derivative(item=item, actor=actor)
    picture = render_preview(Image.open(io.BytesIO(derivative_read(full))).convert("L"), blur=True)
    return preview_picture_store(
        item=item, kind=DerivativeKind.ELA_MAP, recipe=ELA_BLURRED_RECIPE, picture=picture, actor=actor
    )


def ela_map_serve(
    *, item: EvidenceItem, actor: User, blur: bool = True, purpose: str = "", legal_basis: str = ""
) -> ElaMap:
    """Need-to-know checked, the map made once, its serving recorded, then its verified bytes.

    Blurred (the default): any role that may see content, recorded as ``preview_served``. Unblurred: a
    content view with a reason, recorded as ``viewed``. Only JPEG items have an ELA map.
    """

    def make() -> Derivative:
        if not _is_jpeg(item):
            raise RejectedInput(
                f"item {item.pk} is {item.mime or 'of unknown type'}, not a JPEG: error level analysis "
                "reads JPEG recompression, so only JPEG items have an ELA map"
            )
        return _blurred(item=item, actor=actor) if blur else ela_map_derivative(item=item, actor=actor)

    derivative, data = derivative_serve(
        item=item,
        actor=actor,
        blur=blur,
        purpose=purpose,
        legal_basis=legal_basis,
        what="ELA maps",
        served="ela_map",
        make=make,
    )
    return ElaMap(derivative=derivative, data=data, blurred=blur)
