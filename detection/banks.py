"""Hash banks: create them, add entries one by one, and import hash lists (CSV, text, JSON, VICS JSON).

An import is all or nothing: every row is checked first, and a file with any bad row imports nothing and
says which lines are wrong and why. Entries already in the bank (same hash) are skipped and counted, so an
import can be repeated. Formats (docs/hash-banks.md):

* text (``.txt`` or anything not recognised): one hash per line; blank lines and ``#`` comments ignored;
* CSV (``.csv``): a header naming ``pdq``, ``md5``, ``sha1`` or ``sha256`` columns (at least the one of
  ``kind``), and optionally ``label`` and ``source``; or no header, the hash in the first column and an
  optional label in the second;
* JSON (``.json``): a list of objects with the same keys as the CSV header (or ``{"entries": [...]}``);
* VICS JSON (Project VIC's ODATA export): ``{"value": [{"MD5": ..., "SHA1": ..., "Category": ...}]}``
  (version 2) or the same objects nested in ``"Media"`` lists (version 1); MD5 and SHA-1 are imported,
  upper or lower case; ``Category`` becomes the label.
"""

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User

from detection.hashindex import MAX_THRESHOLD
from detection.matching import bank_entries_lookup
from detection.models import BankEntry, HashBank
from detection.models.banks import HashBankKind
from detection.pdq import DEFAULT_THRESHOLD
from haetae.db import ledger_transaction
from haetae.errors import RejectedInput

HASH_KINDS = ("pdq", "md5", "sha1", "sha256")
IMPORT_KINDS = ("pdq", "md5", "sha256")
_LENGTH = {"pdq": 64, "md5": 32, "sha1": 40, "sha256": 64}
_HEX = re.compile(r"^[0-9a-f]+$")
MAX_REPORTED_ERRORS = 20


@dataclass
class ImportResult:
    bank: HashBank
    created: int
    duplicates: int
    rows: int
    matches: int = 0  # items already in the vault that the new entries match

    def as_json(self) -> dict[str, Any]:
        return {
            "bank": self.bank.name,
            "bank_kind": self.bank.kind,
            "rows": self.rows,
            "created": self.created,
            "duplicates": self.duplicates,
            "matches": self.matches,
        }


@dataclass
class _Row:
    line: int  # 1-based line in the file (for JSON: the line where the entry's hash appears, when found)
    hashes: dict[str, str] = field(default_factory=dict)
    label: str = ""
    source: str = ""


def bank_create(
    *,
    name: str,
    kind: str,
    actor: User | None,
    description: str = "",
    pdq_threshold: int = DEFAULT_THRESHOLD,
    case: Any = None,
) -> HashBank:
    """A new hash bank; the name must be unused."""
    name = name.strip()
    if not name:
        raise RejectedInput("a hash bank needs a name")
    if kind not in HashBankKind.values:
        raise RejectedInput(f"unknown bank kind {kind!r}; use one of {', '.join(HashBankKind.values)}")
    if not 0 <= pdq_threshold <= MAX_THRESHOLD:
        raise RejectedInput(f"PDQ threshold {pdq_threshold} is outside 0–{MAX_THRESHOLD}")
    if HashBank.objects.filter(name=name).exists():
        raise RejectedInput(f"a hash bank named {name!r} already exists: choose another name or add to it")
    return HashBank.objects.create(
        name=name,
        kind=kind,
        description=description,
        pdq_threshold=pdq_threshold,
        case=case,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )


def _normalise(kind: str, value: Any, *, where: str) -> str:
    text = str(value or "").strip().lower()
    if kind in {"md5", "sha1", "sha256"} and text.startswith("0x"):
        text = text[2:]
    if len(text) != _LENGTH[kind] or not _HEX.match(text):
        raise ValueError(
            f"{where}: {kind} must be {_LENGTH[kind]} hex digits, got {str(value)[:80]!r}"
            if text
            else f"{where}: no {kind} hash"
        )
    return text


def bank_entry_add(
    *,
    bank: HashBank,
    actor: User | None,
    pdq: str = "",
    md5: str = "",
    sha1: str = "",
    sha256: str = "",
    label: str = "",
    source: str = "",
) -> BankEntry:
    """One entry with at least one hash; hashes are checked and lower-cased."""
    given = {"pdq": pdq, "md5": md5, "sha1": sha1, "sha256": sha256}
    hashes: dict[str, str] = {}
    for kind, value in given.items():
        if value:
            try:
                hashes[kind] = _normalise(kind, value, where="entry")
            except ValueError as exc:
                raise RejectedInput(str(exc)) from None
    if not hashes:
        raise RejectedInput("an entry needs at least one of pdq, md5, sha1, sha256")
    # The ledger lock comes before the insert, whose foreign key share-locks the bank row (docs/ledger.md)
    with ledger_transaction():
        entry = BankEntry.objects.create(
            bank=bank,
            label=label[:300],
            source=source[:300],
            added_by=actor if actor is not None and actor.is_authenticated else None,
            **hashes,
        )
        # Evidence already in the vault is looked up too, in the same transaction.
        bank_entries_lookup(entries=[entry], actor=actor)
    return entry


def bank_import(
    *,
    path: Path,
    bank_name: str,
    kind: str,
    actor: User | None,
    bank_kind: str = HashBankKind.IMPORTED,
    source: str = "",
) -> ImportResult:
    """Import a hash list into the bank named ``bank_name`` (created, of ``bank_kind``, if missing)."""
    if kind not in IMPORT_KINDS:
        raise RejectedInput(f"unknown hash kind {kind!r}; use one of {', '.join(IMPORT_KINDS)}")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RejectedInput(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RejectedInput(f"{path.name} is not UTF-8 text (byte {exc.start}): save it as UTF-8") from None
    rows, errors = parse_hash_list(text, name=path.name, kind=kind)
    if errors:
        shown = "; ".join(errors[:MAX_REPORTED_ERRORS])
        more = f" (and {len(errors) - MAX_REPORTED_ERRORS} more)" if len(errors) > MAX_REPORTED_ERRORS else ""
        raise RejectedInput(
            f"{path.name}: {len(errors)} bad row(s), nothing imported: {shown}{more}",
            details={"errors": errors},
        )
    if not rows:
        raise RejectedInput(f"{path.name} holds no hashes: nothing imported")
    origin = source or path.name
    # The ledger lock comes before the bank's row lock: the lookup below appends events (docs/ledger.md)
    with ledger_transaction():
        bank = HashBank.objects.select_for_update().filter(name=bank_name).first()
        if bank is None:
            bank = bank_create(name=bank_name, kind=bank_kind, actor=actor)
        existing = set(BankEntry.objects.filter(bank=bank).exclude(**{kind: ""}).values_list(kind, flat=True))
        new: list[BankEntry] = []
        duplicates = 0
        for row in rows:
            key = row.hashes.get(kind, "")
            if key and key in existing:
                duplicates += 1
                continue
            existing.add(key)
            new.append(
                BankEntry(
                    bank=bank,
                    label=row.label[:300],
                    source=(row.source or f"{origin} line {row.line}")[:300],
                    added_by=actor if actor is not None and actor.is_authenticated else None,
                    **row.hashes,
                )
            )
        BankEntry.objects.bulk_create(new, batch_size=5000)
        # Evidence already in the vault is looked up too, in the same transaction.
        matches = bank_entries_lookup(entries=new, actor=actor)
    return ImportResult(
        bank=bank, created=len(new), duplicates=duplicates, rows=len(rows), matches=len(matches)
    )


def parse_hash_list(text: str, *, name: str, kind: str) -> tuple[list[_Row], list[str]]:
    """Rows and errors ("line N: what is wrong") of a hash list; the format follows the file name."""
    suffix = Path(name).suffix.lower()
    if suffix == ".json" or text.lstrip().startswith(("{", "[")):
        return _parse_json(text, kind=kind)
    if suffix == ".csv":
        return _parse_csv(text, kind=kind)
    return _parse_lines(text, kind=kind)


def _parse_lines(text: str, *, kind: str) -> tuple[list[_Row], list[str]]:
    rows, errors = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        value = line.split("#", 1)[0].strip()
        if not value:
            continue
        try:
            rows.append(_Row(number, {kind: _normalise(kind, value, where=f"line {number}")}))
        except ValueError as exc:
            errors.append(str(exc))
    return rows, errors


def _parse_csv(text: str, *, kind: str) -> tuple[list[_Row], list[str]]:
    reader = csv.reader(io.StringIO(text))
    records = [(reader.line_num, record) for record in reader]
    records = [(n, r) for n, r in records if any(cell.strip() for cell in r)]
    if not records:
        return [], []
    header = [cell.strip().lower() for cell in records[0][1]]
    rows, errors = [], []
    if any(column in HASH_KINDS for column in header):
        if kind not in header:
            return [], [
                f"line {records[0][0]}: the header has no {kind!r} column (it has {', '.join(header)})"
            ]
        body = records[1:]
        for number, record in body:
            cells = dict(zip(header, (c.strip() for c in record), strict=False))
            if len(record) != len(header):
                errors.append(f"line {number}: {len(record)} columns, the header has {len(header)}")
                continue
            try:
                rows.append(_row_from_mapping(cells, kind=kind, line=number))
            except ValueError as exc:
                errors.append(str(exc))
        return rows, errors
    for number, record in records:
        try:
            hashes = {kind: _normalise(kind, record[0], where=f"line {number}")}
        except ValueError as exc:
            errors.append(str(exc))
            continue
        rows.append(_Row(number, hashes, label=record[1].strip() if len(record) > 1 else ""))
    return rows, errors


def _row_from_mapping(cells: dict[str, Any], *, kind: str, line: int) -> _Row:
    hashes: dict[str, str] = {}
    for hash_kind in HASH_KINDS:
        value = cells.get(hash_kind)
        if value not in (None, ""):
            hashes[hash_kind] = _normalise(hash_kind, value, where=f"line {line}")
        elif hash_kind == kind:
            raise ValueError(f"line {line}: no {kind} hash")
    return _Row(line, hashes, label=str(cells.get("label") or ""), source=str(cells.get("source") or ""))


def _line_of(text: str, value: Any, fallback: int) -> int:
    if isinstance(value, str) and value:
        position = text.find(json.dumps(value))
        if position >= 0:
            return text.count("\n", 0, position) + 1
    return fallback


def _parse_json(text: str, *, kind: str) -> tuple[list[_Row], list[str]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        return [], [f"line {exc.lineno}: not valid JSON ({exc.msg})"]
    if isinstance(document, dict) and isinstance(document.get("value"), list):
        return _parse_vics(text, document["value"], kind=kind)
    entries = document.get("entries") if isinstance(document, dict) else document
    if not isinstance(entries, list):
        return [], ['line 1: expected a list of entries, {"entries": [...]}, or VICS {"value": [...]}']
    rows, errors = [], []
    for position, entry in enumerate(entries):
        if not isinstance(entry, dict):
            errors.append(f"entry {position + 1}: expected an object with a {kind!r} key")
            continue
        cells = {str(k).lower(): v for k, v in entry.items()}
        line = _line_of(text, cells.get(kind), position + 1)
        try:
            rows.append(_row_from_mapping(cells, kind=kind, line=line))
        except ValueError as exc:
            errors.append(f"entry {position + 1}, {exc}")
    return rows, errors


def _parse_vics(text: str, media: list[Any], *, kind: str) -> tuple[list[_Row], list[str]]:
    if kind not in {"md5"}:
        return [], [f"line 1: VICS JSON carries MD5 and SHA-1, not {kind}: import it with --kind md5"]
    flat: list[tuple[str, dict[str, Any]]] = []
    for position, record in enumerate(media):
        if isinstance(record, dict) and isinstance(record.get("Media"), list):
            flat.extend((f"value[{position}].Media[{inner}]", m) for inner, m in enumerate(record["Media"]))
        else:
            flat.append((f"value[{position}]", record))
    rows, errors = [], []
    for where, record in flat:
        if not isinstance(record, dict):
            errors.append(f"{where}: expected an object with MD5 and SHA1")
            continue
        md5, sha1 = record.get("MD5"), record.get("SHA1")
        line = _line_of(text, md5 or sha1, 0)
        label_where = f"line {line} ({where})" if line else where
        hashes: dict[str, str] = {}
        try:
            if md5 in (None, ""):
                raise ValueError(f"{label_where}: no MD5")
            hashes["md5"] = _normalise("md5", md5, where=label_where)
            if sha1 not in (None, ""):
                hashes["sha1"] = _normalise("sha1", sha1, where=label_where)
        except ValueError as exc:
            errors.append(str(exc))
            continue
        category = record.get("Category")
        label = f"VICS category {category}" if category is not None else ""
        media_id = record.get("MediaID")
        rows.append(_Row(line, hashes, label=label, source=f"VICS MediaID {media_id}" if media_id else ""))
    return rows, errors
