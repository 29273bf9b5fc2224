"""Previews: blurred by default so nothing is recognisable, made once and hashed, every serving on record;
an unblurred preview is a content view; victim_support and auditor never get one."""

import hashlib
import io
from urllib.parse import urlencode

import cv2
import numpy as np
import pytest
from django.contrib.auth.models import User
from PIL import Image

from access.choices import CaseMemberRole
from access.models import Case
from evidence.choices import CustodyAction, DerivativeKind
from evidence.custody import canonical_json
from evidence.models import CustodyEvent, Derivative, EvidenceItem
from evidence.previews import BLURRED_RECIPE, preview_recipe, preview_serve, render_preview
from haetae.errors import AccessDenied, NotFound, RejectedInput
from tests.factories import CaseFactory, CaseMemberFactory, UserFactory, jpeg_bytes, live_grant, stored_item
from tests.factories import api_client as api_for

pytestmark = pytest.mark.django_db

FACES = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")  # type: ignore[attr-defined]


def faces_in(picture: Image.Image) -> int:
    """Faces OpenCV's stock frontal-face detector finds, at the original's 512-pixel scale."""
    grey = np.asarray(picture.convert("L").resize((512, 512), Image.Resampling.BICUBIC))
    return len(FACES.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5))


def team(role: str = CaseMemberRole.INVESTIGATOR, **case_fields: object) -> tuple[Case, User]:
    membership = CaseMemberFactory.create(role=role, case=CaseFactory.create(**case_fields))
    return membership.case, membership.user


def photo(case: Case, user: User, picture: str = "astronaut") -> EvidenceItem:
    return stored_item(case=case, data=jpeg_bytes(picture), actor=user, name=f"{picture}.jpg")


def preview_url(item_id: int, **params: str) -> str:
    return f"/api/v1/evidence/{item_id}/preview/" + (f"?{urlencode(params)}" if params else "")


def test_the_blur_leaves_no_recognisable_face() -> None:
    original = Image.open(io.BytesIO(jpeg_bytes("astronaut"))).convert("RGB")
    assert faces_in(original) == 1  # the detector does find the astronaut's face ...
    assert faces_in(render_preview(original, blur=False)) == 1  # ... and in the unblurred preview ...
    assert faces_in(render_preview(original, blur=True)) == 0  # ... but not in the blurred one


def test_the_blur_removes_fine_detail() -> None:
    original = Image.open(io.BytesIO(jpeg_bytes("camera"))).convert("L")
    blurred = render_preview(original, blur=True)
    assert max(blurred.size) == BLURRED_RECIPE["enlarge_to"]

    def detail(picture: Image.Image) -> float:  # mean absolute Laplacian: edges and texture
        pixels = np.asarray(picture.resize((256, 256), Image.Resampling.BICUBIC), dtype=np.float64)
        return float(np.abs(cv2.Laplacian(pixels, cv2.CV_64F)).mean())

    assert detail(blurred) < detail(original) / 20


def test_recipes_are_integers_and_strings_only() -> None:
    for blur in (True, False):
        for grey in (True, False):
            recipe = preview_recipe(blur=blur, grey=grey)
            canonical_json(recipe)  # refuses floats
            assert all(isinstance(value, int | str) for value in recipe.values())


def test_blurred_preview_is_made_once_hashed_and_each_serving_recorded() -> None:
    case, user = team()
    item = photo(case, user)
    first = preview_serve(item=item, actor=user)
    second = preview_serve(item=item, actor=user)
    assert first.derivative.pk == second.derivative.pk and first.data == second.data
    derivative = Derivative.objects.get()
    assert derivative.kind == DerivativeKind.PREVIEW_BLURRED
    assert derivative.blob_id == hashlib.sha256(first.data).hexdigest()
    assert derivative.recipe == preview_recipe(blur=True, grey=False)
    assert (derivative.width, derivative.height) == Image.open(io.BytesIO(first.data)).size
    assert CustodyEvent.objects.filter(item=item, action=CustodyAction.DERIVED).count() == 1
    served = CustodyEvent.objects.filter(item=item, action=CustodyAction.PREVIEW_SERVED)
    assert served.count() == 2
    assert served.first().details == {
        "served": "preview",
        "derivative": derivative.pk,
        "kind": "preview_blurred",
        "derivative_sha256": derivative.blob_id,
    }
    assert not CustodyEvent.objects.filter(action=CustodyAction.VIEWED).exists()


def test_api_blurred_and_greyscale() -> None:
    case, user = team()
    item = photo(case, user, "coffee")
    response = api_for(user).get(preview_url(item.pk, grey="1"), HTTP_ACCEPT="image/jpeg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Haetae-Preview"] == "blurred, greyscale"
    assert response["Cache-Control"] == "no-store, private"
    assert response["X-Haetae-Derivative-SHA256"] == hashlib.sha256(response.content).hexdigest()
    picture = Image.open(io.BytesIO(response.content))
    assert picture.mode == "L" and max(picture.size) == 256
    assert not picture.getexif()  # nothing of the original's metadata
    assert Derivative.objects.get().kind == DerivativeKind.PREVIEW_BLURRED_GREY


def test_api_unblurred_preview_is_a_content_view() -> None:
    case, user = team(content_requires_legal_basis=True)
    item = photo(case, user)
    client = api_for(user)
    no_reason = client.get(preview_url(item.pk, blur="0"))
    assert no_reason.status_code == 400 and "stated purpose" in no_reason.json()["detail"]
    no_basis = client.get(preview_url(item.pk, blur="0", reason="identify the victim"))
    assert no_basis.status_code == 400 and "legal basis" in no_basis.json()["detail"]
    assert not Derivative.objects.exists()  # refused before anything was made
    response = client.get(preview_url(item.pk, blur="0", reason="identify the victim", legal_basis="W-77"))
    assert response.status_code == 200 and response["X-Haetae-Preview"] == "unblurred"
    assert Image.open(io.BytesIO(response.content)).size == (512, 512)  # fits 1024: not enlarged
    viewed = CustodyEvent.objects.get(item=item, action=CustodyAction.VIEWED)
    assert (viewed.purpose, viewed.legal_authority) == ("identify the victim", "W-77")
    assert viewed.details["served"] == "preview" and viewed.details["kind"] == "preview"
    assert not CustodyEvent.objects.filter(action=CustodyAction.PREVIEW_SERVED).exists()


@pytest.mark.parametrize(
    ("role", "message"),
    [
        ("victim_support", "never receives evidence content or previews, blurred or not"),
        ("auditor", "never receives evidence content or previews, blurred or not"),
    ],
)
def test_roles_without_content_get_no_preview_at_all(role: str, message: str) -> None:
    case, user = team(role)
    item = photo(case, user)
    for params in ({}, {"blur": "0", "reason": "takedown evidence"}):
        response = api_for(user).get(preview_url(item.pk, **params))
        assert response.status_code == 403
        assert message in response.json()["detail"]
    with pytest.raises(AccessDenied):
        preview_serve(item=item, actor=user)
    assert not Derivative.objects.exists()
    assert not CustodyEvent.objects.filter(action__in=["preview_served", "viewed", "derived"]).exists()


def test_outsiders_admins_and_break_glass() -> None:
    case, user = team()
    item = photo(case, user)
    outsider = UserFactory.create(username="outsider")
    admin = UserFactory.create(username="admin", is_staff=True, is_superuser=True)
    for who in (outsider, admin):
        assert api_for(who).get(preview_url(item.pk)).status_code == 404
        with pytest.raises(NotFound):
            preview_serve(item=item, actor=who)
    live_grant(case=case, user=admin)
    refused = api_for(admin).get(preview_url(item.pk))
    assert refused.status_code == 403 and "break-glass grant is read-only" in refused.json()["detail"]


def test_non_images_and_undecodable_images_are_refused_clearly() -> None:
    case, user = team()
    video = stored_item(
        case=case, data=b"\x00\x00\x00\x18ftypmp42", actor=user, name="clip.mp4", mime="video/mp4"
    )
    response = api_for(user).get(preview_url(video.pk))
    assert response.status_code == 400
    assert "is video/mp4, not an image" in response.json()["detail"]
    broken = stored_item(case=case, data=b"\xff\xd8\xff\xe0 truncated", actor=user, name="b.jpg")
    with pytest.raises(RejectedInput, match="could not be decoded as an image"):
        preview_serve(item=broken, actor=user)
    assert not Derivative.objects.exists()


def test_bad_flag_values_are_400() -> None:
    case, user = team()
    item = photo(case, user)
    response = api_for(user).get(preview_url(item.pk, blur="maybe"))
    assert response.status_code == 400 and "blur must be 1 or 0" in response.json()["detail"]


def test_system_blurred_derivative_serves_nothing_and_is_never_unblurred() -> None:
    from evidence.previews import preview_blurred_derivative

    case, user = team()
    item = photo(case, user)
    derivative = preview_blurred_derivative(item=item)
    assert derivative.kind == DerivativeKind.PREVIEW_BLURRED
    assert derivative.recipe == preview_recipe(blur=True, grey=False)
    assert preview_blurred_derivative(item=item).pk == derivative.pk  # made once
    assert CustodyEvent.objects.filter(item=item, action=CustodyAction.DERIVED).count() == 1
    assert not CustodyEvent.objects.filter(
        action__in=[CustodyAction.PREVIEW_SERVED, CustodyAction.VIEWED]
    ).exists()
    assert (
        preview_serve(item=item, actor=user).derivative.pk == derivative.pk
    )  # the same derivative users see


def test_pixel_bomb_has_no_preview_and_is_not_decoded() -> None:
    from tests.bombs import png_pixel_bomb

    case, user = team()
    bomb = stored_item(case=case, data=png_pixel_bomb(), actor=user, name="bomb.png", mime="image/png")
    response = api_for(user).get(preview_url(bomb.pk))
    assert response.status_code == 400
    assert "has no preview" in response.json()["detail"]
    assert "over the limit of 64,000,000" in response.json()["detail"]
    assert not Derivative.objects.exists()
