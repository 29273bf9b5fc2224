"""The cases API: only the caller's cases, looked up by number; uploads by members whose role may ingest."""

import errno
import hashlib
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from access.choices import CaseMemberRole
from accounts.services import api_token_issue
from evidence.models import Acquisition, EvidenceItem
from evidence.uploads import VaultUploadedFile, VaultUploadHandler
from tests.factories import CaseFactory, CaseMemberFactory, UserFactory, stored_item, verified_login
from tests.factories import api_client as client_for
from tests.schema import openapi_schema

pytestmark = pytest.mark.django_db


def member(role: str = CaseMemberRole.INVESTIGATOR, **kwargs):
    return CaseMemberFactory(role=role, **kwargs)


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/v1/cases/"),
        ("get", "/api/v1/cases/2024-SEOUL-0001/"),
        ("post", "/api/v1/cases/2024-SEOUL-0001/evidence/"),
    ],
)
def test_anonymous_callers_are_refused(method: str, url: str) -> None:
    CaseFactory(number="2024-SEOUL-0001")
    response = getattr(APIClient(), method)(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_bad_token_is_refused() -> None:
    response = APIClient().get("/api/v1/cases/", HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert response.status_code == 401


def test_token_authentication_lists_the_callers_cases() -> None:
    membership = member(role=CaseMemberRole.LEAD)
    _, token = api_token_issue(user=membership.user, actor=None)
    response = APIClient().get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200
    assert [c["number"] for c in response.json()["results"]] == [membership.case.number]


def test_session_authentication_works_too() -> None:
    membership = member()
    client = APIClient()
    verified_login(client, membership.user)  # an OTP-verified session, as the admin sign-in makes
    response = client.get(f"/api/v1/cases/{membership.case.number}/")
    assert response.status_code == 200


def test_schema_and_docs_are_open_to_anonymous_callers() -> None:
    client = APIClient()
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/cases/{number}/evidence/" in schema.content
    assert client.get("/api/docs/").status_code == 200


def test_the_openapi_schema_generates_without_warnings() -> None:
    schema = openapi_schema()
    upload_op = schema["paths"]["/api/v1/cases/{number}/evidence/"]["post"]
    assert "multipart/form-data" in upload_op["requestBody"]["content"]
    assert {"201", "422", "403", "404"} <= set(upload_op["responses"])
    assert "/api/v1/evidence/{id}/custody/" in schema["paths"]
    assert "/api/v1/evidence/{id}/" in schema["paths"]


def test_list_shows_only_the_callers_cases_with_role_and_item_count() -> None:
    mine = member(role=CaseMemberRole.ANALYST)
    user = mine.user
    other = member(role=CaseMemberRole.LEAD)  # someone else's case, with evidence in it
    stored_item(case=mine.case, data=b"first", actor=user)
    stored_item(case=mine.case, data=b"second", actor=user, name="second.jpg")
    stored_item(case=other.case, data=b"not yours", actor=other.user)
    auditor_case = member(role=CaseMemberRole.AUDITOR, user=user).case

    response = client_for(user).get("/api/v1/cases/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    by_number = {c["number"]: c for c in body["results"]}
    assert set(by_number) == {mine.case.number, auditor_case.number}
    assert by_number[mine.case.number] == {
        "number": mine.case.number,
        "title": mine.case.title,
        "status": "open",
        "opened_at": by_number[mine.case.number]["opened_at"],
        "closed_at": None,
        "unit": "",
        "jurisdiction": "",
        "lead_investigator": None,
        "offences": [],
        "retention_class": "standard",
        "legal_hold": False,
        "legal_hold_reason": "",
        "content_requires_legal_basis": False,
        "item_count": 2,
        "role": "analyst",
    }
    assert by_number[auditor_case.number]["item_count"] == 0
    assert by_number[auditor_case.number]["role"] == "auditor"


def test_detail_by_number() -> None:
    mine = member(role=CaseMemberRole.PROSECUTOR)
    stored_item(case=mine.case, data=b"x" * 10, actor=UserFactory())
    response = client_for(mine.user).get(f"/api/v1/cases/{mine.case.number}/")
    assert response.status_code == 200
    assert response.json()["item_count"] == 0  # a prosecutor counts only the items of shared exhibits
    assert response.json()["role"] == "prosecutor"


def test_other_cases_are_not_found_without_hinting_that_they_exist() -> None:
    outsider = UserFactory()
    someone_elses = member().case
    client = client_for(outsider)
    existing = client.get(f"/api/v1/cases/{someone_elses.number}/")
    missing = client.get("/api/v1/cases/1999-NOWHERE-0001/")
    assert existing.status_code == missing.status_code == 404
    assert existing.json()["detail"].replace(someone_elses.number, "N") == missing.json()["detail"].replace(
        "1999-NOWHERE-0001", "N"
    )
    assert client.get("/api/v1/cases/").json()["count"] == 0


def test_superusers_see_no_case_they_are_not_on() -> None:
    admin = UserFactory(is_superuser=True, is_staff=True)
    case = member().case
    client = client_for(admin)
    assert client.get("/api/v1/cases/").json()["count"] == 0
    assert client.get(f"/api/v1/cases/{case.number}/").status_code == 404


def test_case_list_query_count_is_constant(django_assert_num_queries) -> None:
    user = UserFactory()
    client = client_for(user)
    first = member(user=user)
    stored_item(case=first.case, data=b"one", actor=user)
    with django_assert_num_queries(3) as one_case:  # the page, its count, and the offences prefetch
        assert client.get("/api/v1/cases/").json()["count"] == 1
    for n in range(19):
        extra = member(user=user, role=CaseMemberRole.LEAD)
        stored_item(case=extra.case, data=f"item {n}".encode(), actor=user)
    with django_assert_num_queries(len(one_case.captured_queries)):
        body = client.get("/api/v1/cases/").json()
    assert body["count"] == 20
    assert all(c["item_count"] == 1 for c in body["results"])


# Uploads


def upload(client: APIClient, number: str, files: list[tuple[str, bytes]], **fields):
    payload: dict = {"files": [SimpleUploadedFile(name, data) for name, data in files]}
    payload.update(fields)
    return client.post(f"/api/v1/cases/{number}/evidence/", payload, format="multipart")


@pytest.mark.parametrize("role", [CaseMemberRole.LEAD, CaseMemberRole.INVESTIGATOR, CaseMemberRole.ANALYST])
def test_members_who_may_ingest_upload_files(role: str) -> None:
    membership = member(role=role)
    photo = b"\xff\xd8\xff\xe0" + b"jpeg-ish bytes " * 500
    notes = "수사 메모 — notes".encode()
    response = upload(
        client_for(membership.user),
        membership.case.number,
        [("photo.jpg", photo), ("notes.txt", notes)],
        source="reported by victim's guardian",
        seizure_reference="2024-압수-117",
        location="Seoul Mapo police station",
        seal_numbers=["S-1", "S-2"],
        participants=["Kim (참관인)", "Lee"],
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["counts"] == {"ingested": 2, "duplicate": 0, "rejected": 0}
    by_path = {item["path"]: item for item in body["items"]}
    assert set(by_path) == {"photo.jpg", "notes.txt"}
    for name, data in [("photo.jpg", photo), ("notes.txt", notes)]:
        item = by_path[name]
        assert item["status"] == "ingested"
        assert item["size"] == len(data)
        assert item["sha256"] == hashlib.sha256(data).hexdigest()
        assert item["md5"] == hashlib.md5(data).hexdigest()  # noqa: S324 - forensic digest
        assert item["sha1"] == hashlib.sha1(data).hexdigest()  # noqa: S324 - forensic digest
        assert EvidenceItem.objects.get(pk=item["id"]).case_id == membership.case.pk
    acquisition = Acquisition.objects.get(pk=body["acquisition"])
    assert acquisition.actor_id == membership.user.pk
    assert acquisition.seizure_reference == "2024-압수-117"
    assert acquisition.location == "Seoul Mapo police station"
    assert acquisition.seal_numbers == ["S-1", "S-2"]
    assert acquisition.participants == ["Kim (참관인)", "Lee"]


def test_the_same_upload_again_is_a_duplicate() -> None:
    membership = member()
    client = client_for(membership.user)
    first = upload(client, membership.case.number, [("a.bin", b"same bytes")])
    again = upload(client, membership.case.number, [("a.bin", b"same bytes")])
    assert first.status_code == again.status_code == 201
    assert again.json()["counts"] == {"ingested": 0, "duplicate": 1, "rejected": 0}
    assert again.json()["items"][0]["id"] == first.json()["items"][0]["id"]


def test_an_archive_upload_lists_its_members_as_children() -> None:
    membership = member()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("inner/one.txt", b"one")
        archive.writestr("two.txt", b"two")
    response = upload(
        client_for(membership.user), membership.case.number, [("seized.zip", buffer.getvalue())]
    )
    assert response.status_code == 201, response.content
    items = response.json()["items"]
    container = next(i for i in items if i["path"] == "seized.zip")
    children = [i for i in items if i["parent"] == container["id"]]
    assert sorted(hashlib.sha256(d).hexdigest() for d in (b"one", b"two")) == sorted(
        c["sha256"] for c in children
    )


def test_some_rejected_items_still_answer_201_with_each_status() -> None:
    membership = member()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("locked.txt", b"ciphertext")
    data = bytearray(buffer.getvalue())
    # Mark the member encrypted (general-purpose flag bit 0 in the local and central headers): it needs
    # a password Haetae does not have. zipfile itself cannot write encrypted members.
    data[data.index(b"PK\x03\x04") + 6] |= 0x1
    data[data.index(b"PK\x01\x02") + 8] |= 0x1
    response = upload(client_for(membership.user), membership.case.number, [("locked.zip", bytes(data))])
    assert response.status_code == 201, response.content
    assert response.json()["counts"] == {"ingested": 1, "duplicate": 0, "rejected": 1}
    rejected = next(i for i in response.json()["items"] if i["status"] == "rejected")
    assert "encrypted" in rejected["reason"]


@pytest.mark.parametrize(
    "role", [CaseMemberRole.PROSECUTOR, CaseMemberRole.VICTIM_SUPPORT, CaseMemberRole.AUDITOR]
)
def test_members_whose_role_may_not_ingest_are_refused_with_a_reason(role: str) -> None:
    membership = member(role=role)
    response = upload(client_for(membership.user), membership.case.number, [("a.bin", b"data")])
    assert response.status_code == 403
    detail = response.json()["detail"]
    assert f"your role on case {membership.case.number} is {role}" in detail
    assert "analyst, investigator, lead" in detail
    assert EvidenceItem.objects.count() == 0
    assert Acquisition.objects.count() == 0


def test_non_members_cannot_upload_and_learn_nothing() -> None:
    case = member(role=CaseMemberRole.LEAD).case
    response = upload(client_for(UserFactory()), case.number, [("a.bin", b"data")])
    assert response.status_code == 404
    assert EvidenceItem.objects.count() == 0


def test_an_upload_without_files_is_a_bad_request() -> None:
    membership = member()
    response = client_for(membership.user).post(
        f"/api/v1/cases/{membership.case.number}/evidence/", {"source": "x"}, format="multipart"
    )
    assert response.status_code == 400
    assert "files" in response.json()
    assert Acquisition.objects.count() == 0


class _FailingDisk:
    """The sealed upload's reader on a disk that has started failing: every read is an I/O error."""

    def __init__(self, reader) -> None:
        self._reader = reader

    def read(self, size: int = -1) -> bytes:
        raise OSError(errno.EIO, "Input/output error")

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._reader.seek(offset, whence)

    def close(self) -> None:
        self._reader.close()


class FailingDiskUploadHandler(VaultUploadHandler):
    """Receives uploads like the real handler, then reads fail as if the disk had failed."""

    def file_complete(self, file_size: int) -> VaultUploadedFile:
        uploaded = super().file_complete(file_size)
        uploaded.file = _FailingDisk(uploaded.file)  # type: ignore[assignment]
        return uploaded


def test_when_every_file_is_rejected_the_answer_is_422_with_the_reasons(settings) -> None:
    settings.FILE_UPLOAD_HANDLERS = ["tests.access.test_api.FailingDiskUploadHandler"]
    membership = member()
    response = upload(client_for(membership.user), membership.case.number, [("a.bin", b"data")])
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["counts"] == {"ingested": 0, "duplicate": 0, "rejected": 1}
    (item,) = body["items"]
    assert item["status"] == "rejected"
    assert "Input/output error" in item["reason"]
    assert Acquisition.objects.get(pk=body["acquisition"]).status == "completed"
