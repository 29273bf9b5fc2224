"""The ELA map on demand: made once as a derivative, served blurred by default, unblurred with a reason."""

import io
from urllib.parse import urlencode

import numpy as np
import pytest
from django.contrib.auth.models import User
from PIL import Image
from rest_framework.test import APIClient

from access.choices import CaseMemberRole
from access.models import Case
from detection.detectors.jpeg_forensics import ELA_RECIPE, error_level_map
from detection.ela import ELA_BLURRED_RECIPE, ela_map_serve
from evidence.choices import CustodyAction, DerivativeKind
from evidence.derivatives import derivative_read
from evidence.models import CustodyEvent, Derivative, EvidenceItem
from evidence.vault import read_verified
from haetae.errors import AccessDenied, NotFound, RejectedInput
from tests.detection.provenance_media import decode, encode, photo
from tests.factories import CaseFactory, CaseMemberFactory, UserFactory, stored_item

pytestmark = pytest.mark.django_db
LOOKS = [CustodyAction.PREVIEW_SERVED, CustodyAction.VIEWED, CustodyAction.DERIVED]


def team(role: str = CaseMemberRole.ANALYST, **case_fields: object) -> tuple[Case, User]:
    membership = CaseMemberFactory.create(role=role, case=CaseFactory.create(**case_fields))
    return membership.case, membership.user


def jpeg_item(case: Case, user: User) -> EvidenceItem:
    data = encode(photo(half=True), "JPEG", quality=80)
    return stored_item(case=case, data=data, actor=user, name="p.jpg", mime="image/jpeg")


def original_bytes(item: EvidenceItem) -> bytes:
    return b"".join(read_verified(item.blob_id or ""))


def api_get(user: User, item_id: int, **params: str):
    client = APIClient()
    client.force_authenticate(user)
    return client.get(f"/api/v1/evidence/{item_id}/ela/" + (f"?{urlencode(params)}" if params else ""))


def test_blurred_by_default_made_once_and_each_serving_recorded() -> None:
    case, user = team()
    item = jpeg_item(case, user)

    first = ela_map_serve(item=item, actor=user)
    second = ela_map_serve(item=item, actor=user)

    assert first.blurred and first.derivative.pk == second.derivative.pk and first.data == second.data
    assert first.derivative.kind == DerivativeKind.ELA_MAP and first.derivative.recipe == ELA_BLURRED_RECIPE
    assert Image.open(io.BytesIO(first.data)).format == "JPEG"
    # The blurred map is made from the full map, which is stored too: two derivatives, two `derived` events.
    assert Derivative.objects.filter(kind=DerivativeKind.ELA_MAP).count() == 2
    derived = CustodyEvent.objects.filter(item=item, action=CustodyAction.DERIVED)
    assert sorted(e.details["kind"] for e in derived) == ["ela_map", "ela_map"]
    served = CustodyEvent.objects.filter(item=item, action=CustodyAction.PREVIEW_SERVED)
    assert served.count() == 2 and {e.details["served"] for e in served} == {"ela_map"}
    assert all(e.details["derivative_sha256"] == first.derivative.blob_id for e in served)
    assert not CustodyEvent.objects.filter(item=item, action=CustodyAction.VIEWED).exists()


def test_the_blur_removes_the_maps_detail() -> None:
    case, user = team()
    item = jpeg_item(case, user)
    blurred = np.asarray(Image.open(io.BytesIO(ela_map_serve(item=item, actor=user).data)).convert("L"))
    sharp = np.asarray(Image.open(io.BytesIO(error_level_map(decode(original_bytes(item))))))
    # Neighbouring pixels of the blurred map barely differ; the sharp map's edges jump.
    assert (
        np.abs(np.diff(blurred.astype(int), axis=1)).mean()
        < np.abs(np.diff(sharp.astype(int), axis=1)).mean() / 4
    )


def test_unblurred_needs_a_reason_and_is_a_content_view() -> None:
    case, user = team(content_requires_legal_basis=True)
    item = jpeg_item(case, user)

    no_reason = api_get(user, item.pk, blur="0")
    assert no_reason.status_code == 400 and "stated purpose" in no_reason.json()["detail"]
    no_basis = api_get(user, item.pk, blur="0", reason="check a pasted region")
    assert no_basis.status_code == 400 and "legal basis" in no_basis.json()["detail"]
    assert not Derivative.objects.exists()  # refused before anything was made
    assert not CustodyEvent.objects.filter(item=item, action__in=LOOKS).exists()

    response = api_get(user, item.pk, blur="0", reason="check a pasted region", legal_basis="W-12")
    assert response.status_code == 200 and response["X-Haetae-Preview"] == "unblurred"
    assert response["Content-Type"] == "image/png" and response["Cache-Control"] == "no-store, private"
    assert response.content == error_level_map(decode(original_bytes(item)))
    stored = Derivative.objects.get(kind=DerivativeKind.ELA_MAP, recipe=ELA_RECIPE)
    assert (
        response["X-Haetae-Derivative-SHA256"] == stored.blob_id
        and derivative_read(stored) == response.content
    )
    viewed = CustodyEvent.objects.get(item=item, action=CustodyAction.VIEWED)
    assert (viewed.purpose, viewed.legal_authority) == ("check a pasted region", "W-12")
    assert viewed.details["served"] == "ela_map" and viewed.details["kind"] == "ela_map"
    assert not CustodyEvent.objects.filter(item=item, action=CustodyAction.PREVIEW_SERVED).exists()


def test_api_blurred_by_default() -> None:
    case, user = team()
    item = jpeg_item(case, user)
    response = api_get(user, item.pk)
    assert response.status_code == 200 and response["X-Haetae-Preview"] == "blurred"
    assert response["Content-Type"] == "image/jpeg"
    assert (
        CustodyEvent.objects.filter(item=item, action=CustodyAction.PREVIEW_SERVED, actor=user).count() == 1
    )


@pytest.mark.parametrize("role", [CaseMemberRole.VICTIM_SUPPORT, CaseMemberRole.AUDITOR])
def test_roles_without_content_are_refused_blurred_or_not(role: str) -> None:
    case, user = team(role)
    item = jpeg_item(case, UserFactory.create())
    for params in ({}, {"blur": "0", "reason": "takedown evidence"}):
        response = api_get(user, item.pk, **params)
        assert response.status_code == 403
        assert "never receives evidence content or previews" in response.json()["detail"]
    with pytest.raises(AccessDenied):
        ela_map_serve(item=item, actor=user)
    assert not Derivative.objects.exists()
    assert not CustodyEvent.objects.filter(item=item, action__in=LOOKS).exists()


def test_outsiders_are_told_not_found() -> None:
    case, user = team()
    item = jpeg_item(case, user)
    outsider = UserFactory.create(username="outsider")
    assert api_get(outsider, item.pk).status_code == 404
    with pytest.raises(NotFound):
        ela_map_serve(item=item, actor=outsider)
    assert not Derivative.objects.exists()


def test_only_jpeg_items_have_a_map() -> None:
    case, user = team()
    png = stored_item(
        case=case, data=encode(photo(half=True), "PNG"), actor=user, name="p.png", mime="image/png"
    )
    response = api_get(user, png.pk)
    assert response.status_code == 400 and "not a JPEG" in response.json()["detail"]
    with pytest.raises(RejectedInput, match="only JPEG items have an ELA map"):
        ela_map_serve(item=png, actor=user)
    assert not Derivative.objects.exists()
    assert not CustodyEvent.objects.filter(item=png, action__in=LOOKS).exists()
