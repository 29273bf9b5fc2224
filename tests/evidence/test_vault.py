"""The blob store: crash recovery removes only what no row claims, and reads check every byte."""

import io
import os
import time
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction

from evidence.crypto import CHUNK_SIZE
from evidence.models import Blob
from evidence.vault import (
    NASCENT_GRACE_SECONDS,
    NASCENT_PREFIX,
    StagedObject,
    WorkDir,
    object_path,
    place_objects,
    read_verified,
    vault_recover,
    vault_root,
    verify_object,
)
from haetae.errors import IntegrityFailure
from tests.factories import CaseFactory, stored_item


def _actor() -> User:
    return get_user_model().objects.get_or_create(username="vault-officer")[0]


def die(work: WorkDir) -> Path:
    """Leave a work directory as a killed process would: files in place, lock released."""
    work._journal.close()
    os.close(work._lock_fd)
    return work.path


def blob_row(staged: StagedObject) -> Blob:
    return Blob.objects.create(
        sha256=staged.digests.sha256,
        md5=staged.digests.md5,
        sha1=staged.digests.sha1,
        size=staged.digests.size,
        encryption_scheme=staged.scheme,
        key_id=staged.key_id,
    )


@pytest.mark.django_db
def test_recover_deletes_orphans_keeps_claimed_objects_and_removes_dead_dirs() -> None:
    work = WorkDir()
    orphan = work.stage(io.BytesIO(b"placed, but the process died before its row committed"))
    claimed = work.stage(io.BytesIO(b"placed, and its row committed"))
    left_over = work.stage(io.BytesIO(b"staged only"))
    with transaction.atomic():
        place_objects(work, [orphan, claimed], existing=set())
        blob_row(claimed)
    left_over_temp = left_over.temp_path
    assert left_over_temp.exists()
    dead_dir = die(work)
    orphan_path, claimed_path = object_path(orphan.digests.sha256), object_path(claimed.digests.sha256)
    assert orphan_path.exists() and claimed_path.exists()

    report = vault_recover()

    assert report.orphans_deleted == [orphan.digests.sha256]
    assert report.work_dirs_removed == [dead_dir.name]
    assert not orphan_path.exists()
    assert claimed_path.exists()
    assert b"".join(read_verified(claimed.digests.sha256)) == b"placed, and its row committed"
    assert not dead_dir.exists() and not left_over_temp.exists()
    assert vault_recover().work_dirs_removed == []  # nothing left to do


@pytest.mark.django_db
def test_recover_leaves_a_live_work_dir_alone() -> None:
    with WorkDir() as live:
        staged = live.stage(io.BytesIO(b"an ingest still running"))
        with transaction.atomic():
            place_objects(live, [staged], existing=set())
        # no row yet: the ingest is between placing and committing, under its lock
        report = vault_recover()
        assert report.work_dirs_removed == [] and report.orphans_deleted == []
        assert live.path.exists() and object_path(staged.digests.sha256).exists()
    assert not live.path.exists()  # closing removes it


@pytest.mark.django_db
def test_recover_removes_a_dead_dir_without_a_journal() -> None:
    work = WorkDir()
    work.stage(io.BytesIO(b"died while staging"))
    (work.path / "intents").unlink()
    dead_dir = die(work)
    assert vault_recover().work_dirs_removed == [dead_dir.name]
    assert not dead_dir.exists()


def test_recover_with_no_tmp_dir_does_nothing(db: None) -> None:
    assert not (vault_root() / "tmp").exists()
    report = vault_recover()
    assert report.work_dirs_removed == [] and report.orphans_deleted == []


@pytest.mark.django_db
def test_objects_are_read_only_and_content_addressed() -> None:
    data = os.urandom(CHUNK_SIZE + 10)
    item = stored_item(case=CaseFactory.create(), data=data, actor=_actor())
    sha256 = item.blob_id
    assert sha256 is not None
    path = object_path(sha256)
    assert path.stat().st_mode & 0o777 == 0o400
    assert path.parent.parent.name == sha256[:2] and path.parent.name == sha256[2:4]
    assert b"".join(read_verified(item.blob_id)) == data
    assert verify_object(item.blob_id) == item.blob_id


@pytest.mark.django_db
def test_read_verified_raises_for_a_missing_object() -> None:
    item = stored_item(case=CaseFactory.create(), data=b"soon gone", actor=_actor())
    object_path(item.blob_id).unlink()
    with pytest.raises(IntegrityFailure, match="missing") as raised:
        list(read_verified(item.blob_id))
    assert raised.value.details["problem"] == "missing"


@pytest.mark.django_db
def test_read_verified_raises_for_damage() -> None:
    item = stored_item(case=CaseFactory.create(), data=os.urandom(2 * CHUNK_SIZE), actor=_actor())
    path = object_path(item.blob_id)
    path.chmod(0o600)
    raw = bytearray(path.read_bytes())
    raw[-100] ^= 0x10
    path.write_bytes(bytes(raw))
    chunks = read_verified(item.blob_id)
    assert len(next(chunks)) == CHUNK_SIZE  # chunks before the damage are authentic and arrive
    with pytest.raises(IntegrityFailure, match="authentication tag"):
        list(chunks)


@pytest.mark.django_db
def test_read_verified_raises_when_the_plaintext_hash_differs() -> None:
    actor = _actor()
    one = stored_item(case=CaseFactory.create(), data=b"one" * 10, actor=actor)
    two = stored_item(case=CaseFactory.create(), data=b"two" * 10, actor=actor)
    target = object_path(one.blob_id)
    target.chmod(0o600)
    target.write_bytes(object_path(two.blob_id).read_bytes())  # authentic object, wrong name
    with pytest.raises(IntegrityFailure, match=two.blob_id) as raised:
        list(read_verified(one.blob_id))
    assert raised.value.details["problem"] == "hash mismatch"


def test_object_path_refuses_what_is_not_a_sha256() -> None:
    for bad in ("", "../../etc/passwd", "A" * 64, "0" * 63):
        with pytest.raises(ValueError, match="not a SHA-256"):
            object_path(bad)


@pytest.mark.django_db
def test_a_work_dir_is_never_visible_to_recovery_without_its_held_lock() -> None:
    """Set-up happens under a name recovery ignores; only a directory whose lock is held is renamed in."""
    with WorkDir() as live:
        assert live.path.name.startswith("w-") and (live.path / "lock").exists()
        assert not list((vault_root() / "tmp").glob(f"{NASCENT_PREFIX}*"))
        assert vault_recover().work_dirs_removed == [] and live.path.exists()


@pytest.mark.django_db
def test_recover_removes_set_up_dirs_only_when_abandoned_and_old() -> None:
    tmp = vault_root() / "tmp"
    tmp.mkdir(parents=True)
    young, old = tmp / f"{NASCENT_PREFIX}1-young", tmp / f"{NASCENT_PREFIX}2-old"
    for nascent in (young, old):
        nascent.mkdir()  # a process died between mkdir and its lock: no lock file at all
    past = time.time() - NASCENT_GRACE_SECONDS - 5
    os.utime(old, (past, past))
    vault_recover()
    assert young.exists() and not old.exists()  # a young one may be a live process mid set-up
