"""The ledger's tail cannot vanish: every commit is signed, each head is witnessed outside the database,
and `verify` fails when the database's ledger no longer holds the witness's newest signed tree."""

import json
import logging
from collections.abc import Callable, Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction

from access.models import Case
from evidence.choices import CustodyAction
from evidence.custody import custody_append
from evidence.ledger import checkpoint_create
from evidence.ledger_sql import create_statements, drop_statements
from evidence.models import Checkpoint, CustodyEvent, EvidenceItem
from evidence.verify import vault_verify
from evidence.witness import bundle_heads, witness_read
from haetae.errors import IntegrityFailure
from tests.db_roles import database_owner
from tests.evidence.test_verify import make_actor
from tests.factories import CaseFactory, stored_item

Committing = Callable[..., Any]


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Committing) -> Callable[[Callable[[], Any]], Any]:
    """Run ``work`` in a transaction and then its on-commit callbacks, as a real commit would."""

    def run(work: Callable[[], Any]) -> Any:
        pending = len(connection.run_on_commit)
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            result = work()
        del connection.run_on_commit[pending:]  # a real commit empties the list once it has run them
        return result

    return run


@pytest.fixture
def triggers_lifted(db: None) -> Iterator[Callable[[], None]]:
    """Lift the append-only triggers as the database owner could; they are put back afterwards."""

    def lift() -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # pending FK checks block DROP TRIGGER
            for sql in drop_statements(connection.vendor):
                cursor.execute(sql)

    with database_owner():  # the test body plays the owner from here on
        yield lift
        with connection.cursor() as cursor:
            for sql in create_statements(connection.vendor):
                cursor.execute(sql)


def view(case: Case, item: EvidenceItem) -> CustodyEvent:
    return custody_append(
        case_id=case.pk, item_id=item.pk, action=CustodyAction.VIEWED, actor=make_actor(), purpose="triage"
    )


@pytest.fixture
def signed_case(db: None, committed: Callable[[Callable[[], Any]], Any]) -> tuple[Case, EvidenceItem]:
    """A case whose item was stored and then viewed, each in its own committed transaction."""
    case = CaseFactory.create()
    item = committed(lambda: stored_item(case=case, data=b"seized photo " * 50, actor=make_actor()))
    committed(lambda: view(case, item))
    return case, item


def checks(report: Any) -> set[str]:
    return {failure["check"] for failure in report.failures}


def witness_lines() -> list[str]:
    return Path(settings.LEDGER_WITNESS_FILE).read_text().splitlines()


# --- prompt checkpoints -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_committed_append_is_signed_and_witnessed(committed: Callable[..., Any]) -> None:
    case = CaseFactory.create()
    item = committed(lambda: stored_item(case=case, data=b"one photo", actor=make_actor()))
    assert Checkpoint.objects.count() == 1
    assert Checkpoint.objects.get().tree_size == CustodyEvent.objects.count()
    committed(lambda: [view(case, item) for _ in range(5)])  # five appends, one transaction: one head
    heads = witness_read().heads
    assert Checkpoint.objects.count() == 2 == len(heads)
    assert [h.tree_size for h in heads] == list(
        Checkpoint.objects.order_by("tree_size").values_list("tree_size", flat=True)
    )
    assert heads[-1].tree_size == CustodyEvent.objects.count()
    assert vault_verify().ok


@pytest.mark.django_db
def test_a_head_is_never_signed_when_the_witness_cannot_be_written(
    committed: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    Path(settings.LEDGER_WITNESS_FILE).mkdir(parents=True)  # a directory where the file should be
    case = CaseFactory.create()
    with caplog.at_level(logging.ERROR, logger="evidence.ledger"):
        item = committed(lambda: stored_item(case=case, data=b"one photo", actor=make_actor()))
    # the commit itself stands; the failed signature is logged and no checkpoint exists without a witness
    assert EvidenceItem.objects.filter(pk=item.pk).exists()
    assert Checkpoint.objects.count() == 0
    assert "could not sign a ledger checkpoint" in caplog.text
    with pytest.raises(IntegrityFailure, match="could not append the signed tree head to the ledger witness"):
        checkpoint_create()
    assert Checkpoint.objects.count() == 0


# --- a vanished tail --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_deleting_the_newest_viewed_event_fails_verify(
    signed_case: tuple[Case, EvidenceItem], triggers_lifted: Callable[[], None]
) -> None:
    newest = CustodyEvent.objects.order_by("-seq").first()
    assert newest is not None and newest.action == CustodyAction.VIEWED
    triggers_lifted()
    # the owner removes the look at the content and the checkpoint that signed it
    CustodyEvent.objects.filter(seq=newest.seq).delete()
    Checkpoint.objects.filter(tree_size__gt=newest.seq).delete()
    out = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify", stdout=out)
    assert exit_info.value.code == 1
    text = out.getvalue()
    assert "FAIL witness_rollback" in text
    assert f"the database ledger now holds only {newest.seq}" in text
    assert f"event {newest.seq}, and every checkpoint that signed it, vanished from the database" in text


@pytest.mark.django_db
def test_deleting_the_newest_checkpoints_with_the_events_after_them_fails_verify(
    signed_case: tuple[Case, EvidenceItem],
    committed: Callable[..., Any],
    triggers_lifted: Callable[[], None],
) -> None:
    case, item = signed_case
    kept = Checkpoint.objects.order_by("tree_size").first()
    assert kept is not None
    committed(lambda: view(case, item))
    committed(lambda: view(case, item))
    total = CustodyEvent.objects.count()
    assert Checkpoint.objects.count() == 4
    triggers_lifted()
    # what remains is a shorter ledger, consistent with itself and with its one remaining checkpoint
    Checkpoint.objects.filter(tree_size__gt=kept.tree_size).delete()
    CustodyEvent.objects.filter(seq__gte=kept.tree_size).delete()
    report = vault_verify()
    assert not report.ok
    assert checks(report) == {"witness_rollback"}
    failure = report.failures[0]
    assert (failure["expected"], failure["found"]) == (f"at least {total} events", kept.tree_size)
    assert f"events {kept.tree_size}..{total - 1}" in failure["message"]


@pytest.mark.django_db
def test_a_rewritten_tail_under_a_deleted_checkpoint_fails_against_the_witness(
    signed_case: tuple[Case, EvidenceItem], triggers_lifted: Callable[[], None]
) -> None:
    newest = CustodyEvent.objects.order_by("-seq").first()
    assert newest is not None
    triggers_lifted()
    Checkpoint.objects.filter(tree_size__gt=newest.seq).delete()
    CustodyEvent.objects.filter(seq=newest.seq).update(purpose="rewritten")
    assert "witness_root" in checks(vault_verify())


# --- the witness file itself ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_truncated_witness_is_reported(signed_case: tuple[Case, EvidenceItem]) -> None:
    lines = witness_lines()
    Path(settings.LEDGER_WITNESS_FILE).write_text(lines[0] + "\n")
    report = vault_verify()
    assert checks(report) == {"witness_behind"}
    assert "lines were removed from the end of the file" in report.failures[0]["message"]


@pytest.mark.django_db
def test_a_deleted_witness_is_reported(signed_case: tuple[Case, EvidenceItem]) -> None:
    Path(settings.LEDGER_WITNESS_FILE).unlink()
    report = vault_verify()
    assert checks(report) == {"witness_missing"}
    assert "HAETAE_LEDGER_WITNESS_FILE" in report.failures[0]["message"]


@pytest.mark.django_db
def test_an_edited_witness_head_is_reported(signed_case: tuple[Case, EvidenceItem]) -> None:
    lines = witness_lines()
    head = json.loads(lines[-1])
    head["root_hash"] = "0" * 64
    Path(settings.LEDGER_WITNESS_FILE).write_text("\n".join([*lines[:-1], json.dumps(head)]) + "\n")
    assert checks(vault_verify()) == {"witness_signature"}


@pytest.mark.django_db
def test_a_damaged_or_reordered_witness_line_is_reported(signed_case: tuple[Case, EvidenceItem]) -> None:
    lines = witness_lines()
    Path(settings.LEDGER_WITNESS_FILE).write_text(
        "\n".join([lines[1], lines[0], "{not json", lines[1]]) + "\n"
    )
    report = vault_verify()
    assert checks(report) == {"witness_order", "witness_malformed"}
    malformed = next(f for f in report.failures if f["check"] == "witness_malformed")
    assert "Line 3 of the ledger witness file" in malformed["message"]


@pytest.mark.django_db
def test_a_new_witness_file_starts_from_the_newest_checkpoint(signed_case: tuple[Case, EvidenceItem]) -> None:
    Path(settings.LEDGER_WITNESS_FILE).unlink()
    newest = Checkpoint.objects.order_by("-tree_size").first()
    assert checkpoint_create() == newest  # nothing new to sign: the newest head is witnessed again
    assert [h.tree_size for h in witness_read().heads] == [newest.tree_size]
    assert vault_verify().ok


# --- export bundles as witnesses --------------------------------------------------------------------------


def _exported(tmp_path: Path) -> tuple[Path, Checkpoint]:
    """A case exported to a bundle; returns the bundle and a checkpoint signed before the export."""
    from tests.exhibits.test_bundles import export
    from tests.factories import scenario

    s = scenario(tmp_path)
    before = checkpoint_create()
    photo = EvidenceItem.objects.filter(case=s.t.case).order_by("pk").first()
    assert photo is not None
    view(s.t.case, photo)  # a look after the kept checkpoint, signed by the head the bundle carries
    checkpoint_create()
    out, _key = export(s, tmp_path)
    return out, before


@pytest.mark.django_db
def test_an_exported_bundle_witnesses_the_ledger_and_shows_a_rollback_the_database_hides(
    tmp_path: Path, triggers_lifted: Callable[[], None]
) -> None:
    out, kept = _exported(tmp_path)
    carried = max(head.tree_size for head in bundle_heads(out))
    assert carried > kept.tree_size  # the bundle carries a head newer than the checkpoint kept below
    assert vault_verify(witness_bundles=[out]).ok
    triggers_lifted()
    # the owner removes everything after the kept checkpoint, and the witness file's lines that name it
    Checkpoint.objects.filter(tree_size__gt=kept.tree_size).delete()
    CustodyEvent.objects.filter(seq__gte=kept.tree_size).delete()
    lines = [line for line in witness_lines() if json.loads(line)["tree_size"] <= kept.tree_size]
    Path(settings.LEDGER_WITNESS_FILE).write_text("".join(f"{line}\n" for line in lines))

    out_text = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify", "--witness-bundle", str(out), stdout=out_text)

    assert exit_info.value.code == 1
    text = out_text.getvalue()
    assert "FAIL bundle_rollback" in text
    assert f"the database ledger now holds only {kept.tree_size}" in text and out.name in text
    assert vault_verify().ok  # without the bundle, the shortened ledger and witness agree with each other
    # once the ledger has grown past the bundle's head again, the loss shows as a rewritten history
    assert checks(vault_verify(witness_bundles=[out])) == {"bundle_root"}


@pytest.mark.django_db
def test_a_bundle_whose_history_was_rewritten_fails_as_bundle_root(
    tmp_path: Path, triggers_lifted: Callable[[], None]
) -> None:
    out, kept = _exported(tmp_path)
    triggers_lifted()
    CustodyEvent.objects.filter(seq=kept.tree_size).update(purpose="rewritten")
    assert "bundle_root" in checks(vault_verify(witness_bundles=[out]))


@pytest.mark.django_db
def test_a_file_that_is_not_a_bundle_is_refused_before_anything_is_checked(tmp_path: Path) -> None:
    from haetae.errors import RejectedInput

    not_zip = tmp_path / "notes.zip"
    not_zip.write_bytes(b"not a zip")
    verified = CustodyEvent.objects.filter(action=CustodyAction.VERIFIED).count()
    with pytest.raises(RejectedInput, match="cannot be read as a ZIP"):
        vault_verify(witness_bundles=[not_zip])
    with pytest.raises(RejectedInput, match="no such file"):
        vault_verify(witness_bundles=[tmp_path / "missing.zip"])
    assert CustodyEvent.objects.filter(action=CustodyAction.VERIFIED).count() == verified
