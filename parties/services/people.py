"""People in a case: pseudonyms, the restricted identity store, and suspects' known accounts.

Identity (name, birth date, contact, identifiers) is sealed with AES-256-GCM under a key derived from the
vault's master key (HKDF-SHA256, its own label), with the case and person ids as associated data: a
ciphertext copied onto another person, or into another case, fails its tag. It is readable only by the
case's leads and, for a victim, by the support worker assigned to their support file; every read is an
IDENTITY_READ custody event with the reader's reason.
"""

import json
import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from access.models import Case, CaseMember
from access.policy import POLICY, Action, role_may
from access.services import case_require_working
from evidence.choices import CustodyAction
from evidence.crypto import MasterKey, master_key
from evidence.custody import EventSpec, custody_append_many
from haetae.db import ledger_transaction, retry_on_conflict
from haetae.errors import AccessDenied, IntegrityFailure, RejectedInput
from parties.choices import PersonKind
from parties.hooks import assigned_worker_id
from parties.models import PSEUDONYM_PREFIX, Person, PersonAccount
from parties.services.channels import platform_require

IDENTITY_SCHEME = b"HID1"
_IDENTITY_KDF_INFO = b"haetae-identity/v1"
IDENTITY_FIELDS = ("name", "birth_date", "contact", "identifiers")


def person_event(person: Person, action: str, actor: User, *, purpose: str = "", **details: Any) -> EventSpec:
    """A case-level event about a person, who is named by pseudonym and id (never by identity)."""
    details = {"person": person.pseudonym, "person_id": person.pk, **details}
    return EventSpec(case_id=person.case_id, action=action, actor=actor, purpose=purpose, details=details)


@dataclass(frozen=True)
class Identity:
    """A person's identifying details, as held (encrypted) in the identity store."""

    name: str = ""
    birth_date: str = ""  # YYYY-MM-DD, or empty
    contact: str = ""
    # Typed identifiers: {"kind": "phone" | "resident_registration" | "account" | …, "value": "…"}.
    identifiers: tuple[tuple[str, str], ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "birth_date": self.birth_date,
            "contact": self.contact,
            "identifiers": [{"kind": kind, "value": value} for kind, value in self.identifiers],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Identity":
        """Validated construction; RejectedInput names the field that is wrong."""
        unknown = sorted(set(data) - set(IDENTITY_FIELDS))
        if unknown:
            raise RejectedInput.for_field(
                unknown[0], f"not an identity field; the fields are {', '.join(IDENTITY_FIELDS)}"
            )
        birth_date = str(data.get("birth_date") or "").strip()
        if birth_date:
            try:
                date.fromisoformat(birth_date)
            except ValueError:
                raise RejectedInput.for_field(
                    "birth_date", f"{birth_date!r} is not a date: write it as YYYY-MM-DD"
                ) from None
        identifiers = []
        for entry in data.get("identifiers") or []:
            if not isinstance(entry, dict) or not str(entry.get("kind", "")).strip() or "value" not in entry:
                raise RejectedInput.for_field(
                    "identifiers", 'each identifier is {"kind": "phone", "value": "010-…"}'
                )
            identifiers.append((str(entry["kind"]).strip(), str(entry["value"]).strip()))
        return cls(
            name=str(data.get("name") or "").strip(),
            birth_date=birth_date,
            contact=str(data.get("contact") or "").strip(),
            identifiers=tuple(identifiers),
        )

    def is_empty(self) -> bool:
        return not (self.name or self.birth_date or self.contact or self.identifiers)


def _identity_key(key: MasterKey) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_IDENTITY_KDF_INFO).derive(key.key)


def _associated_data(person: Person) -> bytes:
    return f"haetae-identity/v1:case={person.case_id}:person={person.pk}".encode()


def identity_seal(*, person: Person, identity: Identity, key: MasterKey | None = None) -> tuple[bytes, str]:
    """The ciphertext of ``identity`` bound to this person and case, and the master key id it used."""
    key = key or master_key()
    nonce = secrets.token_bytes(12)
    plaintext = json.dumps(identity.as_json(), sort_keys=True, ensure_ascii=False).encode()
    sealed = AESGCM(_identity_key(key)).encrypt(nonce, plaintext, _associated_data(person))
    return IDENTITY_SCHEME + nonce + sealed, key.key_id


def identity_open(*, person: Person, key: MasterKey | None = None) -> Identity:
    """Decrypt a person's identity (no access check: callers go through ``identity_read``)."""
    key = key or master_key()
    blob = bytes(person.identity_ciphertext)
    if not blob:
        return Identity()
    if person.identity_key_id and person.identity_key_id != key.key_id:
        raise IntegrityFailure(
            f"the identity of {person.pseudonym} was sealed with master key {person.identity_key_id}, but "
            f"the configured key is {key.key_id}: point HAETAE_MASTER_KEY_FILE at the right key"
        )
    if blob[:4] != IDENTITY_SCHEME or len(blob) < 4 + 12 + 16:
        raise IntegrityFailure(f"the stored identity of {person.pseudonym} is not in a known format")
    try:
        plaintext = AESGCM(_identity_key(key)).decrypt(blob[4:16], blob[16:], _associated_data(person))
    except InvalidTag:
        raise IntegrityFailure(
            f"the stored identity of {person.pseudonym} fails its authentication tag (altered, or moved "
            "from another person)"
        ) from None
    return Identity.from_json(json.loads(plaintext))


def identity_readers(*, person: Person) -> set[int]:
    """User ids who may read this person's identity: the case's leads and a victim's assigned worker.

    The assigned worker must still be on the case team: need-to-know membership comes first.
    """
    member_ids = dict(CaseMember.objects.filter(case_id=person.case_id).values_list("user_id", "role"))
    readers = {user_id for user_id, role in member_ids.items() if role_may(role, Action.IDENTITY_READ)}
    if person.kind == PersonKind.VICTIM:
        worker = assigned_worker_id(person.pk)
        if worker is not None and worker in member_ids:
            readers.add(worker)
    return readers


def identity_may_read(*, person: Person, user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(user.is_authenticated and user.pk in identity_readers(person=person))


def _refuse_identity(person: Person, verb: str) -> AccessDenied:
    who = "the case's lead" + (" and the victim's assigned support worker" if person.kind == "victim" else "")
    return AccessDenied(
        f"only {who} may {verb} the identity of {person.pseudonym}; everyone else works with the pseudonym. "
        "Ask the case lead if you need it."
    )


def _reason_given(reason: str, why: str) -> str:
    """The reader's or writer's reason, stripped; refused when empty (it goes into the custody record)."""
    reason = (reason or "").strip()
    if not reason:
        raise RejectedInput.for_field("reason", f"say why {why}; it goes into the custody record")
    return reason


def identity_read(*, person: Person, actor: User, reason: str) -> Identity:
    """Decrypt a person's identity for an allowed reader; an IDENTITY_READ event records who and why."""
    reason = _reason_given(reason, "you need this person's identity")
    if not identity_may_read(person=person, user=actor):
        raise _refuse_identity(person, "read")
    identity = identity_open(person=person)
    with transaction.atomic():
        custody_append_many(
            [person_event(person, CustodyAction.IDENTITY_READ, actor, purpose=reason, kind=person.kind)]
        )
    return identity


def identity_may_write(*, person: Person, user: User) -> bool:
    """Leads and investigators record identities (write-only for investigators), as may any reader."""
    if identity_may_read(person=person, user=user):
        return True
    return CaseMember.objects.filter(
        case_id=person.case_id, user_id=user.pk, role__in=POLICY[Action.PEOPLE_RECORD]
    ).exists()


def _seal_into(person: Person, identity: Identity) -> list[str]:
    """Seal ``identity`` onto ``person`` (unsaved); returns which fields are filled (names only)."""
    if identity.is_empty():
        person.identity_ciphertext = b""
        person.identity_key_id = ""
    else:
        person.identity_ciphertext, person.identity_key_id = identity_seal(person=person, identity=identity)
    person.identity_changed_at = timezone.now()
    return [f for f in IDENTITY_FIELDS if getattr(identity, f)]


def identity_set(*, person: Person, identity: Identity, actor: User, reason: str) -> Person:
    """Replace a person's identity (write-only for investigators); an IDENTITY_CHANGED event, no values."""
    reason = _reason_given(reason, "the identity changes")
    if not identity_may_write(person=person, user=actor):
        raise _refuse_identity(person, "change")
    with ledger_transaction():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        filled = _seal_into(locked, identity)
        locked.save(update_fields=["identity_ciphertext", "identity_key_id", "identity_changed_at"])
        custody_append_many(
            [person_event(locked, CustodyAction.IDENTITY_CHANGED, actor, purpose=reason, fields=filled)]
        )
    return locked


def _next_pseudonym(case: Case, kind: str) -> tuple[int, str]:
    """The next free pseudonym of this kind in the case; the caller holds the case row lock."""
    last = Person.objects.filter(case=case, kind=kind).aggregate(last=Max("pseudonym_number"))["last"]
    number = (last or 0) + 1
    return number, f"{PSEUDONYM_PREFIX[PersonKind(kind)]}-{number}"


@retry_on_conflict
def person_record(
    *,
    case: Case,
    kind: str,
    actor: User,
    is_minor: bool = False,
    description: str = "",
    identity: Identity | None = None,
) -> Person:
    """Record a person in a case under the next pseudonym of their kind (V-1, V-2 …; S-, W-, P-).

    Pseudonyms are race-free: the case row is locked while the number is chosen, and a unique constraint
    on (case, kind, number) stands behind the lock.
    """
    if kind not in PersonKind.values:
        raise RejectedInput.for_field(
            "kind", f"{kind!r} is not a kind of person; use one of {', '.join(PersonKind.values)}"
        )
    case_require_working(case=case, action="record people")
    try:
        # The ledger lock comes before the case row: the one lock order (docs/ledger.md)
        with ledger_transaction():
            locked = Case.objects.select_for_update(no_key=True).get(pk=case.pk)
            number, pseudonym = _next_pseudonym(locked, kind)
            person = Person.objects.create(
                case=locked,
                kind=kind,
                pseudonym=pseudonym,
                pseudonym_number=number,
                is_minor=is_minor,
                description=description.strip(),
                created_by=actor,
            )
            filled: list[str] = []
            if identity is not None and not identity.is_empty():
                filled = _seal_into(person, identity)
                person.save(update_fields=["identity_ciphertext", "identity_key_id", "identity_changed_at"])
            recorded = person_event(
                person,
                CustodyAction.PERSON_RECORDED,
                actor,
                kind=kind,
                is_minor=is_minor,
                identity_fields=filled,
            )
            custody_append_many([recorded])
    except IntegrityError:
        raise RejectedInput(
            f"another {kind} was recorded in case {case.number} at the same moment: try again"
        ) from None
    return person


def person_update(*, person: Person, actor: User, changes: dict[str, Any]) -> Person:
    """Change a person's minor flag or non-identifying description; a PERSON_RECORDED event lists it."""
    unknown = sorted(set(changes) - {"is_minor", "description"})
    if unknown:
        raise RejectedInput(f"these person fields cannot be changed here: {', '.join(unknown)}")
    case_require_working(case=person.case, action="change people")
    with ledger_transaction():
        locked = Person.objects.select_for_update().get(pk=person.pk)
        changed: dict[str, Any] = {}
        for field, value in changes.items():
            value = value.strip() if isinstance(value, str) else value
            if getattr(locked, field) != value:
                changed[field] = {"from": getattr(locked, field), "to": value}
                setattr(locked, field, value)
        if changed:
            locked.save(update_fields=list(changed))
            custody_append_many([person_event(locked, CustodyAction.PERSON_RECORDED, actor, changed=changed)])
    return locked


def person_account_add(
    *, person: Person, platform: str, handle: str, actor: User, url: str = "", note: str = ""
) -> PersonAccount:
    """Record an account or handle a suspect (or witness, other) is known to use.

    Victims' accounts are identifying: they go into the identity store's identifiers, not here.
    """
    if person.kind == PersonKind.VICTIM:
        raise RejectedInput.for_field(
            "person",
            f"{person.pseudonym} is a victim: their accounts identify them, so record them as identifiers in "
            "the identity store",
        )
    platform_require(platform)
    handle = handle.strip()
    if not handle:
        raise RejectedInput.for_field("handle", "name the account, e.g. @name")
    case_require_working(case=person.case, action="record accounts")
    try:
        with ledger_transaction():
            account = PersonAccount.objects.create(
                person=person,
                platform=platform,
                handle=handle,
                url=url.strip(),
                note=note.strip(),
                added_by=actor,
            )
            added = {"platform": platform, "handle": handle, "url": account.url}
            custody_append_many(
                [person_event(person, CustodyAction.PERSON_RECORDED, actor, account_added=added)]
            )
    except IntegrityError:
        raise RejectedInput.for_field(
            "handle", f"{platform}:{handle} is already recorded for {person.pseudonym}"
        ) from None
    return account
