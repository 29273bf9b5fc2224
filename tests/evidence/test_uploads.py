"""Uploads stream into the vault's tmp area sealed under an in-memory key, and vanish when closed."""

import contextlib
import gc
import hashlib
import io
import os
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.test import RequestFactory
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from rest_framework.test import APIClient

from access.choices import CaseMemberRole
from evidence.crypto import CHUNK_SIZE
from evidence.uploads import VaultUploadedFile, VaultUploadHandler
from evidence.vault import vault_recover
from tests.factories import CaseMemberFactory

MARKER = b"PLAINTEXT-MARKER-7f3a9c"


def marked_bytes(size: int) -> bytes:
    """``size`` bytes that are mostly copies of MARKER, so any leaked plaintext run contains it."""
    return (MARKER * (size // len(MARKER) + 1))[:size]


def leftovers() -> list[Path]:
    tmp = Path(settings.VAULT_DIR) / "tmp"
    return sorted(tmp.rglob("*")) if tmp.exists() else []


def multipart_request(files: dict[str, bytes]):
    body = encode_multipart(BOUNDARY, {name: _named(name, data) for name, data in files.items()})
    return RequestFactory().generic("POST", "/upload/", body, content_type=MULTIPART_CONTENT)


def _named(name: str, data: bytes) -> io.BytesIO:
    stream = io.BytesIO(data)
    stream.name = name
    return stream


@pytest.mark.parametrize("size", [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 2 * CHUNK_SIZE + 12345])
def test_handler_seals_any_size_and_reads_back_the_plaintext(size: int) -> None:
    data = marked_bytes(size)
    handler = VaultUploadHandler()
    handler.new_file("files", "photo.jpg", "image/jpeg", size)
    # Pieces of awkward sizes, as a parser hands them over.
    for start in range(0, size, 300_001):
        handler.receive_data_chunk(data[start : start + 300_001], start)
    uploaded = handler.file_complete(size)
    handler.upload_complete()

    assert isinstance(uploaded, VaultUploadedFile)
    assert uploaded.name == "photo.jpg"
    assert uploaded.size == size
    sealed = uploaded.sealed_path.read_bytes()
    assert MARKER not in sealed
    assert uploaded.read() == data
    uploaded.seek(size // 2)
    assert uploaded.read(100) == data[size // 2 : size // 2 + 100]
    assert b"".join(uploaded.chunks()) == data

    uploaded.close()
    assert not uploaded.sealed_path.exists()
    assert leftovers() == []


def test_uploads_through_the_multipart_parser_are_sealed_and_removed_with_the_request() -> None:
    files = {"first.bin": marked_bytes(3 * CHUNK_SIZE + 7), "second.bin": marked_bytes(1000)}
    request = multipart_request(files)

    uploads = {f.name: f for f in request.FILES.values()}

    assert set(uploads) == set(files)
    sealed_paths = [upload.sealed_path for upload in uploads.values()]
    for path in sealed_paths:
        assert path.is_relative_to(Path(settings.VAULT_DIR) / "tmp")
        assert MARKER not in path.read_bytes()
    for name, upload in uploads.items():
        assert hashlib.sha256(upload.read()).hexdigest() == hashlib.sha256(files[name]).hexdigest()
    request.close()  # what Django does when the response is finished
    assert not any(path.exists() for path in sealed_paths)
    assert leftovers() == []


class StopAfterFirstChunk(FileUploadHandler):
    """Aborts the upload after the first piece arrives, as a size-limiting handler would."""

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if start > 0:
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def test_an_interrupted_upload_leaves_nothing_behind(settings) -> None:
    settings.FILE_UPLOAD_HANDLERS = [
        "tests.evidence.test_uploads.StopAfterFirstChunk",
        "evidence.uploads.VaultUploadHandler",
    ]
    request = multipart_request({"big.bin": marked_bytes(4 * CHUNK_SIZE)})
    assert len(request.FILES) == 0
    assert leftovers() == []


def test_a_body_cut_off_mid_file_leaves_nothing_once_the_request_is_gone() -> None:
    body = encode_multipart(BOUNDARY, {"files": _named("cut.bin", marked_bytes(3 * CHUNK_SIZE))})
    cut = body[: len(body) // 2]
    request = RequestFactory().generic("POST", "/upload/", cut, content_type=MULTIPART_CONTENT)
    with contextlib.suppress(Exception):  # what the parser makes of a cut body does not matter here
        list(request.FILES.values())
    assert leftovers() == []  # the parser reports the unfinished file as interrupted: it goes at once
    request.close()
    del request
    gc.collect()
    assert leftovers() == []


def peak_memory_receiving(size: int) -> int:
    """Peak Python memory while the parser receives (and we read back) an upload of ``size`` bytes."""
    request = multipart_request({"large.bin": marked_bytes(size)})  # the body itself is built up front
    tracemalloc.start()
    try:
        (upload,) = request.FILES.values()
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        request.close()
    assert digest.hexdigest() == hashlib.sha256(marked_bytes(size)).hexdigest()
    return peak


def test_memory_stays_flat_whatever_the_upload_size() -> None:
    small = peak_memory_receiving(4 * CHUNK_SIZE)
    large = peak_memory_receiving(32 * CHUNK_SIZE)
    assert large < small + CHUNK_SIZE, f"peak {large} bytes for 32 MiB against {small} for 4 MiB"
    assert large < 8 * CHUNK_SIZE


def test_a_process_that_dies_mid_upload_is_cleaned_up_by_recovery(data_dir: Path) -> None:
    script = textwrap.dedent(
        """
        import os, django
        django.setup()
        from evidence.uploads import VaultUploadHandler
        handler = VaultUploadHandler()
        handler.new_file("files", "x.bin", "application/octet-stream", None)
        handler.receive_data_chunk(b"x" * 3_000_000, 0)
        os._exit(0)  # no cleanup, as after kill -9
        """
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "haetae.settings",
        "HAETAE_DATA_DIR": str(data_dir),
        "HAETAE_MASTER_KEY_FILE": str(settings.MASTER_KEY_FILE),
        "HAETAE_LEDGER_KEY_FILE": str(settings.LEDGER_KEY_FILE),
    }
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=60)
    (left,) = [p for p in leftovers() if p.suffix == ".part"]
    assert MARKER not in left.read_bytes() and b"x" * 64 not in left.read_bytes()
    report = vault_recover()  # the dead process's lock is free: its work directory goes
    assert report.work_dirs_removed == [left.parent.name]
    assert leftovers() == []


def investigator():
    return CaseMemberFactory(role=CaseMemberRole.INVESTIGATOR)


@pytest.mark.django_db
def test_a_multi_mib_upload_through_the_api_ingests_with_correct_digests_and_leaves_no_temp_file() -> None:
    membership = investigator()
    data = marked_bytes(5 * CHUNK_SIZE + 4321)
    client = APIClient()
    client.force_authenticate(membership.user)
    seen_during_request: list[bytes] = []

    original_file_complete = VaultUploadHandler.file_complete

    def file_complete_and_look(self, file_size):  # what lies on disk while the upload is open
        uploaded = original_file_complete(self, file_size)
        seen_during_request.append(uploaded.sealed_path.read_bytes())
        return uploaded

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(VaultUploadHandler, "file_complete", file_complete_and_look)
        response = client.post(
            f"/api/v1/cases/{membership.case.number}/evidence/",
            {"files": [_named("large.bin", data)]},
            format="multipart",
        )

    assert response.status_code == 201, response.content
    (item,) = response.json()["items"]
    assert item["sha256"] == hashlib.sha256(data).hexdigest()
    assert item["md5"] == hashlib.md5(data).hexdigest()  # noqa: S324 - forensic digest
    assert item["sha1"] == hashlib.sha1(data).hexdigest()  # noqa: S324 - forensic digest
    assert item["size"] == len(data)
    assert len(seen_during_request) == 1
    assert len(seen_during_request[0]) > len(data)
    assert MARKER not in seen_during_request[0]
    assert leftovers() == []
