"""Hash bank services and `manage.py import_bank`: formats, all-or-nothing imports, messages naming lines."""

import json
from pathlib import Path

import pytest
from django.core.management import call_command

from detection.banks import bank_create, bank_entry_add, bank_import
from detection.models import BankEntry, HashBank
from detection.models.banks import HashBankKind
from haetae.errors import RejectedInput
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PDQ_A = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
PDQ_B = "30a10efd71cc3d429013d48d0ffffc52e34e0e17ada952a9d29685211ea9e5af"
MD5_A = "d41d8cd98f00b204e9800998ecf8427e"
MD5_B = "0cc175b9c0f1b6a831c399e269772661"
SHA1_A = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
SHA256_A = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_text_list_creates_the_bank_and_skips_duplicates_on_reimport(tmp_path):
    path = _write(tmp_path, "list.txt", f"# seized list\n{PDQ_A}\n\n{PDQ_B.upper()}  # comment\n")
    user = UserFactory()
    result = bank_import(path=path, bank_name="TE export", kind="pdq", actor=user)
    assert (result.created, result.duplicates, result.bank.kind) == (2, 0, HashBankKind.IMPORTED)
    entries = list(BankEntry.objects.order_by("pk"))
    assert [e.pdq for e in entries] == [PDQ_A, PDQ_B]
    assert entries[0].source == "list.txt line 2" and entries[0].added_by == user
    again = bank_import(path=path, bank_name="TE export", kind="pdq", actor=user)
    assert (again.created, again.duplicates) == (0, 2)


def test_csv_with_header_labels_and_several_hashes(tmp_path):
    path = _write(tmp_path, "bank.csv", f"md5,sha256,label\n{MD5_A},{SHA256_A},first\n{MD5_B},,second\n")
    result = bank_import(path=path, bank_name="hashes", kind="md5", actor=None)
    assert result.created == 2
    first = BankEntry.objects.get(md5=MD5_A)
    assert (first.sha256, first.label, first.source) == (SHA256_A, "first", "bank.csv line 2")


def test_headerless_csv_takes_hash_and_label(tmp_path):
    path = _write(tmp_path, "plain.csv", f"{PDQ_A},bridge\n{PDQ_B}\n")
    bank_import(path=path, bank_name="b", kind="pdq", actor=None)
    assert list(BankEntry.objects.order_by("pk").values_list("label", flat=True)) == ["bridge", ""]


def test_json_list(tmp_path):
    path = _write(tmp_path, "bank.json", json.dumps({"entries": [{"sha256": SHA256_A, "label": "x"}]}))
    bank_import(path=path, bank_name="j", kind="sha256", actor=None)
    assert BankEntry.objects.get().sha256 == SHA256_A


def test_vics_json_both_versions(tmp_path):
    v2 = {
        "@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media",
        "value": [{"MediaID": 1, "Category": 1, "MD5": MD5_A.upper(), "SHA1": SHA1_A.upper()}],
    }
    v1 = {"odata.metadata": "x", "value": [{"Media": [{"MD5": MD5_B, "Category": 2}]}]}
    bank_import(
        path=_write(tmp_path, "v2.json", json.dumps(v2, indent=1)), bank_name="v", kind="md5", actor=None
    )
    bank_import(path=_write(tmp_path, "v1.json", json.dumps(v1)), bank_name="v", kind="md5", actor=None)
    first, second = BankEntry.objects.order_by("pk")
    assert (first.md5, first.sha1, first.label, first.source) == (
        MD5_A,
        SHA1_A,
        "VICS category 1",
        "VICS MediaID 1",
    )
    assert (second.md5, second.sha1, second.label) == (MD5_B, "", "VICS category 2")


def test_bad_rows_import_nothing_and_name_the_lines(tmp_path):
    path = _write(tmp_path, "bad.txt", f"{PDQ_A}\nnot-a-hash\n{PDQ_B}\n{PDQ_B[:-1]}\n")
    with pytest.raises(RejectedInput) as raised:
        bank_import(path=path, bank_name="bad", kind="pdq", actor=None)
    message = raised.value.message
    assert "2 bad row(s), nothing imported" in message
    assert "line 2: pdq must be 64 hex digits" in message and "line 4:" in message
    assert not BankEntry.objects.exists() and not HashBank.objects.exists()


def test_bad_csv_json_and_vics_rows_are_named(tmp_path):
    cases = [
        ("a.csv", f"md5,label\n{MD5_A},ok\n,missing\n", "md5", "line 3: no md5 hash"),
        ("b.csv", f"pdq,label\n{PDQ_A},ok,extra\n", "pdq", "line 2: 3 columns, the header has 2"),
        ("c.csv", "sha256\nabc\n", "md5", "the header has no 'md5' column"),
        ("d.json", '[{"pdq": "xyz"}]', "pdq", "entry 1, line 1: pdq must be 64 hex digits"),
        ("e.json", '{"value": [\n{"MD5": "zz"}\n]}', "md5", "line 2 (value[0]): md5 must be 32 hex digits"),
        ("f.json", '{"value": []', "md5", "line 1: not valid JSON"),
        ("g.json", '{"value": []}', "sha256", "VICS JSON carries MD5 and SHA-1"),
    ]
    for name, text, kind, expected in cases:
        with pytest.raises(RejectedInput) as raised:
            bank_import(path=_write(tmp_path, name, text), bank_name="x", kind=kind, actor=None)
        assert expected in raised.value.message, (name, raised.value.message)
    assert not BankEntry.objects.exists()


def test_empty_unreadable_and_non_utf8_files(tmp_path):
    with pytest.raises(RejectedInput, match="holds no hashes"):
        bank_import(path=_write(tmp_path, "empty.txt", "# nothing\n"), bank_name="x", kind="md5", actor=None)
    with pytest.raises(RejectedInput, match="cannot read"):
        bank_import(path=tmp_path / "missing.txt", bank_name="x", kind="md5", actor=None)
    latin = tmp_path / "latin.txt"
    latin.write_bytes(b"\xe9\n")
    with pytest.raises(RejectedInput, match="not UTF-8"):
        bank_import(path=latin, bank_name="x", kind="md5", actor=None)


def test_bank_create_and_entry_add_refuse_bad_input():
    bank = bank_create(name="one", kind=HashBankKind.KNOWN_MATERIAL, actor=None)
    with pytest.raises(RejectedInput, match="already exists"):
        bank_create(name="one", kind=HashBankKind.KNOWN_MATERIAL, actor=None)
    with pytest.raises(RejectedInput, match="unknown bank kind"):
        bank_create(name="two", kind="mystery", actor=None)
    with pytest.raises(RejectedInput, match="outside 0–31"):
        bank_create(name="three", kind=HashBankKind.IMPORTED, actor=None, pdq_threshold=40)
    with pytest.raises(RejectedInput, match="at least one"):
        bank_entry_add(bank=bank, actor=None)
    with pytest.raises(RejectedInput, match="md5 must be 32 hex digits"):
        bank_entry_add(bank=bank, actor=None, md5="123")
    entry = bank_entry_add(bank=bank, actor=None, md5=MD5_A.upper(), label="l")
    assert entry.md5 == MD5_A


def test_command_json_and_exit_codes(tmp_path, capsys):
    UserFactory(username="operator1")
    good = _write(tmp_path, "good.txt", f"{MD5_A}\n{MD5_B}\n")
    call_command(
        "import_bank",
        str(good),
        "--bank",
        "NCMEC",
        "--kind",
        "md5",
        "--bank-kind",
        "known_material",
        "--actor",
        "operator1",
        "--json",
    )
    payload = json.loads(capsys.readouterr().out)
    assert payload == {
        "bank": "NCMEC",
        "bank_kind": "known_material",
        "rows": 2,
        "created": 2,
        "duplicates": 0,
        "matches": 0,
    }
    bad = _write(tmp_path, "bad.txt", f"{MD5_A}\nnope\n")
    with pytest.raises(SystemExit) as exited:
        call_command("import_bank", str(bad), "--bank", "NCMEC", "--kind", "md5")
    assert exited.value.code == 1
    assert "line 2: md5 must be 32 hex digits" in capsys.readouterr().err
    assert BankEntry.objects.count() == 2
