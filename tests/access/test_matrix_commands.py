"""The access matrix of the management commands: every command of our apps is gated as POLICY says, or is the
operator's.

Every command Django lists for our apps (``get_commands()``), and each verb of a command with verbs, is in one
of two tables:
- COMMANDS: it acts for a person named by ``--actor``. Its entry names the rule (an ``Action``, ``ANY_MEMBER``
  for every team role, ``ADMIN`` for administrators only, ``OWN`` for the actor's own records) and the
  arguments that aim it at the target case. It is called through ``call_command`` for every caller of the API
  matrix but the anonymous one (a command always names its actor): those the rule refuses meet
  ``AccessDenied``; those it lets through succeed, or meet the non-access error the entry names (the gate
  was passed; e.g. an exhibit that does not exist, to keep a slow export out of the matrix).
- OPERATOR: it takes no ``--actor`` (or takes one only to record who ran it, not as a gate), with the reason
  it belongs to the operator at the server.

A new command (or verb) without an entry fails ``test_every_command_has_an_entry``. Adding one is one line::

    "timeline_export": Command(Action.ITEM_RECORDS, lambda w, a, tmp: [w.target.number, "--actor", a]),
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command, get_commands, load_command_class
from django.core.management.base import BaseCommand

from access.policy import POLICY, Action
from haetae.cli import HaetaeCommand
from haetae.errors import AccessDenied, HaetaeError, NotFound
from records.services import destruction_order_request
from tests.access.matrix_world import PROSECUTOR, ROLES, World, by_action, by_role, settle

OUR_APPS = frozenset(
    {
        "haetae",
        "access",
        "accounts",
        "evidence",
        "detection",
        "parties",
        "sources",
        "captures",
        "support",
        "search",
        "exhibits",
        "records",
        "portal",
    }
)
ANY_MEMBER = "any team role"
ADMIN = "administrators only"
OWN = "the actor's own records"
OK = "ok"
DENIED = AccessDenied.__name__
NOT_FOUND = NotFound.__name__
EXIT = "exit"

Argv = Callable[[World, str, Path], list[str]]


@dataclass
class Command:
    """How to aim one command (or ``command verb``) at the target case for an actor, and what it should meet.

    ``allowed``: the outcome for whom the rule lets through (``OK``, or the name of the non-access error they
    meet once past the gate); ``outsider``: for a member of another case only and an administrator without a
    grant (``AccessDenied``, or ``NotFound`` where the command does not say whether the case exists);
    ``member``: per-role outcomes that differ from the rule's (e.g. "not found" for the prosecutor, who sees
    only shared exhibits).
    """

    rule: Action | str
    argv: Argv
    allowed: str = OK
    outsider: str = DENIED
    member: dict[str, str] = field(default_factory=dict)

    def expected(self, caller: str, role: str) -> str:
        if self.rule == OWN:
            return self.allowed
        if self.rule == ADMIN:
            return self.allowed if caller == "admin" else DENIED
        if caller != "member":
            return self.outsider
        if role in self.member:
            return self.member[role]
        if self.rule == ANY_MEMBER or (isinstance(self.rule, Action) and role in POLICY[self.rule]):
            return self.allowed
        return DENIED


def _case(*rest: str) -> Argv:
    """The target case's number, then ``rest``, then ``--actor``."""
    return lambda w, actor, tmp: [w.target.number, *rest, "--actor", actor]


def _sees_only_shared(outcome: str) -> dict[str, str]:
    """The prosecutor does not see exhibits that are not shared: "not found", as for another case's."""
    return {PROSECUTOR: outcome}


def _order(verb: str, *rest: str) -> Argv:
    return lambda w, actor, tmp: [verb, w.target.number, "D-001", *rest, "--actor", actor]


COMMANDS: dict[str, Command] = {
    "add_member": Command(
        Action.TEAM_CHANGE, lambda w, a, tmp: [w.target.number, w.newcomer.username, "analyst", "--actor", a]
    ),
    "add_reference_photo": Command(
        Action.IDENTITY_READ,
        outsider=NOT_FOUND,
        argv=lambda w, a, tmp: [
            w.target.number,
            "V-1",
            str(_photo(tmp)),
            "--consent",
            "signed form 17",
            "--actor",
            a,
        ],
    ),
    # Only a supervisor (global role) approves, and no caller here holds it: refused to every member.
    "approve_exhibit": Command(
        Action.EXHIBIT_APPROVE, _case("E-002"), member=by_role({PROSECUTOR}, "NotFound", DENIED)
    ),
    # Opening a case needs the global role investigator or supervisor, which no caller here holds.
    "create_case": Command(
        Action.CASE_OPEN,
        lambda w, a, tmp: ["2024-CLI-0003", "--title", "opened by the matrix", "--actor", a],
        member={role: DENIED for role in ROLES},
    ),
    "create_exhibit": Command(
        Action.EXHIBIT_DRAFT,
        lambda w, a, tmp: [w.target.number, "--items", str(w.item.pk), "--description", "d", "--actor", a],
    ),
    "detect": Command(Action.DETECTION_RUN, _case("--detector", "file-hashes"), outsider=NOT_FOUND),
    "rescan": Command(
        Action.DETECTION_RUN,
        lambda w, a, tmp: ["--case", w.target.number, "--detector", "file-hashes", "--actor", a],
        outsider=NOT_FOUND,
    ),
    "ingest": Command(
        Action.EVIDENCE_INGEST, lambda w, a, tmp: [w.target.number, str(_note(tmp)), "--actor", a]
    ),
    "verify": Command(ANY_MEMBER, lambda w, a, tmp: ["--case", w.target.number, "--actor", a]),
    # Past the gate, an exhibit that does not exist: the signed report and bundle are built elsewhere
    # (tests/exhibits), not once per role here.
    "export": Command(
        Action.BUNDLE_EXPORT,
        lambda w, a, tmp: [
            w.target.number,
            "--exhibits",
            "E-099",
            "--recipient",
            "prosecutor",
            "--out",
            str(tmp / "bundle.zip"),
            "--passphrase-file",
            str(_passphrase(tmp)),
            "--actor",
            a,
        ],
        allowed="RejectedInput",
    ),
    "report": Command(
        Action.REPORT_REQUEST,
        lambda w, a, tmp: [w.target.number, "--out", str(tmp / "r.pdf"), "--exhibits", "E-099", "--actor", a],
        allowed="RejectedInput",
    ),
    "export_case_uco": Command(
        Action.INTERCHANGE_EXPORT,
        lambda w, a, tmp: [w.target.number, "--out", str(tmp / "case.jsonld"), "--actor", a],
    ),
    "export_vics": Command(
        Action.INTERCHANGE_EXPORT,
        lambda w, a, tmp: [w.target.number, "--out", str(tmp / "vics.json"), "--actor", a],
    ),
    "share_exhibit": Command(Action.EXHIBIT_SHARE, _case("E-003"), member=_sees_only_shared("NotFound")),
    "withdraw_exhibit": Command(Action.EXHIBIT_SHARE, _case("E-001", "--reason", "the matrix withdraws")),
    "break_glass open": Command(
        ADMIN,
        lambda w, a, tmp: ["open", w.target.number, "--actor", a, "--reason", "the matrix", "--minutes", "5"],
    ),
    # The holder or the case lead ends a grant; to anyone else it is a grant they cannot see.
    "break_glass end": Command(
        Action.BREAK_GLASS_SEE,
        lambda w, a, tmp: ["end", str(w.grant.pk), "--actor", a],
        outsider=NOT_FOUND,
        member=by_action(Action.BREAK_GLASS_SEE, OK, NOT_FOUND),
    ),
    "break_glass list": Command(OWN, lambda w, a, tmp: ["list", "--actor", a]),
    # ``target.supervisor`` holds the supervisor global role (matrix_world).
    "unit": Command(ADMIN, lambda w, a, tmp: ["supervise", "Matrix unit", "target.supervisor", "--actor", a]),
    "reembed_reference_photos": Command(ADMIN, lambda w, a, tmp: ["--actor", a]),
    "validate_detector": Command(
        ADMIN,
        lambda w, a, tmp: ["file-hashes", "--csv", str(_labels(tmp)), "--actor", a],
        allowed="RejectedInput",
    ),
    # D-001 (``ordered_world``): requested by the lead; the other steps follow their order.
    "destruction request": Command(
        Action.DESTRUCTION_REQUEST,
        lambda w, a, tmp: [
            "request",
            w.target.number,
            "--items",
            str(w.item.pk),
            "--legal-basis",
            "court order 17",
            "--court-order",
            "17",
            "--actor",
            a,
        ],
    ),
    "destruction show": Command(Action.DESTRUCTION_READ, _order("show")),
    # The authoriser also holds the supervisor global role, which no caller here holds.
    "destruction authorise": Command(
        Action.DESTRUCTION_AUTHORISE, _order("authorise"), member={role: DENIED for role in ROLES}
    ),
    "destruction witness": Command(Action.DESTRUCTION_WITNESS, _order("witness"), allowed="RejectedInput"),
    "destruction execute": Command(Action.DESTRUCTION_REQUEST, _order("execute"), allowed="RejectedInput"),
    # D-001 is not executed: nothing of it was erased, the lead is told so.
    "destruction finish": Command(Action.DESTRUCTION_REQUEST, _order("finish"), allowed="RejectedInput"),
    "destruction refuse": Command(
        Action.DESTRUCTION_AUTHORISE,
        _order("refuse", "--reason", "r"),
        member={role: DENIED for role in ROLES},
    ),
    # The certificate names each item's file: not the auditor's. D-001 is not executed: no certificate yet.
    "destruction certificate": Command(
        Action.DESTRUCTION_CERTIFICATE,
        lambda w, a, tmp: [
            "certificate",
            w.target.number,
            "D-001",
            "--out",
            str(tmp / "c.pdf"),
            "--actor",
            a,
        ],
        allowed="RejectedInput",
    ),
    # TEST-NET-1 (RFC 5737): the capture is recorded, its run refused before any connection, and the
    # command exits 1 to say so; who may not ask meets AccessDenied before any capture is recorded.
    "capture": Command(Action.CAPTURE_REQUEST, _case("http://192.0.2.1/reported"), allowed=f"{EXIT} 1"),
    "search": Command(Action.CASE_SEARCH, _case("target marker")),
    "face_clusters": Command(Action.FACE_CLUSTERS, _case()),
    # V-1 has no reference photo: the lead passes the gate and is told to add one.
    "face_search": Command(Action.FACE_SEARCH, _case("V-1"), allowed="RejectedInput"),
    "procedure seized-list": Command(
        Action.PROCEDURE_RECORD,
        lambda w, a, tmp: [
            "seized-list",
            w.target.number,
            str(w.procedure_item.acquisition_id),
            "--actor",
            a,
        ],
    ),
    "procedure scene-record": Command(
        Action.PROCEDURE_RECORD,
        lambda w, a, tmp: [
            "scene-record",
            w.target.number,
            "--subject",
            "matrix image",
            "--hash",
            "image.E01:SHA-256:" + "cd" * 32,
            "--computed-by",
            "matrix officer",
            "--actor",
            a,
        ],
    ),
    "procedure scene-print": Command(
        Action.PROCEDURE_RECORD, lambda w, a, tmp: ["scene-print", w.target.number, "H-001", "--actor", a]
    ),
    # The bundle is still queued: who may issue is told it is not built yet.
    "procedure export-confirmation": Command(
        Action.PROCEDURE_RECORD,
        lambda w, a, tmp: ["export-confirmation", w.target.number, str(w.bundle.pk), "--actor", a],
        allowed="RejectedInput",
    ),
    "procedure document": Command(
        Action.PROCEDURE_READ,
        lambda w, a, tmp: ["document", w.target.number, "L-001", "--out", str(tmp / "l.pdf"), "--actor", a],
    ),
    "procedure list": Command(
        Action.PROCEDURE_READ, lambda w, a, tmp: ["list", w.target.number, "--actor", a]
    ),
    "procedure mark": Command(
        Action.UNRELATED_MARK,
        lambda w, a, tmp: [
            "mark",
            w.target.number,
            "--items",
            str(w.procedure_item.pk),
            "--reason",
            "access matrix",
            "--actor",
            a,
        ],
    ),
    "procedure unmark": Command(
        Action.UNRELATED_MARK,
        lambda w, a, tmp: [
            "unmark",
            w.target.number,
            str(w.mark.pk),
            "--reason",
            "access matrix",
            "--actor",
            a,
        ],
    ),
    "procedure dispose": Command(
        Action.UNRELATED_DISPOSE,
        lambda w, a, tmp: [
            "dispose",
            w.target.number,
            "--items",
            str(w.mark.item_id),
            "--kind",
            "deleted",
            "--person-searched",
            "matrix person",
            "--confirmation",
            "signed",
            "--actor",
            a,
        ],
    ),
}

OPERATOR: dict[str, str] = {
    "api_token": "issues, lists and revokes a user's API tokens: the operator at the server, for that user",
    "checkpoint": "signs the ledger's next checkpoint: tree sizes and roots, no case's records",
    "create_user": "makes accounts and gives global roles: the administrator's first step",
    "demo": "fills an empty installation with a demonstration case; refuses a database that holds cases",
    "examiner_profile": "records an examiner's qualifications (for reports): the administrator's",
    "first_steps": "prints what to do next on a fresh installation; reads no case",
    "ledger": "prints inclusion and consistency proofs and the ledger's public key: hashes, no case records",
    "totp_enrol": "enrols a staff member's authenticator: the administrator's",
    "verify_bundle": "verifies a bundle file it is given, offline; reads no database",
    "import_bank": "adds hashes to a bank: administrators run banks, no case content; --actor records who",
    "import_model": "installs a detector model pack: the administrator's; --actor only records who",
    "model_packs": "lists, enables and disables model packs: the administrator's; --actor only records who",
    "face_index": "rebuilds or reports the face index, derived data: counts only, no case content",
    "search_reindex": "rebuilds the text index, derived data: counts only, changes no evidence, no event",
    "destruction retention": "says whether a case is due under the retention schedule: dates and rules only",
}


def _photo(tmp: Path) -> Path:
    from tests.factories import jpeg_bytes

    path = tmp / "reference.jpg"
    path.write_bytes(jpeg_bytes("astronaut", quality=80))
    return path


def _note(tmp: Path) -> Path:
    path = tmp / "seized-note.txt"
    path.write_bytes(b"a note seized by the matrix")
    return path


def _passphrase(tmp: Path) -> Path:
    path = tmp / "passphrase.txt"
    path.write_text("correct horse battery staple")
    return path


def _labels(tmp: Path) -> Path:
    path = tmp / "labels.csv"
    path.write_text("path,label\n")
    return path


# The commands Django knows


def our_commands() -> dict[str, list[str]]:
    """Every management command of our apps: name → its verbs (empty for a command without verbs)."""
    found: dict[str, list[str]] = {}
    for name, app in get_commands().items():
        if app not in OUR_APPS:
            continue
        parser = load_command_class(app, name).create_parser("manage.py", name)
        verbs: list[str] = []
        for action in parser._actions:
            if action.__class__.__name__ == "_SubParsersAction":
                verbs = sorted(action.choices)
        found[name] = verbs
    return found


FOUND = our_commands()
CALLERS = [(caller, role) for role in ROLES for caller in ("member", "non_member")] + [("admin", "")]
CASES = [(name, caller, role) for name in sorted(COMMANDS) for caller, role in CALLERS]


def test_every_command_has_an_entry() -> None:
    doors = [f"{name} {verb}" if verb else name for name, verbs in FOUND.items() for verb in verbs or [""]]
    missing = sorted(
        d for d in doors if d not in COMMANDS and d not in OPERATOR and d.split()[0] not in OPERATOR
    )
    assert not missing, (
        f"commands without an access-matrix entry (add them to COMMANDS or OPERATOR): {missing}"
    )
    stale = sorted(d for d in [*COMMANDS, *OPERATOR] if d not in doors and d not in FOUND)
    assert not stale, f"entries naming no command of ours: {stale}"
    both = sorted(set(COMMANDS) & set(OPERATOR))
    assert not both, f"a command is either gated or the operator's, not both: {both}"
    for name in (name for name in COMMANDS if not FOUND[name.split()[0]]):  # verbs: in their own parsers
        parser = load_command_class(get_commands()[name.split()[0]], name.split()[0]).create_parser("m", name)
        assert "--actor" in parser.format_help(), f"{name} takes no --actor: it belongs in OPERATOR"


@pytest.fixture(scope="module")
def ordered_world(world: World, django_db_blocker: Any) -> World:
    """The world with a destruction order D-001 of the target's source item, requested by its lead under a
    court order (the case is not yet due)."""
    with django_db_blocker.unblock():
        order = destruction_order_request(
            case=world.target,
            actor=world.owner,
            item_ids=[world.source_item.pk],
            legal_basis="court order 2024-GA-17",
            court_order="2024-GA-17",
        )
        assert order.number == "D-001"
        settle()
    return world


def outcome(name: str, argv: list[str]) -> tuple[str, str]:
    """``OK``, or the name of the project error the command raised (the CLI's exit-code wrapper set aside),
    with its message."""
    command = name.split()[0]
    try:
        call_command(command, *argv, stdout=_Sink(), stderr=_Sink())
    except HaetaeError as exc:
        return type(exc).__name__, exc.message
    except SystemExit as exc:  # a command that reports its own failure by its exit status
        return f"{EXIT} {exc.code}", ""
    return OK, ""


class _Sink:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "caller", "role"), CASES, ids=[" ".join(c).strip() for c in CASES])
def test_command_matrix(
    ordered_world: World,
    callers: dict[tuple[str, str], Any],
    name: str,
    caller: str,
    role: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world, entry = ordered_world, COMMANDS[name]
    # The wrapper turns errors into exit codes (tested in tests/haetae); here the error itself is the answer.
    monkeypatch.setattr(HaetaeCommand, "execute", BaseCommand.execute)
    actor = callers[caller, role]  # made once for the module (tests/access/conftest.py)
    got, message = outcome(name, entry.argv(world, actor.username, tmp_path))
    assert got == entry.expected(caller, role), f"{name} as {caller} {role}: {got}: {message}"
