"""The vault's admin pages show only the cases the signed-in user may see: staff status opens nothing."""

import pytest
from django.test import Client

from tests.factories import CaseFactory, UserFactory, live_grant, stored_item, verified_login

pytestmark = pytest.mark.django_db

PAGES = [
    "/admin/evidence/evidenceitem/",
    "/admin/evidence/acquisition/",
    "/admin/evidence/custodyevent/",
    "/admin/evidence/blob/",
    "/admin/access/breakglassgrant/",
]


def test_a_superuser_without_a_grant_sees_no_case_in_the_vault_admin() -> None:
    case = CaseFactory(number="2024-HIDDEN-0001")
    item = stored_item(case=case, data=b"hidden bytes", actor=UserFactory(), name="hidden-marker.jpg")
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    verified_login(client, root)
    for page in PAGES:
        response = client.get(page)
        assert response.status_code == 200, page
        body = response.content.decode()
        assert "2024-HIDDEN-0001" not in body and "hidden-marker.jpg" not in body, page
        assert str(item.blob_id) not in body, page
    live_grant(case=case, user=root, reason="grant marker")
    assert "hidden-marker.jpg" in client.get(PAGES[0]).content.decode()
    assert str(item.blob_id) in client.get(PAGES[3]).content.decode()
    assert "grant marker" in client.get(PAGES[4]).content.decode()
